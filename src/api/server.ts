/**
 * The local control API every running engine serves (headless or console): HTTP/1.1 on a Unix
 * domain socket in the home, mode 0600, so only this user's processes can connect and nothing is
 * reachable from the network; no port to choose, no token to keep. Node's own http server carries
 * it (its header, request and connection limits are what a hostile client meets first); requests
 * are validated with the zod schemas of src/api/protocol.ts. See README "Control API".
 *
 * Nothing a client does can hold the round: answers are built from the engine's published
 * snapshot (already projected), the event stream is written without waiting (a client that stops
 * reading is dropped once its unread output passes a bound), bodies are capped before they are
 * read, slow or half requests time out, and connections beyond a limit are refused.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { chmod, mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Socket } from 'node:net';
import type { CommandResult, EngineApi, EngineEvents, EngineSnapshot, LogEntry, TradeEvent } from '../engine-api.js';
import { apiSocketPath } from './paths.js';
import { LIMITS, isCommandName, parseCommand, type CommandName, type StreamEvent } from './protocol.js';

export interface ApiHost {
  engine: EngineApi;
  /** Log entries after `seq`, or the last `tail` ones (the engine's in-memory ring), oldest first. */
  logs(sinceSeq: number, limit: number, tail?: number): LogEntry[];
  /** Trades at or after `since` (ms), newest first. */
  trades(since: number, limit: number): TradeEvent[];
  /** The `stop` command: the process hosting the engine stops it and exits. */
  requestStop(reason: string): void;
  info: { home: string; pid: number; version: string };
  /** Where the server reports what it refused or dropped (one line each). */
  warn(message: string): void;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const STREAMED: (keyof EngineEvents)[] = ['log', 'job', 'signal', 'trade', 'promotion', 'heartbeat'];
const PING_MS = 15_000;
const CLOSE_WAIT_MS = 3_000;

export class ApiServer {
  private readonly clients = new Set<ServerResponse>();
  /** Every open connection (closeAllConnections misses one the parser has let go of). */
  private readonly sockets = new Set<Socket>();
  private last: EngineSnapshot;
  private readonly offs: (() => void)[] = [];
  private ping: NodeJS.Timeout | null = null;
  /** Connections refused at the cap since the last report (a flood logs two lines, not thousands). */
  private drops: { count: number; timer: NodeJS.Timeout } | null = null;

  private constructor(
    private readonly server: Server,
    readonly path: string,
    private readonly host: ApiHost,
  ) {
    this.last = host.engine.getSnapshot();
  }

  static async listen(host: ApiHost): Promise<ApiServer> {
    const path = apiSocketPath(host.info.home);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    // The caller holds the home lock: a socket file left here belongs to an engine that died.
    await rm(path, { force: true });
    const server = createServer({
      maxHeaderSize: LIMITS.maxHeaderBytes,
      requestTimeout: LIMITS.requestTimeoutMs,
      headersTimeout: LIMITS.headersTimeoutMs,
      keepAliveTimeout: 5_000,
    });
    server.maxConnections = LIMITS.maxConnections;
    const api = new ApiServer(server, path, host);
    server.on('request', (req, res) => {
      api.handle(req, res).catch((err: unknown) => {
        // Never let a request take the engine down: answer 500 if we still can, and say why.
        host.warn(`control API: ${req.method} ${req.url?.slice(0, 80)} failed: ${err instanceof Error ? err.message : String(err)}`);
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket | null) => {
      // Garbage, oversized headers, a request that never completes: answer if possible, then close.
      if (!socket) return;
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      if (socket.writable) socket.end(`HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
    });
    server.on('drop', () => api.dropped());
    server.on('connection', (socket: Socket) => {
      api.sockets.add(socket);
      socket.once('close', () => api.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // bind() happens inside listen(): with this umask the socket is born 0600, with no window
      // in which another user could connect before the chmod below.
      const old = process.umask(0o177);
      try {
        server.listen(path, () => {
          server.off('error', reject);
          resolve();
        });
      } finally {
        process.umask(old);
      }
    });
    await chmod(path, 0o600);
    api.follow();
    return api;
  }

  private dropped(): void {
    if (this.drops) return void this.drops.count++;
    this.host.warn(`control API: a connection beyond ${LIMITS.maxConnections} was refused (more are counted for a minute)`);
    const timer = setTimeout(() => {
      const n = this.drops?.count ?? 0;
      this.drops = null;
      if (n) this.host.warn(`control API: ${n} more connection(s) beyond ${LIMITS.maxConnections} were refused in the last minute`);
    }, 60_000);
    timer.unref();
    this.drops = { count: 0, timer };
  }

  /** Stream the engine's changes to the event-stream clients. */
  private follow(): void {
    const { engine } = this.host;
    this.offs.push(
      engine.subscribe(() => {
        const snap = engine.getSnapshot();
        if (!this.clients.size) {
          this.last = snap;
          return;
        }
        // The store keeps unchanged fields' objects, so a reference check finds what changed.
        // Logs travel as their own events.
        const patch: Partial<EngineSnapshot> = {};
        let any = false;
        for (const k of Object.keys(snap) as (keyof EngineSnapshot)[]) {
          if (k === 'logs' || snap[k] === this.last[k]) continue;
          (patch as Record<string, unknown>)[k] = snap[k];
          any = true;
        }
        this.last = snap;
        if (any) this.broadcast('patch', patch);
      }),
    );
    for (const ev of STREAMED) this.offs.push(engine.on(ev, (payload: unknown) => this.broadcast(ev as StreamEvent, payload)));
    this.ping = setInterval(() => this.writeAll(': ping\n\n'), PING_MS);
    this.ping.unref();
  }

  private broadcast(event: StreamEvent, data: unknown): void {
    if (this.clients.size) this.writeAll(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private writeAll(text: string): void {
    const dropped: number[] = [];
    for (const res of [...this.clients]) {
      // A client that does not read would make us hold its output forever: drop it instead.
      if (res.writableLength > LIMITS.maxBufferedBytes) {
        dropped.push(res.writableLength);
        this.clients.delete(res);
        res.destroy();
        continue;
      }
      res.write(text);
    }
    // Warn only once the client is gone: the warning is a log line, log lines are streamed to the
    // clients, and warning first re-entered this loop for the same client until the stack overflowed.
    for (const unread of dropped) this.host.warn(`control API: an event-stream client stopped reading (${(unread / 1048576).toFixed(1)} MB unread); disconnected`);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://kilo');
      const parts = url.pathname.split('/').filter(Boolean);
      if (parts[0] !== 'v1') throw new HttpError(404, `unknown path ${url.pathname} (the API is under /v1)`);
      const route = parts.slice(1).join('/');
      if (req.method === 'GET') return this.get(route, url, req, res);
      if (req.method === 'POST' && parts[1] === 'commands' && parts.length === 3) return await this.command(parts[2], req, res);
      throw new HttpError(req.method === 'GET' || req.method === 'POST' ? 404 : 405, `no ${req.method} ${url.pathname}`);
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      // A refused body may still be arriving: do not read it. (The socket is detached from the
      // request once the answer is out, so hold on to it now.)
      const socket = req.socket;
      if (status === 413) res.once('finish', () => socket?.destroy());
      this.json(res, status, { ok: false, message: err instanceof Error ? err.message : String(err) });
    }
  }

  private get(route: string, url: URL, req: IncomingMessage, res: ServerResponse): void {
    const limit = Math.min(LIMITS.maxListed, intParam(url, 'limit') ?? LIMITS.maxListed);
    switch (route) {
      case 'health':
        return this.json(res, 200, { ok: true, ...this.host.info, status: this.host.engine.getSnapshot().status });
      case 'snapshot':
        return this.json(res, 200, this.host.engine.getSnapshot());
      case 'trades':
        return this.json(res, 200, { trades: this.host.trades(intParam(url, 'since') ?? -Infinity, limit) });
      case 'logs':
        return this.json(res, 200, { logs: this.host.logs(intParam(url, 'since') ?? 0, limit, intParam(url, 'tail')) });
      case 'events':
        return this.stream(req, res);
      default:
        throw new HttpError(404, `no GET /v1/${route}`);
    }
  }

  private stream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    req.socket.setTimeout(0);
    // The full snapshot first, then patches from the same point on: nothing is missed in between.
    const snap = this.host.engine.getSnapshot();
    this.last = this.clients.size ? this.last : snap;
    res.write(`event: snapshot\ndata: ${JSON.stringify(snap)}\n\n`);
    this.clients.add(res);
    const drop = (): void => void this.clients.delete(res);
    res.on('close', drop);
    res.on('error', drop);
  }

  private async command(name: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!isCommandName(name)) throw new HttpError(404, `unknown command "${name}"`);
    const raw = await readJsonBody(req);
    const parsed = parseCommand(name, raw);
    if (!parsed.ok) throw new HttpError(400, parsed.error);
    const result = await this.run(name, parsed.body as Record<string, unknown>, res);
    this.json(res, 200, result);
  }

  private async run(name: CommandName, b: Record<string, unknown>, res: ServerResponse): Promise<CommandResult> {
    const e = this.host.engine;
    const s = b as { symbol: string; reason?: string; job: string; delta: number; version: string; mode: 'on' | 'off' | 'auto' };
    switch (name) {
      case 'train':
        return e.train({ ...(b as { symbol: string }), reason: s.reason ?? 'operator (control API)' });
      case 'cancel':
        return e.cancelJob(s.job);
      case 'prioritize':
        return e.reprioritize(s.job, s.delta);
      case 'block':
        return e.block(s.symbol, s.reason ?? 'blocked by the operator (control API)');
      case 'unblock':
        return e.unblock(s.symbol);
      case 'pin':
        return e.pinModel(s.version);
      case 'unpin':
        return e.pinModel(null);
      case 'rollback':
        return e.rollback(s.symbol, s.reason ?? 'rolled back by the operator (control API)');
      case 'edge':
        return e.edgeOverride(s.symbol, edgeMode(s.mode), s.reason);
      case 'stop':
        // Answer first: the stop closes this server.
        res.once('finish', () => this.host.requestStop(s.reason ?? 'stop requested through the control API'));
        return { ok: true, message: `stopping the engine (pid ${this.host.info.pid})` };
    }
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    if (res.headersSent) return void res.end();
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  async close(): Promise<void> {
    for (const off of this.offs.splice(0)) off();
    if (this.ping) clearInterval(this.ping);
    if (this.drops) clearTimeout(this.drops.timer);
    for (const res of this.clients) res.end('event: bye\ndata: {}\n\n');
    this.clients.clear();
    // Stop listening, then end every connection; the close callback waits for their sockets to
    // finish closing. It must not wait forever: the engine's stop waits on this, and a promise no
    // handle keeps alive ends the process with Node's silent exit 13.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.host.warn(`control API: ${this.sockets.size} connection(s) still closing after ${CLOSE_WAIT_MS / 1000} s; going on without them`);
        for (const s of this.sockets) s.destroy();
        resolve();
      }, CLOSE_WAIT_MS);
      this.server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      this.server.closeAllConnections();
      for (const s of this.sockets) s.destroy();
    });
    await rm(this.path, { force: true });
  }
}

function intParam(url: URL, name: string): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new HttpError(400, `${name}: expected a number, got "${v.slice(0, 40)}"`);
  return Math.floor(n);
}

/** The JSON body, refused with 413 past the limit (by its length header, or as it arrives). */
async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > LIMITS.maxBodyBytes) throw new HttpError(413, `request body of ${declared} bytes is over the ${LIMITS.maxBodyBytes} byte limit`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > LIMITS.maxBodyBytes) throw new HttpError(413, `request body is over the ${LIMITS.maxBodyBytes} byte limit`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'request body is not JSON');
  }
}

/** The wire's on/off/auto as EngineApi.edgeOverride's true/false/null. */
export const edgeMode = (m: 'on' | 'off' | 'auto'): boolean | null => (m === 'auto' ? null : m === 'on');

/**
 * The client side of the control API: requests over the engine's Unix socket, the event stream,
 * and RemoteEngine - an EngineApi backed by a running engine, so the console can attach to it
 * (`kilo attach`) exactly as it drives an engine of its own. Detaching (RemoteEngine.stop) closes
 * the connection and leaves the engine running.
 */
import { EventEmitter } from 'node:events';
import { request, type IncomingMessage } from 'node:http';
import type { CommandResult, EngineApi, EngineEvents, EngineSnapshot, LogEntry, TradeEvent, TrainRequest } from '../engine-api.js';
import { apiSocketPath } from './paths.js';
import type { CommandBody, CommandName, StreamEvent } from './protocol.js';

/** No engine answers on this home's socket (none runs, or it is not ours to reach). */
export class ApiUnavailableError extends Error {
  constructor(
    readonly socket: string,
    readonly code: string | undefined,
    detail: string,
  ) {
    super(`no engine answers on ${socket} (${detail})`);
    this.name = 'ApiUnavailableError';
  }
}

export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiRequestError';
  }
}

const LOG_TAIL = 300;

export class ApiClient {
  readonly socket: string;

  constructor(
    readonly home: string,
    private readonly timeoutMs = 10_000,
  ) {
    this.socket = apiSocketPath(home);
  }

  private call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          socketPath: this.socket,
          path,
          method,
          timeout: this.timeoutMs,
          headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => {
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {
              return reject(new ApiRequestError(res.statusCode ?? 0, `not JSON from the engine: ${text.slice(0, 120)}`));
            }
            if ((res.statusCode ?? 500) >= 400) return reject(new ApiRequestError(res.statusCode ?? 500, (json as { message?: string }).message ?? `HTTP ${res.statusCode}`));
            resolve(json as T);
          });
          // A connection cut mid-answer (the engine stopping, a timeout) gives no 'end' and, with no
          // listener, no 'error' either: settle here, or the caller waits on nothing forever.
          res.on('error', () => undefined);
          res.on('close', () => {
            if (!res.complete) reject(new ApiUnavailableError(this.socket, 'ECONNRESET', 'the engine closed the connection before its answer was complete'));
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err instanceof ApiRequestError) return reject(err);
        reject(new ApiUnavailableError(this.socket, err.code, err.message));
      });
      req.end(payload);
    });
  }

  health(): Promise<{ ok: boolean; pid: number; version: string; home: string; status: EngineSnapshot['status'] }> {
    return this.call('GET', '/v1/health');
  }
  snapshot(): Promise<EngineSnapshot> {
    return this.call('GET', '/v1/snapshot');
  }
  async trades(since?: number, limit?: number): Promise<TradeEvent[]> {
    const q = new URLSearchParams();
    if (since !== undefined) q.set('since', String(since));
    if (limit !== undefined) q.set('limit', String(limit));
    return (await this.call<{ trades: TradeEvent[] }>('GET', `/v1/trades?${q}`)).trades;
  }
  async logs(o: { since?: number; tail?: number; limit?: number } = {}): Promise<LogEntry[]> {
    const q = new URLSearchParams();
    if (o.since !== undefined) q.set('since', String(o.since));
    if (o.tail !== undefined) q.set('tail', String(o.tail));
    if (o.limit !== undefined) q.set('limit', String(o.limit));
    return (await this.call<{ logs: LogEntry[] }>('GET', `/v1/logs?${q}`)).logs;
  }
  command<N extends CommandName>(name: N, body: CommandBody<N>): Promise<CommandResult> {
    return this.call('POST', `/v1/commands/${name}`, body);
  }

  /**
   * The event stream. `onEvent` gets every event as it arrives; the returned promise settles once
   * the first one (the full snapshot) is in. `onClose` is told when the stream ends for any reason.
   */
  events(onEvent: (event: StreamEvent, data: unknown) => void, onClose: (why: string) => void): Promise<{ close(): void }> {
    return new Promise((resolve, reject) => {
      let opened = false;
      let res: IncomingMessage | null = null;
      const req = request({ socketPath: this.socket, path: '/v1/events', method: 'GET', headers: { accept: 'text/event-stream' } }, (r) => {
        res = r;
        if (r.statusCode !== 200) {
          reject(new ApiRequestError(r.statusCode ?? 0, `event stream refused: HTTP ${r.statusCode}`));
          r.resume();
          return;
        }
        r.setEncoding('utf8');
        let buf = '';
        r.on('data', (chunk: string) => {
          buf += chunk;
          for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            let event = 'message';
            let data = '';
            for (const line of block.split('\n')) {
              if (line.startsWith('event: ')) event = line.slice(7);
              else if (line.startsWith('data: ')) data += line.slice(6);
            }
            if (!data) continue;
            let parsed: unknown;
            try {
              parsed = JSON.parse(data);
            } catch {
              continue;
            }
            onEvent(event as StreamEvent, parsed);
            if (!opened && event === 'snapshot') {
              opened = true;
              resolve({ close: () => req.destroy() });
            }
          }
        });
        r.on('close', () => onClose('the engine closed the stream'));
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (!opened) reject(new ApiUnavailableError(this.socket, err.code, err.message));
        else if (res === null) onClose(err.message);
      });
      req.end();
    });
  }
}

/** Connect to the engine running on `home`, as an EngineApi. */
export async function connectRemote(home: string): Promise<RemoteEngine> {
  const client = new ApiClient(home);
  const health = await client.health();
  const remote = new RemoteEngine(client, health.pid);
  await remote.open();
  return remote;
}

/**
 * An engine in another process, seen through its control API: the snapshot follows the stream
 * (the full one, then patches), events are re-emitted, commands are requests. stop() detaches.
 */
export class RemoteEngine implements EngineApi {
  private snap!: EngineSnapshot;
  private readonly listeners = new Set<() => void>();
  private readonly events = new EventEmitter();
  private stream: { close(): void } | null = null;
  private closedBy: string | null = null;

  constructor(
    private readonly client: ApiClient,
    readonly pid: number,
  ) {
    this.events.setMaxListeners(50);
  }

  get attachedTo(): number {
    return this.pid;
  }

  async open(): Promise<void> {
    this.stream = await this.client.events(
      (event, data) => this.onEvent(event, data),
      (why) => this.onClose(why),
    );
  }

  /** Why the connection ended (null while attached). */
  get closed(): string | null {
    return this.closedBy;
  }

  private set(next: EngineSnapshot): void {
    this.snap = next;
    for (const l of [...this.listeners]) l();
  }

  private onEvent(event: StreamEvent, data: unknown): void {
    switch (event) {
      case 'snapshot':
        return this.set(data as EngineSnapshot);
      case 'patch':
        return this.set({ ...this.snap, ...(data as Partial<EngineSnapshot>) });
      case 'log': {
        // Logs are not in patches: the tail is kept here from the log events.
        const logs = [...this.snap.logs, data as LogEntry].slice(-LOG_TAIL);
        this.set({ ...this.snap, logs });
        this.events.emit('log', data);
        return;
      }
      case 'bye':
        return this.onClose('the engine stopped');
      default:
        this.events.emit(event, data);
    }
  }

  private onClose(why: string): void {
    if (this.closedBy !== null) return;
    this.closedBy = why;
    this.stream = null;
    if (this.snap && this.snap.status !== 'stopped') this.set({ ...this.snap, status: 'stopped' });
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): EngineSnapshot => this.snap;

  on<K extends keyof EngineEvents>(event: K, handler: (...args: EngineEvents[K]) => void): () => void {
    const h = handler as (...args: unknown[]) => void;
    this.events.on(event, h);
    return () => this.events.off(event, h);
  }

  /** The engine already runs. */
  async start(): Promise<void> {}

  /** Detach: close the connection; the engine keeps running. */
  async stop(): Promise<void> {
    this.stream?.close();
    this.onClose('detached');
  }

  /** Ask the engine itself to stop (`:stop`). */
  stopEngine(reason?: string): Promise<CommandResult> {
    return this.client.command('stop', reason === undefined ? {} : { reason });
  }

  train(req: TrainRequest): Promise<CommandResult> {
    const { symbol, models, quick, force, version, reason } = req;
    return this.client.command('train', { symbol, models, quick, force, version, reason });
  }
  cancelJob(job: string): Promise<CommandResult> {
    return this.client.command('cancel', { job });
  }
  reprioritize(job: string, delta: number): Promise<CommandResult> {
    return this.client.command('prioritize', { job, delta });
  }
  block(symbol: string, reason?: string): Promise<CommandResult> {
    return this.client.command('block', reason === undefined ? { symbol } : { symbol, reason });
  }
  unblock(symbol: string): Promise<CommandResult> {
    return this.client.command('unblock', { symbol });
  }
  pinModel(version: string | null): Promise<CommandResult> {
    return version === null ? this.client.command('unpin', {}) : this.client.command('pin', { version });
  }
  rollback(symbol: string, reason?: string): Promise<CommandResult> {
    return this.client.command('rollback', reason === undefined ? { symbol } : { symbol, reason });
  }
  edgeOverride(symbol: string, on: boolean | null, reason?: string): Promise<CommandResult> {
    return this.client.command('edge', { symbol, mode: edgeModeName(on), ...(reason === undefined ? {} : { reason }) });
  }
}

/** EngineApi.edgeOverride's true/false/null as the wire's on/off/auto. */
export const edgeModeName = (on: boolean | null): 'on' | 'off' | 'auto' => (on === null ? 'auto' : on ? 'on' : 'off');

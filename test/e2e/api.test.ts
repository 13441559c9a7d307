/**
 * The control API between real processes: a headless engine (`kilo run --headless`, a trained
 * GRU so the wasm backend is loaded, paper trading every signal) and real clients - the kilo CLI
 * (status, positions, trades, logs, commands) and raw sockets playing a hostile client: another
 * user, garbage, oversized bodies and headers, a flood of connections and a reader that stops
 * reading. The engine must answer the next honest request and its rounds must go on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { apiSocketPath } from '../../src/api/paths.js';
import { ApiClient } from '../../src/api/client.js';

/** The snapshot as `kilo status --json` prints it: the JSON convention's snake_case keys. */
interface SnakeSnapshot {
  origin: string;
  status: string;
  symbols: { symbol: string; model_version: string | null }[];
  portfolio: { trade_count: number };
}
import { hasLock, kilo, serviceHome, startHeadless, type Engine } from './service-helpers.js';

let home = '';
let engine: Engine;
let client: ApiClient;

async function until<T>(fn: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 90_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v as T;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const round = async (): Promise<number> => (await client.snapshot()).round;

/** Raw bytes to the socket; resolves with what came back before the server closed. */
function raw(bytes: Buffer | string, opts: { end?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(apiSocketPath(home));
    let got = '';
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('close', () => resolve(got));
    s.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' || e.code === 'ECONNRESET' ? resolve(got) : reject(e)));
    s.write(bytes, () => opts.end && s.end());
    setTimeout(() => s.destroy(), 30_000).unref();
  });
}

beforeAll(async () => {
  home = await serviceHome(true);
  engine = await startHeadless(home, /control API on /);
  client = new ApiClient(home);
  // Trades on both symbols before the tests look at them.
  await until(async () => (await client.snapshot()).portfolio.tradeCount >= 2, 'two paper trades');
}, 400_000);

afterAll(async () => {
  if (engine && engine.proc.exitCode === null) {
    engine.proc.kill('SIGTERM');
    await engine.exited;
  }
  if (home) await rm(home, { recursive: true, force: true });
});

describe('a real headless engine and real clients', () => {
  it('kilo status, positions and trades answer from the running engine', async () => {
    const st = await kilo(home, ['status', '--json']);
    expect(st.code, st.stderr).toBe(0);
    const s = JSON.parse(st.stdout) as { source: string; pid: number; snapshot: SnakeSnapshot };
    expect(s.source).toBe('engine');
    expect(s.pid).toBe(engine.proc.pid);
    expect(s.snapshot.origin).toBe('engine');
    expect(s.snapshot.status).toBe('running');
    expect(s.snapshot.symbols.map((r) => [r.symbol, r.model_version])).toEqual([
      ['BTC/USDT', '1.0'],
      ['ETH/USDT', null],
    ]);
    const text = await kilo(home, ['status']);
    expect(text.stdout.split('\n')[0]).toMatch(new RegExp(`^kilo engine pid ${engine.proc.pid} running`));

    const pos = JSON.parse((await kilo(home, ['positions', '--json'])).stdout) as { source: string; positions: { symbol: string; entry_price: number; unrealised_pnl: number }[] };
    expect(pos.source).toBe('engine');
    for (const p of pos.positions) {
      expect(p.entry_price).toBeGreaterThan(0);
      expect(Number.isFinite(p.unrealised_pnl)).toBe(true);
    }

    const tr = JSON.parse((await kilo(home, ['trades', '--json', '--limit', '500'])).stdout) as { source: string; trades: { at: number; symbol: string; side: string; reason: string }[] };
    expect(tr.source).toBe('engine');
    expect(tr.trades.length).toBeGreaterThanOrEqual(2);
    for (const t of tr.trades) expect(t.reason).toMatch(/confidence .* threshold/);
    // Newest first, and --since cuts at a market time.
    expect([...tr.trades].sort((a, b) => b.at - a.at)).toEqual(tr.trades);
    const cut = tr.trades[Math.floor(tr.trades.length / 2)].at;
    const since = JSON.parse((await kilo(home, ['trades', '--json', '--since', new Date(cut).toISOString()])).stdout) as { trades: { at: number }[] };
    expect(since.trades.length).toBeGreaterThan(0);
    expect(since.trades.every((t) => t.at >= cut)).toBe(true);

    const logs = await kilo(home, ['logs', '-n', '5', '--level', 'info']);
    expect(logs.code).toBe(0);
    expect(logs.stdout.trim().split('\n').length).toBeLessThanOrEqual(5);
    expect(logs.stdout).toMatch(/ INFO /);
  }, 300_000);

  it('operator commands through the API change the running engine', async () => {
    expect(await client.command('block', { symbol: 'ETH/USDT', reason: 'api test' })).toEqual({ ok: true, message: 'ETH/USDT blocked' });
    await until(async () => (await client.snapshot()).symbols.find((r) => r.symbol === 'ETH/USDT')?.state === 'blocked', 'ETH blocked');
    expect((await client.snapshot()).symbols.find((r) => r.symbol === 'ETH/USDT')?.stateReason).toMatch(/api test/);
    expect((await client.command('unblock', { symbol: 'ETH/USDT' })).ok).toBe(true);
    await until(async () => (await client.snapshot()).symbols.find((r) => r.symbol === 'ETH/USDT')?.state !== 'blocked', 'ETH unblocked');

    expect((await client.command('pin', { version: '1.0' })).message).toBe('pinned 1.0');
    expect((await client.snapshot()).pinnedVersion).toBe('1.0');
    expect((await client.command('pin', { version: '9.9' })).ok).toBe(false);
    expect((await client.command('unpin', {})).ok).toBe(true);
    // Only one BTC version exists: nothing to roll back to, and the answer says why.
    const rb = await client.command('rollback', { symbol: 'BTC/USDT' });
    expect(rb.ok).toBe(false);
    expect(rb.message).toMatch(/no earlier version/);
    // The CLI's --rollback reaches the running engine through the API (no lock to take).
    const cliRb = await kilo(home, ['models', '--rollback', 'BTC/USDT']);
    expect(cliRb.code).toBe(1);
    expect(cliRb.stdout).toMatch(/no earlier version/);

    const t = await client.command('train', { symbol: 'ETH/USDT', quick: true, reason: 'api test' });
    expect(t.ok, t.message).toBe(true);
    expect((await client.command('cancel', { job: 'ETH/USDT' })).ok).toBe(true);
    await until(async () => (await client.snapshot()).jobs.find((j) => j.symbol === 'ETH/USDT')?.state === 'cancelled', 'ETH job cancelled');
    // A bad request is refused naming the key, and changes nothing.
    await expect(client.command('block', { symbol: '../../etc' } as never)).rejects.toThrow(/block: symbol: expected a symbol/);
  }, 300_000);

  it('refuses another user: the socket is 0600 (a control with 0666 shows the test can fail)', async () => {
    const path = apiSocketPath(home);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    if (process.getuid?.() !== 0) return console.warn('not root: cannot start a client as another user; the 0600 mode is checked above');
    // Let "nobody" reach the socket's folder, so the socket's own mode is what refuses it.
    chmodSync(home, 0o755);
    chmodSync(`${home}/data`, 0o755);
    const probe = `require('net').connect(${JSON.stringify(path)}).on('connect', () => { console.log('CONNECTED'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(0); });`;
    const asNobody = () => spawnSync(process.execPath, ['-e', probe], { uid: 65534, gid: 65534, encoding: 'utf8', timeout: 30_000 }).stdout.trim();
    expect(asNobody()).toBe('EACCES');
    chmodSync(path, 0o666);
    expect(asNobody()).toBe('CONNECTED');
    chmodSync(path, 0o600);
    chmodSync(home, 0o700);
    expect((await client.health()).ok).toBe(true);
  }, 120_000);

  it('garbage, oversized bodies and headers are refused; the engine answers the next request and its rounds go on', async () => {
    const before = await round();
    const garbage = await raw(Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) % 256)));
    expect(garbage).toMatch(/^HTTP\/1\.1 400/);
    const notHttp = await raw('{"symbol":"BTC/USDT"}\r\n\r\n');
    expect(notHttp).toMatch(/^HTTP\/1\.1 400/);
    // A declared 50 MB body is refused before it is read.
    const big = await raw(`POST /v1/commands/block HTTP/1.1\r\nHost: k\r\nContent-Type: application/json\r\nContent-Length: 52428800\r\n\r\n{"symbol":`);
    expect(big).toMatch(/^HTTP\/1\.1 413/);
    // A body that grows past the limit without declaring its length (chunked) is cut off too.
    const chunk = 'x'.repeat(8000);
    const chunked = await raw(`POST /v1/commands/block HTTP/1.1\r\nHost: k\r\nTransfer-Encoding: chunked\r\n\r\n${`${(8000).toString(16)}\r\n${chunk}\r\n`.repeat(4)}0\r\n\r\n`);
    expect(chunked).toMatch(/^HTTP\/1\.1 413/);
    const headers = await raw(`GET /v1/health HTTP/1.1\r\nHost: k\r\nX-Junk: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    expect(headers).toMatch(/^HTTP\/1\.1 431/);
    const unknown = await raw('POST /v1/commands/format-disk HTTP/1.1\r\nHost: k\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}', { end: true });
    expect(unknown).toMatch(/^HTTP\/1\.1 404/);
    const notJson = await raw('POST /v1/commands/block HTTP/1.1\r\nHost: k\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello', { end: true });
    expect(notJson).toMatch(/^HTTP\/1\.1 400[\s\S]*not JSON/);
    expect((await client.health()).status).toBe('running');
    await until(async () => (await round()) >= before + 3, 'three more rounds');
  }, 120_000);

  it('a flood of connections is capped and does not stop the engine', async () => {
    const before = await round();
    const sockets: Socket[] = [];
    await Promise.all(
      Array.from({ length: 150 }, () =>
        new Promise<void>((resolve) => {
          const s = connect(apiSocketPath(home));
          sockets.push(s);
          s.on('connect', () => resolve());
          s.on('error', () => resolve());
          s.on('close', () => resolve());
        }),
      ),
    );
    // Connections past the limit are closed by the server at once.
    await until(async () => sockets.filter((s) => s.destroyed || s.readableEnded).length >= 150 - 32, 'connections beyond the cap closed', 30_000);
    for (const s of sockets) s.destroy();
    await until(async () => (await client.health()).ok, 'the API answers again');
    await until(async () => (await round()) >= before + 3, 'rounds go on');
    const log = await client.logs({ tail: 1000 });
    expect(log.some((e) => /connection beyond 32 was refused/.test(e.message))).toBe(true);
  }, 120_000);

  it('a reader that stops reading the event stream does not hold the round, and is dropped once it owes too much', async () => {
    const s = connect(apiSocketPath(home));
    await new Promise<void>((r) => s.on('connect', () => r()));
    s.write('GET /v1/events HTTP/1.1\r\nHost: k\r\n\r\n');
    s.pause(); // never read a byte
    const start = await round();
    // Rounds go on while the stream's output piles up unread...
    await until(async () => (await round()) >= start + 20, 'twenty rounds with a stalled reader', 180_000);
    // ...and the engine lets go of it once the unread output passes its bound.
    await until(async () => (await client.logs({ tail: 1000 })).some((e) => /stopped reading .*disconnected/.test(e.message)), 'the stalled reader dropped', 240_000);
    s.destroy();
    expect((await client.health()).status).toBe('running');
  }, 420_000);

  it('kilo stop ends it cleanly (exit 0, no lock, no socket); with no engine the CLI answers from the files and says so', async () => {
    const last = await client.snapshot();
    const stop = await kilo(home, ['stop', '--reason', 'end of test']);
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toMatch(/stopping the engine/);
    const { code, signal } = await engine.exited;
    expect({ code, signal }, engine.err()).toEqual({ code: 0, signal: null });
    expect(hasLock(home)).toBe(false);
    expect(() => statSync(apiSocketPath(home))).toThrow();
    expect(engine.out()).toMatch(/stop requested: end of test/);

    const st = JSON.parse((await kilo(home, ['status', '--json'])).stdout) as { source: string; note: string; snapshot: SnakeSnapshot };
    expect(st.source).toBe('files');
    expect(st.note).toMatch(/no engine running/);
    expect(st.snapshot.origin).toBe('files');
    expect(st.snapshot.portfolio.trade_count).toBeGreaterThanOrEqual(last.portfolio.tradeCount);
    const tr = JSON.parse((await kilo(home, ['trades', '--json', '--limit', '1000'])).stdout) as { source: string; trades: unknown[] };
    expect(tr.source).toBe('files');
    expect(tr.trades.length).toBeGreaterThanOrEqual(last.portfolio.trades.length);
    const text = await kilo(home, ['positions']);
    expect(text.stdout.split('\n')[0]).toMatch(/^no engine running on .*: from the state files \(saved /);
    const logs = await kilo(home, ['logs', '-n', '3']);
    expect(logs.stderr).toMatch(/no engine running/);
    expect(logs.stdout).toMatch(/kilo engine stopped; state flushed/);
    expect((await kilo(home, ['stop'])).code).toBe(1);
  }, 180_000);
});

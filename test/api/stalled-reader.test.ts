/**
 * The control API's event stream and a client that stops reading (issue 14). The engine's logger
 * streams every log line to the event-stream clients, and the server's own warning about a stalled
 * reader is such a line: dropping the client must not recurse through that warning (it once logged
 * the warning thousands of times in one tick until the stack overflowed, which left the http
 * server's connection count wrong so that `close()` never settled and `kilo stop` ended in Node's
 * exit 13). Real http server on a real Unix socket; the engine is the in-memory fake.
 */
import { connect, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiServer } from '../../src/api/server.js';
import { LIMITS } from '../../src/api/protocol.js';
import { FakeEngine } from '../helpers/fake-engine.js';

const homes: string[] = [];
afterEach(async () => {
  for (const h of homes.splice(0)) await rm(h, { recursive: true, force: true });
});

async function serve(): Promise<{ api: ApiServer; engine: FakeEngine; warnings: string[] }> {
  const home = await mkdtemp(join(tmpdir(), 'kilo-api-'));
  homes.push(home);
  const engine = new FakeEngine();
  const warnings: string[] = [];
  const api = await ApiServer.listen({
    engine,
    logs: () => [],
    trades: () => [],
    requestStop: () => undefined,
    info: { home, pid: process.pid, version: 'test' },
    // As the engine wires it: a warning is a log line, and log lines are streamed.
    warn: (m) => {
      warnings.push(m);
      engine.log('warn', m);
    },
  });
  return { api, engine, warnings };
}

async function stalledReader(path: string): Promise<Socket> {
  const s = connect(path);
  await new Promise<void>((r) => s.on('connect', () => r()));
  s.write('GET /v1/events HTTP/1.1\r\nHost: k\r\n\r\n');
  s.pause();
  return s;
}

describe('control API: a client that stops reading the event stream', () => {
  it('is dropped with one warning, and close() still settles', async () => {
    const { api, engine, warnings } = await serve();
    const s = await stalledReader(api.path);
    s.on('error', () => undefined);
    // Give the server time to register the stream, then pile up more than the bound unread.
    await new Promise((r) => setTimeout(r, 100));
    const line = 'x'.repeat(16 * 1024);
    for (let i = 0; i < (LIMITS.maxBufferedBytes / line.length) * 8 && !warnings.length; i++) {
      engine.log('info', line);
      // Let the socket's buffers fill (the kernel takes some before the writable length grows).
      if (i % 16 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(warnings.filter((w) => /stopped reading/.test(w))).toHaveLength(1);
    // More lines after the drop: nobody left to warn about.
    for (let i = 0; i < 50; i++) engine.log('info', line);
    expect(warnings.filter((w) => /stopped reading/.test(w))).toHaveLength(1);
    const closed = await Promise.race([api.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('still waiting after 10 s'), 10_000))]);
    expect(closed).toBe('closed');
    s.destroy();
  }, 30_000);

  it('close() settles while a stalled reader is still connected', async () => {
    const { api, engine } = await serve();
    const s = await stalledReader(api.path);
    s.on('error', () => undefined);
    await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; i < 8; i++) engine.log('info', 'y'.repeat(8 * 1024));
    const closed = await Promise.race([api.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('still waiting after 10 s'), 10_000))]);
    expect(closed).toBe('closed');
    s.destroy();
  }, 30_000);
});

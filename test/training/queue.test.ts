import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { QUEUE_FILE_NAME, QueueCorruptError, QueueEntryNotFoundError, TrainingQueue } from '../../src/training/queue.js';
import { tempHome } from '../helpers/artifact-fixtures.js';

const T0 = Date.UTC(2026, 5, 1);

async function fresh(clock = new ManualClock(T0)) {
  const dir = await tempHome('kilo-queue-');
  const file = join(dir, QUEUE_FILE_NAME);
  const open = (o: { recoverRunning?: boolean } = {}) => TrainingQueue.open({ file, clock, maxAttempts: 3, backoffBaseMs: 60_000, ...o });
  return { dir, file, clock, open };
}

describe('TrainingQueue', () => {
  it('persists across instances in the seed format, without duplicate active entries', async () => {
    const { file, open, clock } = await fresh();
    const q = await open();
    const a = await q.add('SOL/USDT', { reason: 'new symbol' });
    clock.advance(1000);
    const b = await q.add('LINK/USDT', { priority: 2 });
    const dup = await q.add('SOL/USDT');
    expect([a.added, b.added, dup.added]).toEqual([true, true, false]);
    expect(dup.entry.id).toBe(a.entry.id);
    const raw = JSON.parse(await readFile(file, 'utf8'));
    expect(raw.queued_symbols).toEqual(['SOL/USDT', 'LINK/USDT']);
    expect(raw.queued_at).toEqual({ 'SOL/USDT': new Date(T0).toISOString(), 'LINK/USDT': new Date(T0 + 1000).toISOString() });
    const q2 = await open();
    expect(q2.list().map((e) => [e.id, e.symbol, e.priority, e.state, e.reason])).toEqual([
      ['q1', 'SOL/USDT', 0, 'queued', 'new symbol'],
      ['q2', 'LINK/USDT', 2, 'queued', ''],
    ]);
    // The backup mirrors the last successful write.
    expect(JSON.parse(await readFile(`${file}.bak`, 'utf8'))).toEqual(raw);
  });

  it('orders by priority, then stalest, then oldest; prioritize, cancel and clear', async () => {
    const { open, clock } = await fresh();
    const q = await open();
    await q.add('A/USDT', { lastTrainedAt: T0 - 10_000 });
    clock.advance(10);
    await q.add('B/USDT', { lastTrainedAt: T0 - 99_000 });
    clock.advance(10);
    await q.add('C/USDT');
    clock.advance(10);
    await q.add('D/USDT');
    expect((await q.next(clock.now()))?.symbol).toBe('C/USDT'); // never trained, oldest of those
    await q.prioritize('D/USDT', { value: 5 });
    expect((await q.next(clock.now()))?.symbol).toBe('D/USDT');
    await q.prioritize('q4', { delta: -10 });
    await q.cancel('C/USDT');
    expect((await q.next(clock.now()))?.symbol).toBe('B/USDT'); // stalest trained
    await expect(q.cancel('C/USDT')).rejects.toBeInstanceOf(QueueEntryNotFoundError);
    await expect(q.prioritize('nope', { value: 1 })).rejects.toThrow('no queue entry matches "nope"');
    const b = await q.next(clock.now());
    await q.markRunning(b!.id, clock.now());
    expect(await q.clear()).toBe(3);
    expect(q.list().map((e) => [e.symbol, e.state])).toEqual([['B/USDT', 'running']]);
    expect(await q.next(clock.now())).toBeNull();
  });

  it('retries with exponential backoff, then fails for good after max attempts', async () => {
    const { open, clock } = await fresh();
    const q = await open();
    const { entry } = await q.add('SOL/USDT');
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      const e = await q.next(clock.now());
      expect(e?.id).toBe(entry.id);
      await q.markRunning(entry.id, clock.now());
      const after = await q.markFailed(entry.id, `boom ${i}`, clock.now());
      if (after.state === 'queued') {
        delays.push(after.next_attempt_at! - clock.now());
        expect(await q.next(clock.now())).toBeNull(); // waiting out the backoff
        clock.advance(after.next_attempt_at! - clock.now());
      } else {
        expect(after).toMatchObject({ state: 'failed', attempts: 3, last_error: 'boom 2' });
      }
    }
    expect(delays).toEqual([60_000, 120_000]);
    expect(await q.next(clock.now() + 1e9)).toBeNull();
    // A failed symbol can be queued again.
    expect((await q.add('SOL/USDT')).added).toBe(true);
  });

  it('puts entries left running by a crash back in the queue (engine only)', async () => {
    const { open, clock } = await fresh();
    const q = await open();
    const { entry } = await q.add('SOL/USDT');
    await q.markRunning(entry.id, clock.now());
    const viewer = await open();
    expect(viewer.list()[0].state).toBe('running');
    const engine = await open({ recoverRunning: true });
    expect(engine.list()[0]).toMatchObject({ state: 'queued', attempts: 1 });
    expect(engine.warnings).toEqual([`${entry.id} (SOL/USDT) was running when the engine stopped; queued again`]);
  });

  it('recovers a corrupt file from .bak with a warning and keeps the corrupt file', async () => {
    const { dir, file, open } = await fresh();
    const q = await open();
    await q.add('SOL/USDT');
    await q.add('ADA/USDT');
    await writeFile(file, '{"queued_symbols": ["SOL/USDT"], "entr');
    const q2 = await open();
    expect(q2.list().map((e) => e.symbol)).toEqual(['SOL/USDT', 'ADA/USDT']);
    expect(q2.warnings[0]).toMatch(/was corrupt \(malformed JSON: .*\); recovered 2 entries from .*\.bak, corrupt file kept as .*\.corrupt-2026-06-01T00-00-00-000Z/);
    const names = await readdir(dir);
    const aside = names.find((n) => n.includes('.corrupt-'));
    expect(aside).toBeDefined();
    expect(await readFile(join(dir, aside!), 'utf8')).toBe('{"queued_symbols": ["SOL/USDT"], "entr');
    expect(JSON.parse(await readFile(file, 'utf8')).queued_symbols).toEqual(['SOL/USDT', 'ADA/USDT']);
    // A wrong shape counts as corrupt too, and names the key.
    await writeFile(file, JSON.stringify({ queued_symbols: [], queued_at: {}, entries: [{ id: 'q1' }] }));
    const q3 = await open();
    expect(q3.warnings[0]).toMatch(/was corrupt \(entries\.0\.symbol: /);
  });

  it('refuses when both the file and its backup are corrupt, leaving both untouched', async () => {
    const { dir, file, open } = await fresh();
    await writeFile(file, 'not json');
    await writeFile(`${file}.bak`, '{"also": broken');
    const err = await open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueueCorruptError);
    expect((err as Error).message).toContain(file);
    expect(await readFile(file, 'utf8')).toBe('not json');
    expect(await readFile(`${file}.bak`, 'utf8')).toBe('{"also": broken');
    expect((await readdir(dir)).sort()).toEqual([QUEUE_FILE_NAME, `${QUEUE_FILE_NAME}.bak`]);
  });

  it('reads the seed-only format (queued_symbols + queued_at)', async () => {
    const { file, open } = await fresh();
    await writeFile(file, JSON.stringify({ queued_symbols: ['DOT/USDT'], queued_at: { 'DOT/USDT': '2026-05-01T00:00:00.000Z' } }));
    const q = await open();
    expect(q.list()).toMatchObject([{ id: 'q1', symbol: 'DOT/USDT', state: 'queued', added_at: Date.parse('2026-05-01T00:00:00.000Z') }]);
    expect((await q.add('XRP/USDT')).entry.id).toBe('q2');
    expect(existsSync(`${file}.bak`)).toBe(true);
  });

  it('sees entries another instance (another process) added', async () => {
    const { open } = await fresh();
    const engine = await open({ recoverRunning: true });
    const cli = await open();
    await cli.add('SOL/USDT');
    expect((await engine.next(Date.now() + 1e12))?.symbol).toBe('SOL/USDT');
    await engine.add('ADA/USDT');
    await cli.reload();
    expect(cli.list().map((e) => e.symbol)).toEqual(['SOL/USDT', 'ADA/USDT']);
  });
});

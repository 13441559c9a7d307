/**
 * The training queue is changed by several processes (the engine, `kilo queue add`): concurrent
 * writers must never lose an acknowledged entry, duplicate an id, or fail on each other's temp
 * files, and a writer killed while holding the queue lock must not block the others.
 * (Before the lock in src/training/file-lock.ts, 3 writers x 30 adds lost ~7 acknowledged entries.)
 */
import { describe, it, expect, afterAll } from 'vitest';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readQueueFile } from '../../src/training/queue-store.js';
import { withFileLock } from '../../src/training/file-lock.js';
import { freshHome, pollUntil, REPO, startTsScript } from './helpers.js';

const ADDER = join(REPO, 'test/reliability/fixtures/queue-adder.ts');
const homes: string[] = [];
afterAll(async () => {
  for (const h of homes) await rm(h, { recursive: true, force: true });
});

const acks = (stdout: string): string[] => stdout.split('\n').filter((l) => l.startsWith('ack ')).map((l) => l.slice(4));

describe('queue writers in several processes', () => {
  it('3 processes x 25 adds: every acknowledged entry is in the file once, ids unique', async () => {
    const home = await freshHome('qconc');
    homes.push(home);
    const file = join(home, 'data', 'new_symbol_training_queue.json');
    const kids = ['A', 'B', 'C'].map((t) => startTsScript(ADDER, [file, t, '25']));
    const results = await Promise.all(kids.map((k) => k.exited));
    for (const [i, r] of results.entries()) expect(r.code, kids[i].stderr()).toBe(0);
    const acked = kids.flatMap((k) => acks(k.stdout()));
    expect(acked.length).toBe(75);
    const read = await readQueueFile(file);
    expect(read.kind).toBe('ok');
    const entries = read.kind === 'ok' ? read.data.entries : [];
    const inFile = new Set(entries.map((e) => `${e.id} ${e.symbol}`));
    const lost = acked.filter((a) => !inFile.has(a));
    console.log(`[queue] 3 concurrent writers, ${acked.length} acknowledged adds: ${entries.length} entries in the file, ${lost.length} lost, ${entries.length - new Set(entries.map((e) => e.id)).size} duplicate ids`);
    expect(lost).toEqual([]);
    expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);
    expect(entries.length).toBe(75);
  });

  it('a writer killed with SIGKILL while holding the lock does not block the next one', async () => {
    const home = await freshHome('qlock');
    homes.push(home);
    const file = join(home, 'data', 'new_symbol_training_queue.json');
    const first = startTsScript(ADDER, [file, 'K', '100000']);
    // Kill it mid-stream, whatever it was doing (often inside the lock: it is held most of the time).
    await pollUntil(() => acks(first.stdout()).length >= 20, 60_000);
    first.child.kill('SIGKILL');
    await first.exited;
    const second = startTsScript(ADDER, [file, 'L', '3']);
    const r = await second.exited;
    expect(r.code, second.stderr()).toBe(0);
    expect(acks(second.stdout()).length).toBe(3);
    const read = await readQueueFile(file);
    expect(read.kind).toBe('ok');
    for (const a of acks(first.stdout())) expect(read.kind === 'ok' && read.data.entries.some((e) => `${e.id} ${e.symbol}` === a), a).toBe(true);
  });

  it('a lock left by a dead process or an empty lock file is taken over; a live holder is waited for', async () => {
    const home = await freshHome('qlock2');
    homes.push(home);
    const lock = join(home, 'x.lock');
    await writeFile(lock, '999999999 deadbeef'); // no such pid
    expect(await withFileLock(lock, async () => (await readFile(lock, 'utf8')).split(' ')[0])).toBe(String(process.pid));
    let inside = 0;
    let maxInside = 0;
    const work = async (): Promise<void> => {
      inside++;
      maxInside = Math.max(maxInside, inside);
      await new Promise((r) => setImmediate(r));
      inside--;
    };
    await Promise.all(Array.from({ length: 10 }, () => withFileLock(lock, work)));
    expect(maxInside).toBe(1);
    await expect(readFile(lock)).rejects.toThrow(/ENOENT/);
  });
});

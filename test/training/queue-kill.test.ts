/**
 * kill -9 of a CHILD process mid-write loses no committed entry. The child adds entries in a loop
 * and prints each id after its add() resolved; the parent SIGKILLs it at a random moment, then a
 * new TrainingQueue must load cleanly (no recovery needed) with every reported id, once.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../../src/clock.js';
import { QUEUE_FILE_NAME, TrainingQueue } from '../../src/training/queue.js';
import { tempHome } from '../helpers/artifact-fixtures.js';

const QUEUE_MODULE = fileURLToPath(new URL('../../src/training/queue.ts', import.meta.url));
const CLOCK_MODULE = fileURLToPath(new URL('../../src/clock.ts', import.meta.url));

const CHILD = `
const { TrainingQueue } = await import(${JSON.stringify(QUEUE_MODULE)});
const { systemClock } = await import(${JSON.stringify(CLOCK_MODULE)});
const [file, round] = process.argv.slice(-2);
const q = await TrainingQueue.open({ file, clock: systemClock, maxAttempts: 3 });
process.stdout.write('ready\\n');
for (let i = 0; ; i++) {
  const { entry, added } = await q.add('R' + round + 'N' + i + '/USDT', { reason: 'kill test' });
  if (!added) throw new Error('unexpected duplicate');
  process.stdout.write(entry.id + ' ' + entry.symbol + '\\n');
  if (i % 7 === 3) await q.markRunning(entry.id, Date.now());
}
`;

/** Run one child until it has committed at least one entry, kill it after a random extra delay. */
function runAndKill(file: string, round: number): Promise<{ committed: Map<string, string>; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD, file, String(round)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const committed = new Map<string, string>();
    let buf = '';
    let stderr = '';
    let armed = false;
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not commit within 30 s: ${stderr}`));
    }, 30_000);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) {
        const [id, symbol] = line.split(' ');
        if (id && symbol) committed.set(id, symbol);
      }
      if (!armed && committed.size > 0) {
        armed = true;
        // Random moment: sometimes right away, sometimes after dozens of writes.
        setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 300));
      }
    });
    // 'close' fires after stdout is drained, so every full line written before the kill is counted.
    child.on('close', (code, signal) => {
      clearTimeout(deadline);
      if (signal !== 'SIGKILL') reject(new Error(`child exited on its own (code ${code}): ${stderr}`));
      else resolve({ committed, stderr });
    });
  });
}

describe('TrainingQueue under kill -9', () => {
  it('loses no committed entry and duplicates none over repeated kills', async () => {
    const file = join(await tempHome('kilo-queue-kill-'), QUEUE_FILE_NAME);
    const everything = new Map<string, string>();
    const ROUNDS = 8;
    for (let round = 0; round < ROUNDS; round++) {
      const { committed } = await runAndKill(file, round);
      expect(committed.size).toBeGreaterThan(0);
      for (const [id, sym] of committed) everything.set(id, sym);
      const q = await TrainingQueue.open({ file, clock: systemClock, maxAttempts: 3 });
      // The main file was never left half-written: no recovery was needed.
      expect(q.warnings).toEqual([]);
      const entries = q.list();
      const ids = entries.map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(new Set(entries.map((e) => e.symbol)).size).toBe(entries.length);
      const byId = new Map(entries.map((e) => [e.id, e.symbol]));
      for (const [id, sym] of everything) expect(byId.get(id), `entry ${id} (${sym}) after round ${round}`).toBe(sym);
    }
    expect(everything.size).toBeGreaterThanOrEqual(ROUNDS);
  });
});

import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runKilo, tempHome } from '../helpers/artifact-fixtures.js';

describe('kilo queue', () => {
  it('adds, refuses duplicates, prioritizes, cancels and lists, on the file alone', async () => {
    const home = await tempHome();
    const file = join(home, 'data', 'new_symbol_training_queue.json');
    const bad = await runKilo(home, ['queue', 'add', 'not-a-pair']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('symbol: expected a pair like SOL/USDT, got "not-a-pair"');
    expect(existsSync(file)).toBe(false);

    expect((await runKilo(home, ['queue', 'add', 'sol/usdt'])).stdout).toContain('queued SOL/USDT as q1');
    expect((await runKilo(home, ['queue', 'add', 'ADA/USDT', '--priority', '2'])).stdout).toContain('queued ADA/USDT as q2');
    expect((await runKilo(home, ['queue', 'add', 'SOL/USDT'])).stdout).toContain('SOL/USDT is already queued as q1');
    expect((await runKilo(home, ['queue', 'prioritize', 'q1', '7'])).stdout).toContain('q1 (SOL/USDT) priority 7');
    const missing = await runKilo(home, ['queue', 'cancel', 'q42']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no queue entry matches "q42"');
    expect((await runKilo(home, ['queue', 'cancel', 'ADA/USDT'])).stdout).toContain('cancelled q2 (ADA/USDT)');

    const list = JSON.parse((await runKilo(home, ['queue', 'list', '--json'])).stdout);
    expect(list.entries.map((e: { id: string; state: string; priority: number }) => [e.id, e.state, e.priority])).toEqual([
      ['q1', 'queued', 7],
      ['q2', 'cancelled', 2],
    ]);
    const seed = JSON.parse(await readFile(file, 'utf8'));
    expect(seed.queued_symbols).toEqual(['SOL/USDT']);
    const text = await runKilo(home, ['queue']);
    expect(text.stdout).toMatch(/q1\s+SOL\/USDT\s+queued\s+7\s+0/);
    expect((await runKilo(home, ['queue', 'clear'])).stdout).toContain('removed 2 entries');
  });

  it('refuses to touch a queue whose file and backup are both corrupt', async () => {
    const home = await tempHome();
    await mkdir(join(home, 'data'));
    const file = join(home, 'data', 'new_symbol_training_queue.json');
    await writeFile(file, '{oops');
    await writeFile(`${file}.bak`, '');
    const r = await runKilo(home, ['queue', 'add', 'SOL/USDT']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`training queue ${file} is corrupt`);
    expect(await readFile(file, 'utf8')).toBe('{oops');
  });
});

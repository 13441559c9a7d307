import { describe, it, expect, afterAll } from 'vitest';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDoctor } from '../../src/doctor/checks.js';
import { extraChecks } from '../../src/doctor/extra-checks.js';

describe('doctor: queue and registry state', () => {
  const homes: string[] = [];
  afterAll(async () => {
    for (const h of homes) await rm(h, { recursive: true, force: true });
  });
  const home = async (): Promise<string> => {
    const h = await mkdtemp(join(tmpdir(), 'kilo-doc-'));
    homes.push(h);
    await mkdir(join(h, 'data'), { recursive: true });
    return h;
  };
  const run = async (h: string) => (await runDoctor({ home: h, configPath: join(h, 'config.yaml'), skipTf: true, extraChecks: await extraChecks() })).checks;

  it('counts queue entries and reports a corrupt queue with no good copy as a failure', async () => {
    const h = await home();
    const entry = (id: string, symbol: string, state: string) => ({ id, symbol, priority: 0, state, attempts: 0, last_error: null, reason: 'x', next_attempt_at: null, added_at: 1 });
    await writeFile(
      join(h, 'data', 'new_symbol_training_queue.json'),
      JSON.stringify({ queued_symbols: ['A/USDT'], queued_at: {}, entries: [entry('q1', 'A/USDT', 'queued'), entry('q2', 'B/USDT', 'failed')], next_seq: 3 }),
    );
    let q = (await run(h)).find((c) => c.name === 'training queue')!;
    expect(q).toMatchObject({ status: 'ok' });
    expect(q.detail).toMatch(/1 queued, 0 running, 1 failed/);
    await writeFile(join(h, 'data', 'new_symbol_training_queue.json'), '{"queued_symbols": [');
    q = (await run(h)).find((c) => c.name === 'training queue')!;
    expect(q.status).toBe('fail');
    expect(q.detail).toMatch(/new_symbol_training_queue\.json is corrupt/);
  });

  it('lists an incomplete artifact as a warning with its problem', async () => {
    const h = await home();
    const dir = join(h, 'models', 'v1.0', 'BTC-USDT');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'metadata.json'), '{"version": "1.0"');
    const r = (await run(h)).find((c) => c.name === 'model registry')!;
    expect(r.status).toBe('warn');
    expect(r.detail).toMatch(/v1\.0\/BTC-USDT/);
  });
});

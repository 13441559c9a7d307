import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DAY, runKilo, tempHome, writeArtifact } from '../helpers/artifact-fixtures.js';

const syms = (n: number): string[] => Array.from({ length: n }, (_, i) => `S${i}/USDT`);

describe('kilo models', () => {
  it('prints the discovery list and the selection with its score breakdown, as text and JSON', async () => {
    const home = await tempHome();
    const models = join(home, 'models');
    const now = Date.now();
    await writeArtifact(models, { version: '1.0', symbols: ['BTC/USDT'], trainingEnd: now - 100 * DAY });
    await writeArtifact(models, { version: '1.1', mode: 'multi_symbol', symbols: syms(5), trainingEnd: now - 50 * DAY });
    await writeArtifact(models, { version: '2.0', mode: 'multi_symbol', symbols: syms(10), trainingEnd: now - 20 * DAY });
    await writeArtifact(models, { version: '2.1', mode: 'multi_symbol', symbols: syms(12), dropFile: 'gru_model_multi.bin' });
    await writeFile(join(home, 'config.yaml'), 'model:\n  training_mode: multi_symbol\n  symbol_encoding: one_hot\n');

    const text = await runKilo(home, ['models']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('v2.1  INCOMPLETE');
    expect(text.stdout).toContain('problem: gru_model_multi.bin: missing');
    expect(text.stdout).toContain('Config requires: training_mode multi_symbol, symbol encoding one_hot');
    expect(text.stdout).toMatch(/Selected: v2\.0 {2}score 645 = symbols 100 \+ recency 345 \+ version 200/);
    expect(text.stdout).toMatch(/v1\.1 lost: score 466 < 645/);
    expect(text.stdout).toMatch(/v1\.0 rejected: training mode single_symbol, config wants multi_symbol/);

    const json = await runKilo(home, ['models', '--json']);
    expect(json.code).toBe(0);
    const out = JSON.parse(json.stdout);
    expect(out.selected).toBe('2.0');
    expect(out.versions.map((v: { version: string; complete: boolean; selected: boolean }) => [v.version, v.complete, v.selected])).toEqual([
      ['1.0', true, false],
      ['1.1', true, false],
      ['2.0', true, true],
      ['2.1', false, false],
    ]);
  });
});

describe('kilo models --cleanup', () => {
  it('removes old versions beyond the newest N but never the serving, pinned or selected ones', async () => {
    const home = await tempHome();
    const models = join(home, 'models');
    const now = Date.now();
    for (const [v, age] of [['1.0', 400], ['1.1', 300], ['1.2', 200], ['1.3', 5]] as const) {
      await writeArtifact(models, { version: v, symbols: ['BTC/USDT'], trainingEnd: now - age * DAY });
    }
    await mkdir(join(home, 'data'));
    await writeFile(join(home, 'data', 'serving.json'), JSON.stringify({ 'BTC/USDT': '1.0' }));
    await writeFile(join(home, 'config.yaml'), 'model:\n  pinned_version: "1.1"\nresources:\n  cleanup_max_age_days: 30\n  cleanup_keep_top_n: 1\n');
    const dry = await runKilo(home, ['models', '--cleanup', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/would remove v1\.2 \(\d+ KiB\): 200 days old > 30/);
    expect(existsSync(join(models, 'v1.2'))).toBe(true);
    const real = JSON.parse((await runKilo(home, ['models', '--cleanup', '--json'])).stdout);
    expect(real.removed.map((x: { version: string }) => x.version)).toEqual(['1.2']);
    expect(Object.fromEntries(real.kept.map((x: { version: string; reason: string }) => [x.version, x.reason]))).toEqual({
      '1.0': 'serving BTC/USDT',
      '1.1': 'pinned, selected',
      '1.3': 'among the 1 most used (0 uses; ties keep the newer)',
    });
    expect(existsSync(join(models, 'v1.2'))).toBe(false);
  });
});

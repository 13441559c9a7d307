import { describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
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

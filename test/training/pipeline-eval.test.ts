import { describe, it, expect, afterAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { walkForwardFolds, evaluateArtifact, aggregateFolds, EvalInputError } from '../../src/training/pipeline-eval.js';
import { trainSymbolModels } from '../../src/training/pipeline.js';
import { candlesToColumns } from '../../src/training/pipeline-data.js';
import { timeSplit, WARMUP_BARS } from '../../src/features/index.js';
import { loadArtifact } from '../../src/models/artifact.js';
import { SymbolPredictor } from '../../src/models/predictor.js';
import type { Candle } from '../../src/market/types.js';

const DATA = resolve(__dirname, '../../../shared/data/ohlcv');

describe('walkForwardFolds', () => {
  it('gives contiguous test folds that the pipeline split reproduces exactly', () => {
    const folds = walkForwardFolds(3000, 3, { window: 24, horizon: 1, valFraction: 0.15 });
    expect(folds.map((f) => f.end)).toEqual([3000 - 600, 3000 - 300, 3000]);
    for (const f of folds) {
      expect(f.testRows).toBe(300);
      const labelled = f.end - WARMUP_BARS - 1;
      const s = timeSplit(labelled, { validationFraction: 0.15, testFraction: f.testFraction, horizon: 1, window: 24 });
      // the test slice ends at the last labelled row and holds the fold (floor may drop one row)
      expect(s.test.end - s.test.start).toBeGreaterThanOrEqual(299);
      expect(s.test.end - s.test.start).toBeLessThanOrEqual(300);
    }
    expect(() => walkForwardFolds(200, 5, { window: 48, horizon: 1, valFraction: 0.15 })).toThrow(EvalInputError);
    expect(() => walkForwardFolds(3000, 0, { window: 48, horizon: 1, valFraction: 0.15 })).toThrow(/--folds/);
  });

  it('aggregates by samples and compounds PnL', () => {
    const a = aggregateFolds([
      [{ name: 'gbdt', test: { accuracy: 0.5, directional_accuracy: 0.4, pnl_pct: 10, samples: 100 } }],
      [{ name: 'gbdt', test: { accuracy: 0.2, directional_accuracy: 0.1, pnl_pct: -10, samples: 300 } }],
    ]);
    expect(a[0].test.accuracy).toBeCloseTo(0.275, 10);
    expect(a[0].test.pnl_pct).toBeCloseTo(-1, 10);
    expect(a[0].test.samples).toBe(400);
  });
});

describe.skipIf(!existsSync(DATA))('evaluateArtifact on candles after the training end', () => {
  let home = '';
  afterAll(async () => {
    if (home) await rm(home, { recursive: true, force: true });
  });
  it('scores each model, the ensemble and the baselines out of sample', async () => {
    home = await mkdtemp(join(tmpdir(), 'kilo-eval-'));
    const lines = readFileSync(join(DATA, 'BTC-USDT-1h.csv'), 'utf8').trim().split('\n').slice(1).slice(-24 * 100);
    const candles: Candle[] = lines.map((l) => {
      const [timestamp, open, high, low, close, volume] = l.split(',').map(Number);
      return { timestamp, open, high, low, close, volume };
    });
    const cut = 24 * 80;
    const res = await trainSymbolModels({
      kind: 'train', symbols: ['BTC/USDT'], trainingMode: 'single_symbol', symbolEncoding: 'one_hot', models: ['gbdt'],
      profile: { name: 'quick', epochs: 1, patience: 1, trees: 10, data_days: 80, batch_size: 256, ppo_steps: 256 },
      version: '1.0', modelsDir: join(home, 'models'), candles: [candlesToColumns('BTC/USDT', candles.slice(0, cut))],
      timeframe: '1h', window: 12, horizon: 1, labelThreshold: 0.002, valFraction: 0.15, testFraction: 0.15, rnnCell: 'gru', feeRate: 0.001,
    });
    const loaded = await loadArtifact(res.artifactDir!);
    const predictor = new SymbolPredictor(loaded);
    const rows = evaluateArtifact(predictor, 'BTC/USDT', candles, cut, candles.length, { horizon: 1, threshold: 0.002, feeRate: 0.001 });
    expect(rows.map((r) => r.name)).toEqual(['gbdt', 'ensemble', 'base:majority', 'base:persistence', 'base:ta']);
    // the last candle has no forward return: it is not scored
    for (const r of rows) expect(r.test.samples).toBe(candles.length - cut - 1);
    for (const r of rows) expect(r.test.accuracy).toBeGreaterThan(0.1);
    expect(() => evaluateArtifact(predictor, 'BTC/USDT', candles, 10, 50, { horizon: 1, threshold: 0.002, feeRate: 0.001 })).toThrow(/needs \d+ before it/);
  });
});

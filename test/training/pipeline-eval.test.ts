import { describe, it, expect, afterAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { evaluateArtifact } from '../../src/training/pipeline-eval.js';
import { replayCalls, callsFromSignals } from '../../src/evaluation/judge.js';
import { trainSymbolModels } from '../../src/training/pipeline.js';
import { candlesToColumns } from '../../src/training/pipeline-data.js';
import { loadArtifact } from '../../src/models/artifact-load.js';
import { SymbolPredictor } from '../../src/models/predictor.js';
import type { Candle } from '../../src/market/types.js';

const DATA = resolve(__dirname, '../../../shared/data/ohlcv');

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
      timeframe: '1h', window: 12, horizon: 1, labelThreshold: 0.002, valFraction: 0.15, testFraction: 0.15, rnnCell: 'gru', feeRate: 0.001, walkForwardFolds: 0,
    });
    const loaded = await loadArtifact(res.artifactDir!);
    const predictor = new SymbolPredictor(loaded);
    const costs = { feeRate: 0.001, slippageBps: 5, entryThreshold: 0.55 };
    const { rows, fold } = evaluateArtifact(predictor, 'BTC/USDT', candles, cut, candles.length, { horizon: 1, threshold: 0.002, costs });
    expect(rows.map((r) => r.name)).toEqual(['gbdt', 'ensemble', 'base:no_trade', 'base:buy_and_hold', 'base:ta', 'base:majority']);
    // the last candle has no forward return: it is not scored
    for (const r of rows) expect(r.test.samples).toBe(candles.length - cut - 1);
    for (const r of rows.slice(0, 2)) expect(r.test.accuracy).toBeGreaterThan(0.1);
    // The ensemble row is the live predictor's own signals replayed through the broker rule.
    const preds = predictor.predictBatch(candles.slice(cut, -1).map((_, i) => ({ symbol: 'BTC/USDT', candles: candles.slice(0, cut + i + 1) })));
    const again = replayCalls(callsFromSignals(preds), candles.slice(cut).map((c) => c.close), costs);
    expect(fold.replays.ensemble.totalPct).toBeCloseTo(again.totalPct, 10);
    expect(rows.find((r) => r.name === 'ensemble')!.test.pnl_pct).toBeCloseTo(again.totalPct, 10);
    expect(rows.find((r) => r.name === 'base:no_trade')!.test.pnl_pct).toBe(0);
    expect(() => evaluateArtifact(predictor, 'BTC/USDT', candles, 10, 50, { horizon: 1, threshold: 0.002, costs })).toThrow(/needs \d+ before it/);
  });
});

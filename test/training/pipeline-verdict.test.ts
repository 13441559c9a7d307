/**
 * The walk-forward verdict written at training time: fold plans reproduce exactly in the fold
 * models' own splits, and metadata.json's `edge` agrees with figures recomputed independently
 * (buy-and-hold from raw closes, the last fold from the pipeline's own test metrics). On the
 * seeded simulator (a clean clone runs it) and on real candles (skipped only without ../shared).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SimMarketSource } from '../../src/market/sim-source.js';
import { ManualClock } from '../../src/clock.js';
import type { Candle } from '../../src/market/types.js';
import { parseCandleCsv } from '../../src/market/csv.js';
import { buildTrainingData, candlesToColumns } from '../../src/training/pipeline-data.js';
import { foldData, planFolds, lightProfile, MIN_FOLD_TRAIN_ROWS } from '../../src/training/pipeline-verdict.js';
import { gateWindow, MAX_GATE_SHARE, trainSymbolModels } from '../../src/training/pipeline.js';
import type { PipelineJobSpec } from '../../src/training/protocol.js';
import { edgeVerdict } from '../../src/evaluation/edge.js';
import { WARMUP_BARS } from '../../src/features/index.js';

const DATA = resolve(__dirname, '../../../shared/data/ohlcv');
const H = 3_600_000;

async function simCandles(symbol: string, days: number): Promise<Candle[]> {
  const now = Date.UTC(2024, 0, 1);
  const src = new SimMarketSource(42, new ManualClock(now));
  return src.fetchCandles(symbol, '1h', now - days * 24 * H, now);
}

const spec = (modelsDir: string, symbol: string, candles: Candle[], over: Partial<PipelineJobSpec> = {}): PipelineJobSpec => ({
  kind: 'train',
  symbols: [symbol],
  trainingMode: 'single_symbol',
  symbolEncoding: 'one_hot',
  models: ['gbdt'],
  profile: { name: 'quick', epochs: 1, patience: 1, trees: 12, data_days: 200, batch_size: 256, ppo_steps: 256 },
  version: '1.0',
  modelsDir,
  candles: [candlesToColumns(symbol, candles)],
  timeframe: '1h',
  window: 16,
  horizon: 1,
  labelThreshold: 0.002,
  valFraction: 0.15,
  testFraction: 0.15,
  rnnCell: 'gru',
  feeRate: 0.001,
  slippageBps: 5,
  entryThreshold: 0.55,
  walkForwardFolds: 4,
  seed: 5,
  ...over,
});

const dataOpts = { mode: 'single_symbol' as const, encoding: 'one_hot' as const, window: 16, horizon: 1, threshold: 0.002, valFraction: 0.15, testFraction: 0.15, timeframeMs: H };

describe('walk-forward fold plans', () => {
  it('tile the history before the test slice; each fold model trains only on what came before its fold', async () => {
    const candles = await simCandles('BTC/USDT', 200);
    const final = buildTrainingData([{ symbol: 'BTC/USDT', candles }], dataOpts);
    const t = final.parts[0].split.test;
    const L = t.end - t.start;
    const plans = planFolds(final, 4, { window: 16, horizon: 1, valFraction: 0.15 });
    expect(plans.length).toBe(3);
    expect(plans.map((p) => p.test[0])).toEqual([
      { start: t.start - 3 * L, end: t.start - 2 * L },
      { start: t.start - 2 * L, end: t.start - L },
      { start: t.start - L, end: t.start },
    ]);
    for (const plan of plans) {
      const s = spec('/nowhere', 'BTC/USDT', candles);
      const d = foldData([{ symbol: 'BTC/USDT', candles }], plan, s);
      const p = d.parts[0];
      // The fold's own split puts its test slice exactly on the planned rows...
      expect(p.split.test).toEqual(plan.test[0]);
      // ...it was given candles only up to its end (+ the label horizon)...
      expect(p.nRows).toBe(plan.test[0].end + 1);
      expect(p.lastTs).toBe(candles[plan.test[0].end + WARMUP_BARS].timestamp);
      // ...its training rows end a purge gap before its validation, which ends a gap before the test.
      expect(p.split.validation.end + p.split.gap).toBe(plan.test[0].start);
      expect(p.split.train.end - p.split.train.start).toBeGreaterThanOrEqual(MIN_FOLD_TRAIN_ROWS);
      // Same candles, same closes as the final data on the fold's rows.
      expect(Array.from(p.closes.subarray(plan.test[0].start, plan.test[0].end + 1))).toEqual(Array.from(final.parts[0].closes.subarray(plan.test[0].start, plan.test[0].end + 1)));
    }
    // Too little history: the oldest folds are dropped rather than trained on a sliver.
    const short = buildTrainingData([{ symbol: 'BTC/USDT', candles: candles.slice(-24 * 60) }], dataOpts);
    expect(planFolds(short, 4, { window: 16, horizon: 1, valFraction: 0.15 }).length).toBeLessThan(3);
  });

  it('the light recipe is lighter than the profile it comes from', () => {
    const p = lightProfile({ name: 'full', epochs: 50, patience: 10, trees: 200, data_days: 730, batch_size: 256, ppo_steps: 4096 });
    expect(p).toMatchObject({ name: 'quick', epochs: 8, patience: 3, trees: 67, ppo_steps: 683, data_days: 730 });
    // A profile already tiny (tests, a small machine) is never made heavier.
    expect(lightProfile({ name: 'quick', epochs: 1, patience: 1, trees: 6, data_days: 60, batch_size: 256, ppo_steps: 256 })).toMatchObject({ epochs: 1, patience: 1, trees: 6, ppo_steps: 256 });
  });
});

/** Buy-and-hold over one fold from raw closes: in at the first close, out at the close after the last row. */
const buyHoldPct = (closes: number[], from: number, to: number): number => ((closes[to] / closes[from]) * ((0.999 * 0.9995) / (1.001 * 1.0005)) - 1) * 100;

async function checkEdge(symbol: string, candles: Candle[], home: string) {
  const s = spec(join(home, 'models'), symbol, candles);
  const res = await trainSymbolModels(s);
  const m = res.metadata!;
  const edge = m.edge!;
  expect(edge).toBeDefined();
  const e = edge.symbols[symbol];
  expect(edge.recipe.folds).toBe(4);
  expect(e.folds.map((f) => f.recipe)).toEqual(['fold', 'fold', 'fold', 'final']);
  expect(e.subject).toBe('gbdt');
  expect(Object.keys(e.strategies).sort()).toEqual(['buy_and_hold', 'gbdt', 'majority', 'no_trade', 'ta']);
  expect(e.strategies.no_trade!.fold_pnl_pct).toEqual([0, 0, 0, 0]);
  expect(e.rows).toBe(e.folds.reduce((sum, f) => sum + f.rows, 0));
  // Folds are consecutive and the last one is the model's own test slice.
  const idx = (t: number) => candles.findIndex((c) => c.timestamp === t) - WARMUP_BARS;
  for (let k = 1; k < 4; k++) expect(idx(e.folds[k].from)).toBe(idx(e.folds[k - 1].to) + 1);
  expect(e.folds[3].rows).toBe(m.performance.gbdt!.test.samples);
  // The last fold is the same judgement as the pipeline's own test figure.
  expect(e.strategies.gbdt!.fold_pnl_pct[3]).toBeCloseTo(m.performance.gbdt!.test.pnl_pct!, 3);
  expect(e.strategies.ta!.fold_pnl_pct[3]).toBeCloseTo(res.baselines!.ta.test.pnl_pct!, 3);
  // Buy-and-hold per fold, recomputed from the raw closes.
  const closes = candles.map((c) => c.close);
  e.folds.forEach((f, k) => {
    const from = idx(f.from) + WARMUP_BARS;
    const to = idx(f.to) + WARMUP_BARS + 1;
    expect(e.strategies.buy_and_hold!.fold_pnl_pct[k]).toBeCloseTo(buyHoldPct(closes, from, to), 3);
  });
  // The stored verdict is what the pure verdict gives on the stored figures.
  const v = edgeVerdict(e, { confidence: edge.confidence, marginPct: edge.margin_pct, candlesPer30d: edge.candles_per_30d });
  expect(e.verdict).toBe(v.verdict);
  expect(e.reason).toBe(v.reason);
  expect(e.reason).toMatch(new RegExp(`^gbdt [+-]?[\\d.]+ % vs TA [+-]?[\\d.]+ %, no-trade 0 % over ${e.rows.toLocaleString('en-US')} candles \\(90 % bound`));
  // Bounds get lower as the confidence rises.
  const lb = e.strategies.gbdt!.lower_pct_30d;
  expect(lb['0.8']).toBeGreaterThanOrEqual(lb['0.9']);
  expect(lb['0.9']).toBeGreaterThanOrEqual(lb['0.99']);
  expect(lb['0.9']).toBeLessThanOrEqual(e.strategies.gbdt!.mean_pct_30d);
  return { res, e };
}

describe('walk-forward verdict in metadata.json', () => {
  let home: string;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'kilo-verdict-'));
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('on the seeded simulator: per-fold PnL after costs, bounds, baselines and the verdict', async () => {
    const { res } = await checkEdge('BTC/USDT', await simCandles('BTC/USDT', 200), join(home, 'sim'));
    expect(res.notes.some((n) => /^verdict: 3 expanding-window fold model\(s\) \(light recipe\)/.test(n))).toBe(true);
  });

  it.skipIf(!existsSync(DATA))('on real BTC/USDT candles (../shared/data/ohlcv)', async () => {
    const candles = parseCandleCsv(readFileSync(join(DATA, 'BTC-USDT-1h.csv'), 'utf8')).candles.slice(-200 * 24);
    const { e } = await checkEdge('BTC/USDT', candles, join(home, 'real'));
    expect(e.folds[3].to).toBe(candles[candles.length - 2].timestamp);
  });

  it('walk_forward_folds 0 writes no verdict', async () => {
    const candles = await simCandles('ETH/USDT', 120);
    const res = await trainSymbolModels(spec(join(home, 'none', 'models'), 'ETH/USDT', candles, { walkForwardFolds: 0 }));
    expect(res.metadata!.edge).toBeUndefined();
  });

  it('a gate asks for a test slice (the gate window) of at least gate_days', async () => {
    const candles = await simCandles('SOL/USDT', 150);
    const res = await trainSymbolModels(spec(join(home, 'gate', 'models'), 'SOL/USDT', candles, { walkForwardFolds: 1, gate: { championDir: '/x', rows: 10 }, gateDays: 40 }));
    expect(res.metadata!.performance.gbdt!.test.samples).toBe(40 * 24);
    expect(res.metadata!.edge!.symbols['SOL/USDT'].folds).toHaveLength(1);
    expect(res.notes.some((n) => n.startsWith('gate window'))).toBe(false);
  });

  it('with less history than gate_days needs, the gate window shrinks to a share of the rows and training still runs', async () => {
    // 40 days: a 30-day gate window would leave training a negative slice (CI: "leave train -7").
    const candles = await simCandles('SOL/USDT', 40);
    const s = spec(join(home, 'short-gate', 'models'), 'SOL/USDT', candles, { gate: { championDir: '/x', rows: 10 }, gateDays: 30 });
    const usable = candles.length - WARMUP_BARS - 1 - 15 - 2 * 17;
    const res = await trainSymbolModels(s);
    const m = res.metadata!;
    expect(m.performance.gbdt!.test.samples).toBe(Math.floor(usable * MAX_GATE_SHARE));
    expect(m.performance.gbdt!.test.samples).toBeLessThan(30 * 24);
    expect(m.performance.gbdt!.validation.samples).toBe(Math.floor(usable * 0.15));
    expect(res.notes.find((n) => n.startsWith('gate window'))).toMatch(/SOL\/USDT \d+ candles, shorter than the 720/);
    // The verdict still judges the trained model's own (shorter) slice.
    expect(m.edge!.symbols['SOL/USDT'].folds.length).toBeGreaterThanOrEqual(1);
    // Without a gate the configured fraction decides and no window is asked.
    expect(gateWindow({ ...s, gate: undefined }, [{ candles }])).toBeUndefined();
    // Plenty of history: exactly gate_days, not capped.
    const long = gateWindow(s, [{ symbol: 'SOL/USDT', candles: new Array(200 * 24) }])!;
    expect(long).toEqual({ rows: [720], wanted: 720, capped: [] });
  });

  it('too few candles for any split: the refusal names the symbol and its candles', () => {
    const few = Array.from({ length: WARMUP_BARS + 30 }, (_, i) => ({ timestamp: i * H, open: 1, high: 1.01, low: 0.99, close: 1 + (i % 3) * 0.001, volume: 1 }));
    expect(() => buildTrainingData([{ symbol: 'NEW/USDT', candles: few }], dataOpts)).toThrow(/^NEW\/USDT: \d+ candles are too few to train - not enough rows to split/);
  });
});

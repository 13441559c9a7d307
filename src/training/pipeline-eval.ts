/**
 * Walk-forward evaluation helpers for `kilo eval`: fold boundaries for retrain-per-fold runs, and
 * out-of-sample scoring of a saved artifact (each model, the ensemble, the naive baselines) on
 * candles it never saw.
 */
import type { Candle } from '../market/types.js';
import type { ClassMetrics, ModelKind } from '../models/metadata.js';
import { WARMUP_BARS, makeLabels } from '../features/index.js';
import { majorityClass, persistenceClass, taClasses } from '../models/baselines.js';
import { directionClass } from '../models/ensemble.js';
import type { SymbolPredictor } from '../models/predictor.js';
import { argmax3, classMetrics } from './pipeline-metrics.js';

export class EvalInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvalInputError';
  }
}

export interface Fold {
  /** Candles [0, end) are given to the fold's training job. */
  end: number;
  /** Test fraction that makes the job's test slice about `testRows` long. */
  testFraction: number;
  testRows: number;
}

/**
 * N contiguous test folds over the last `testShare` of the candles, each trained on everything
 * before it (expanding window). The pipeline's split puts 2 purge gaps + window-1 rows outside
 * the fractions; the fraction is computed on the rows that remain so the test slice is the fold.
 */
export function walkForwardFolds(nCandles: number, folds: number, o: { window: number; horizon: number; valFraction: number; testShare?: number }): Fold[] {
  if (!Number.isInteger(folds) || folds < 1 || folds > 20) throw new EvalInputError(`--folds must be an integer 1..20, got ${folds}`);
  const share = o.testShare ?? 0.3;
  const foldLen = Math.floor((nCandles * share) / folds);
  const out: Fold[] = [];
  for (let k = 0; k < folds; k++) {
    const end = nCandles - (folds - 1 - k) * foldLen;
    const labelled = end - WARMUP_BARS - o.horizon;
    const usable = labelled - (o.window - 1) - 2 * (o.horizon + o.window);
    const testFraction = foldLen / usable;
    if (foldLen < 10 || usable <= 0 || testFraction + o.valFraction >= 0.9) {
      throw new EvalInputError(`not enough candles (${nCandles}) for ${folds} folds: fold ${k + 1} would test ${foldLen} rows after ${usable} usable rows`);
    }
    out.push({ end, testFraction, testRows: foldLen });
  }
  return out;
}

export type EvalRow = { name: string; test: ClassMetrics };

/**
 * Score a loaded artifact on candles[from..to) (each row predicted from the candles up to it,
 * labelled by its forward return over `horizon`). `history` candles before `from` feed the
 * features and the majority baseline.
 */
export function evaluateArtifact(
  predictor: SymbolPredictor,
  symbol: string,
  candles: readonly Candle[],
  from: number,
  to: number,
  o: { horizon: number; threshold: number; feeRate: number },
): EvalRow[] {
  if (from < predictor.minCandles) throw new EvalInputError(`evaluation starts at candle ${from} but the model needs ${predictor.minCandles} before it`);
  const end = Math.min(to, candles.length - o.horizon);
  if (end - from < 2) throw new EvalInputError(`only ${Math.max(0, end - from)} candles to evaluate`);
  const closes = candles.map((c) => c.close);
  const labels = makeLabels(closes, o.horizon, o.threshold);
  const n = end - from;
  const y = labels.subarray(from, end);
  const fwd = new Float32Array(n);
  for (let i = 0; i < n; i++) fwd[i] = closes[from + i + o.horizon] / closes[from + i] - 1;
  const reqs = Array.from({ length: n }, (_, i) => ({ symbol, candles: candles.slice(Math.max(0, from + i + 1 - predictor.minCandles - 100), from + i + 1) }));
  const preds = predictor.predictBatch(reqs);
  const rows: EvalRow[] = [];
  const kinds: ModelKind[] = ['gbdt', 'gru', 'ppo'];
  for (const k of kinds) {
    if (!preds[0].models[k]) continue;
    const probs = new Float32Array(n * 3);
    preds.forEach((p, i) => {
      const m = p.models[k]!;
      // PPO's [hold, buy, sell] read as [flat, up, down].
      const v = k === 'ppo' ? [(m as { probs: ArrayLike<number> }).probs[2], (m as { probs: ArrayLike<number> }).probs[0], (m as { probs: ArrayLike<number> }).probs[1]] : Array.from(m as ArrayLike<number>);
      probs.set(v, i * 3);
    });
    rows.push({ name: k, test: classMetrics(argmax3(probs, n), y, fwd, o.horizon, o.feeRate, probs) });
  }
  const ens = Uint8Array.from(preds, (p) => directionClass(p.direction));
  rows.push({ name: 'ensemble', test: classMetrics(ens, y, fwd, o.horizon, o.feeRate) });
  const maj = majorityClass(labels.subarray(0, Math.max(0, from - o.horizon)));
  const ta = taClasses(closes);
  rows.push({ name: 'base:majority', test: classMetrics(new Uint8Array(n).fill(maj), y, fwd, o.horizon, o.feeRate) });
  rows.push({ name: 'base:persistence', test: classMetrics(Uint8Array.from({ length: n }, (_, i) => persistenceClass(closes, from + i, o.horizon, o.threshold)), y, fwd, o.horizon, o.feeRate) });
  rows.push({ name: 'base:ta', test: classMetrics(ta.subarray(from, end), y, fwd, o.horizon, o.feeRate) });
  return rows;
}

/** Mean accuracy / directional accuracy and compounded PnL over folds, per row name. */
export function aggregateFolds(folds: EvalRow[][]): EvalRow[] {
  const names = [...new Set(folds.flat().map((r) => r.name))];
  return names.map((name) => {
    const ms = folds.map((f) => f.find((r) => r.name === name)?.test).filter((m): m is ClassMetrics => !!m);
    const samples = ms.reduce((s, m) => s + m.samples, 0);
    const w = (get: (m: ClassMetrics) => number) => (samples ? ms.reduce((s, m) => s + get(m) * m.samples, 0) / samples : 0);
    const pnl = (ms.reduce((e, m) => e * (1 + (m.pnl_pct ?? 0) / 100), 1) - 1) * 100;
    return { name, test: { accuracy: w((m) => m.accuracy), directional_accuracy: w((m) => m.directional_accuracy), pnl_pct: pnl, samples } };
  });
}

/**
 * Champion/challenger scoring on ONE shared window. Runs inside the training worker right after a
 * challenger is written: both artifacts predict the same most recent candles (each with its own
 * saved preprocessor and the same feature code), and both calls are scored against the same
 * labels. The promotion decision itself is the pure policy in src/policy/promotion.ts.
 */
import type { Candle } from '../market/types.js';
import { loadArtifact } from '../models/artifact.js';
import { SymbolPredictor, type PredictRequest } from '../models/predictor.js';
import { makeLabels } from '../features/labels.js';
import { scoreOnWindow, scoreMetricName } from '../policy/promotion.js';
import type { Tf } from '../models/tf-backend.js';

export interface GateScores {
  metric: string;
  rows: number;
  /** From the window's first to last scored candle (ms UTC). */
  window: [number, number];
  /** NaN (never promoted) when a model failed to predict; `errors` says why. */
  scores: Record<string, number>;
  errors: Record<string, string>;
}

export interface GateInput {
  symbol: string;
  candles: readonly Candle[];
  /** Artifact folders to score, e.g. {champion: dir, challenger: dir}. */
  artifacts: Record<string, string>;
  /** Candles at the end of the series to score (the most recent validation window). */
  rows: number;
  horizon: number;
  labelThreshold: number;
  tf?: Tf;
}

export async function scoreOnSharedWindow(input: GateInput): Promise<GateScores> {
  const { candles, horizon } = input;
  const closes = candles.map((c) => c.close);
  const labels = makeLabels(closes, horizon, input.labelThreshold);
  // Rows whose label is known: the last `horizon` candles have no future yet.
  const end = candles.length - horizon;
  const scores: Record<string, number> = {};
  const errors: Record<string, string> = {};
  let start = Math.max(0, end - input.rows);
  const predictors: Record<string, SymbolPredictor> = {};
  for (const [name, dir] of Object.entries(input.artifacts)) {
    try {
      const p = new SymbolPredictor(await loadArtifact(dir, { tf: input.tf }));
      predictors[name] = p;
      start = Math.max(start, p.minCandles - 1);
    } catch (err) {
      errors[name] = (err as Error).message;
      scores[name] = Number.NaN;
    }
  }
  const n = Math.max(0, end - start);
  for (const [name, p] of Object.entries(predictors)) {
    try {
      const reqs: PredictRequest[] = [];
      for (let i = start; i < end; i++) reqs.push({ symbol: input.symbol, candles: candles.slice(Math.max(0, i + 1 - p.minCandles - 200), i + 1) });
      const preds = p.predictBatch(reqs);
      const probs = new Float32Array(n * 3);
      preds.forEach((q, k) => probs.set(q.probs, k * 3));
      scores[name] = scoreOnWindow(probs, labels.subarray(start, end));
    } catch (err) {
      errors[name] = (err as Error).message;
      scores[name] = Number.NaN;
    } finally {
      p.artifact.dispose();
    }
  }
  return {
    metric: scoreMetricName(),
    rows: n,
    window: [candles[start]?.timestamp ?? 0, candles[end - 1]?.timestamp ?? 0],
    scores,
    errors,
  };
}

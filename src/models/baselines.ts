/**
 * Naive baselines a model must beat to be worth anything, plus the TA-only rule the engine falls
 * back to when a symbol has no usable model. Classes: 0 = down, 1 = flat, 2 = up.
 */
import type { Candle } from '../market/types.js';
import type { Direction } from '../engine-api.js';
import { ema, rsi } from '../features/indicators.js';

/** The most common class in the training labels (ties -> flat, then the lower class). */
export function majorityClass(trainLabels: ArrayLike<number>): 0 | 1 | 2 {
  const counts = [0, 0, 0];
  for (let i = 0; i < trainLabels.length; i++) counts[trainLabels[i]]++;
  if (counts[1] >= counts[0] && counts[1] >= counts[2]) return 1;
  return counts[2] > counts[0] ? 2 : 0;
}

/**
 * Persistence: the last move continues. For row i the call is the class of the return from
 * closes[i-horizon] to closes[i] against the same threshold the labels use.
 */
export function persistenceClass(closes: ArrayLike<number>, i: number, horizon: number, threshold: number): 0 | 1 | 2 {
  if (i - horizon < 0) return 1;
  const r = closes[i] / closes[i - horizon] - 1;
  return r > threshold ? 2 : r < -threshold ? 0 : 1;
}

export interface TaSignal {
  direction: Direction;
  /** In [-1, 1]: trend (EMA 12/26 gap) tilted by RSI extremes. */
  score: number;
  confidence: number;
  contributions: { ta: number };
}

export const TA_MIN_CANDLES = 40;
const TA_BAND = 0.15;

/**
 * EMA(12)/EMA(26) trend with RSI(14) mean reversion at the extremes, from closes alone.
 * Fewer than TA_MIN_CANDLES closes -> neutral with zero confidence.
 */
export function taScoreAt(closes: ArrayLike<number>, fast: Float64Array, slow: Float64Array, r: Float64Array, i: number): number {
  if (i < TA_MIN_CANDLES - 1 || Number.isNaN(slow[i]) || Number.isNaN(r[i])) return 0;
  // A 1% EMA gap is a strong trend on hourly bars: scale so it maps to ~0.8 (tanh).
  const trend = Math.tanh(((fast[i] - slow[i]) / closes[i]) * 100);
  const rv = r[i];
  const revert = rv > 70 ? -(rv - 70) / 30 : rv < 30 ? (30 - rv) / 30 : 0;
  return Math.max(-1, Math.min(1, 0.7 * trend + 0.3 * revert));
}

export function taSignal(candles: readonly Candle[]): TaSignal {
  const closes = candles.map((c) => c.close);
  const i = closes.length - 1;
  const score = closes.length < TA_MIN_CANDLES ? 0 : taScoreAt(closes, ema(closes, 12), ema(closes, 26), rsi(closes, 14), i);
  return { direction: taDirection(score), score, confidence: Math.abs(score), contributions: { ta: score } };
}

/**
 * TA score of every index of a close series: what taSignal reports at that candle (EMAs and RSI
 * run over the whole series, so the first ~100 values differ slightly from a short live window).
 * The judgement replays these through the broker's rule as the TA fallback's calls.
 */
export function taScores(closes: ArrayLike<number>): Float64Array {
  const fast = ema(closes, 12);
  const slow = ema(closes, 26);
  const r = rsi(closes, 14);
  const out = new Float64Array(closes.length);
  for (let i = 0; i < closes.length; i++) out[i] = taScoreAt(closes, fast, slow, r, i);
  return out;
}

/** The direction taSignal gives a score (the same band). */
export const taDirection = (score: number): Direction => (score > TA_BAND ? 'bullish' : score < -TA_BAND ? 'bearish' : 'neutral');

/** TA calls (0/1/2) for every index of a close series, for accuracy figures beside the models. */
export function taClasses(closes: ArrayLike<number>): Uint8Array {
  const s = taScores(closes);
  return Uint8Array.from(s, (v) => (v > TA_BAND ? 2 : v < -TA_BAND ? 0 : 1));
}

/**
 * Circular moving-block bootstrap of a mean. Hourly strategy PnL is autocorrelated (a position is
 * held for many candles, volatility clusters), so resampling single candles would understate the
 * uncertainty; blocks of a day or two keep that structure. Seeded: the same vector always gives
 * the same bounds, so a verdict or a promotion is reproducible.
 */
import { mulberry32 } from '../util/random.js';

export interface BootstrapOptions {
  /** Candles per block. */
  blockLength: number;
  /** @default 2000 */
  resamples?: number;
  /** @default BOOTSTRAP_SEED */
  seed?: number;
}

export const BOOTSTRAP_SEED = 20_240_601;
export const DEFAULT_RESAMPLES = 2000;

/**
 * Block length for a timeframe: two days of candles, clamped to [10, 200]. 48 hourly bars spans
 * the daily cycle and the typical holding period of the broker's rule (hours to a day or two).
 */
export function blockLengthFor(timeframeMs: number): number {
  return Math.max(10, Math.min(200, Math.round((2 * 86_400_000) / timeframeMs)));
}

/** Sorted bootstrap means of `x` (ascending). An empty vector gives an empty result. */
export function bootstrapMeans(x: ArrayLike<number>, o: BootstrapOptions): Float64Array {
  const n = x.length;
  const B = o.resamples ?? DEFAULT_RESAMPLES;
  if (n === 0) return new Float64Array(0);
  const L = Math.max(1, Math.min(n, Math.floor(o.blockLength)));
  // prefix[i] = sum of x[0..i); a circular block's sum is O(1) from it.
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i] + x[i];
  const blockSum = (start: number, len: number): number => {
    const end = start + len;
    return end <= n ? prefix[end] - prefix[start] : prefix[n] - prefix[start] + prefix[end - n];
  };
  const rand = mulberry32(o.seed ?? BOOTSTRAP_SEED);
  const means = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    let sum = 0;
    let left = n;
    while (left > 0) {
      const len = Math.min(L, left);
      sum += blockSum(Math.floor(rand() * n), len);
      left -= len;
    }
    means[b] = sum / n;
  }
  return means.sort();
}

/** Lower bound at `confidence` (e.g. 0.9 -> the 10th percentile) of sorted bootstrap means. */
export function lowerBound(sortedMeans: Float64Array, confidence: number): number {
  if (sortedMeans.length === 0) return Number.NaN;
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  const q = 1 - confidence;
  // Lower empirical quantile (type 1): never more optimistic than the resamples support.
  const idx = Math.max(0, Math.ceil(q * sortedMeans.length) - 1);
  return sortedMeans[idx];
}

export const mean = (x: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return x.length ? s / x.length : Number.NaN;
};

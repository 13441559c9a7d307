/**
 * Pure indicator helpers over plain number arrays. Each returns a Float64Array of the input's
 * length with NaN where the look-back is not yet full, so callers can see exactly where an
 * indicator becomes valid (computeFeatures drops those rows).
 */

/** Simple moving average over n values; valid from index n-1. */
export function sma(values: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(values.length).fill(NaN);
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i];
    if (i >= n) sum -= values[i - n];
    if (i >= n - 1) out[i] = sum / n;
  }
  return out;
}

/**
 * Exponential moving average with alpha = 2/(n+1), seeded by the SMA of the first n values
 * (the textbook seed), so it is valid from index `start + n - 1` where `start` is the first
 * non-NaN input (lets MACD's signal line run over the MACD line, which starts with NaNs).
 */
export function ema(values: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(values.length).fill(NaN);
  let start = 0;
  while (start < values.length && Number.isNaN(values[start])) start++;
  if (values.length - start < n) return out;
  const alpha = 2 / (n + 1);
  let seed = 0;
  for (let i = start; i < start + n; i++) seed += values[i];
  let prev = seed / n;
  out[start + n - 1] = prev;
  for (let i = start + n; i < values.length; i++) {
    prev = alpha * values[i] + (1 - alpha) * prev;
    out[i] = prev;
  }
  return out;
}

/**
 * Wilder's RSI in [0, 100]: first average gain/loss is the plain mean of the first n changes,
 * then avg = (prev * (n-1) + current) / n. Valid from index n. No losses -> 100; flat -> 50.
 */
export function rsi(closes: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(closes.length).fill(NaN);
  if (closes.length <= n) return out;
  let gain = 0;
  let loss = 0;
  for (let i = 1; i <= n; i++) {
    const d = closes[i] - closes[i - 1];
    if (d > 0) gain += d;
    else loss -= d;
  }
  gain /= n;
  loss /= n;
  out[n] = rsiValue(gain, loss);
  for (let i = n + 1; i < closes.length; i++) {
    const d = closes[i] - closes[i - 1];
    gain = (gain * (n - 1) + (d > 0 ? d : 0)) / n;
    loss = (loss * (n - 1) + (d < 0 ? -d : 0)) / n;
    out[i] = rsiValue(gain, loss);
  }
  return out;
}

function rsiValue(gain: number, loss: number): number {
  if (loss === 0) return gain === 0 ? 50 : 100;
  return 100 - 100 / (1 + gain / loss);
}

/**
 * Population standard deviation over the last n values; valid from the index where n non-NaN values end.
 * `from`: indices before it are left NaN (not computed), for callers that need only the tail.
 */
export function rollingStd(values: ArrayLike<number>, n: number, from = 0): Float64Array {
  const out = new Float64Array(values.length).fill(NaN);
  for (let i = Math.max(n - 1, from); i < values.length; i++) {
    let s = 0;
    let s2 = 0;
    let ok = true;
    for (let j = i - n + 1; j <= i; j++) {
      const v = values[j];
      if (Number.isNaN(v)) {
        ok = false;
        break;
      }
      s += v;
    }
    if (!ok) continue;
    const mean = s / n;
    for (let j = i - n + 1; j <= i; j++) {
      const d = values[j] - mean;
      s2 += d * d;
    }
    out[i] = Math.sqrt(s2 / n);
  }
  return out;
}

/** Highest value over the last n (inclusive); valid from index n-1 (computed from `from`). */
export function rollingMax(values: ArrayLike<number>, n: number, from = 0): Float64Array {
  const out = new Float64Array(values.length).fill(NaN);
  for (let i = Math.max(n - 1, from); i < values.length; i++) {
    let m = -Infinity;
    for (let j = i - n + 1; j <= i; j++) if (values[j] > m) m = values[j];
    out[i] = m;
  }
  return out;
}

/** Lowest value over the last n (inclusive); valid from index n-1 (computed from `from`). */
export function rollingMin(values: ArrayLike<number>, n: number, from = 0): Float64Array {
  const out = new Float64Array(values.length).fill(NaN);
  for (let i = Math.max(n - 1, from); i < values.length; i++) {
    let m = Infinity;
    for (let j = i - n + 1; j <= i; j++) if (values[j] < m) m = values[j];
    out[i] = m;
  }
  return out;
}

/** Wilder's average true range; TR needs the previous close, so ATR is valid from index n. */
export function atr(high: ArrayLike<number>, low: ArrayLike<number>, close: ArrayLike<number>, n: number): Float64Array {
  const len = close.length;
  const out = new Float64Array(len).fill(NaN);
  if (len <= n) return out;
  const tr = (i: number) =>
    Math.max(high[i] - low[i], Math.abs(high[i] - close[i - 1]), Math.abs(low[i] - close[i - 1]));
  let a = 0;
  for (let i = 1; i <= n; i++) a += tr(i);
  a /= n;
  out[n] = a;
  for (let i = n + 1; i < len; i++) {
    a = (a * (n - 1) + tr(i)) / n;
    out[i] = a;
  }
  return out;
}

/** a / b, but 0 when b is 0 so flat markets (stablecoins, zero volume) give finite features. */
export const safeDiv = (a: number, b: number): number => (b === 0 ? 0 : a / b);

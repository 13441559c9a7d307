/**
 * Pure pieces of paper trading shared by live, replay and backtest so all three turn a signal
 * into an order the same way: the volatility-scaled entry threshold and the order decision.
 */
import type { SignalView } from '../engine-api.js';

/** Volatility ratios beyond these are clamped so one wild symbol cannot disable or unlock trading. */
const MIN_VOL_RATIO = 0.5;
const MAX_VOL_RATIO = 2;
const MAX_THRESHOLD = 0.99;

/**
 * Entry threshold for one symbol: the base confidence scaled by sqrt(symbolVol / medianVol),
 * the ratio clamped to [0.5, 2], the result capped at 0.99. A noisier symbol needs a more
 * confident signal before the broker risks cash on it; a calmer one may enter a little earlier.
 * Missing or non-positive volatilities fall back to the base threshold.
 * Worked: base 0.55, vol 0.04 vs median 0.01 (ratio 4 -> 2) -> 0.55 * sqrt(2) = 0.7778.
 */
export function entryThreshold(symbolVol: number, medianVol: number, base: number): number {
  if (!(symbolVol > 0) || !(medianVol > 0) || !Number.isFinite(symbolVol) || !Number.isFinite(medianVol)) {
    return Math.min(base, MAX_THRESHOLD);
  }
  const ratio = Math.min(MAX_VOL_RATIO, Math.max(MIN_VOL_RATIO, symbolVol / medianVol));
  return Math.min(MAX_THRESHOLD, base * Math.sqrt(ratio));
}

/** Standard deviation of log returns of consecutive closes (per bar, not annualised); 0 for < 3 closes. */
export function realisedVolatility(closes: ArrayLike<number>): number {
  const n = closes.length;
  if (n < 3) return 0;
  let sum = 0;
  let sumSq = 0;
  let count = 0;
  for (let i = 1; i < n; i++) {
    const a = closes[i - 1];
    const b = closes[i];
    if (!(a > 0) || !(b > 0)) continue;
    const r = Math.log(b / a);
    sum += r;
    sumSq += r * r;
    count++;
  }
  if (count < 2) return 0;
  const mean = sum / count;
  return Math.sqrt(Math.max(0, (sumSq - count * mean * mean) / (count - 1)));
}

/** Median of the positive finite values (0 when there are none). */
export function medianOf(values: Iterable<number>): number {
  const xs = [...values].filter((v) => Number.isFinite(v) && v > 0).sort((a, b) => a - b);
  if (xs.length === 0) return 0;
  const mid = xs.length >> 1;
  return xs.length % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
}

export type OrderAction = 'buy' | 'sell' | 'hold';

export interface OrderDecision {
  action: OrderAction;
  reason: string;
}

/**
 * Long-only spot: a confident bullish signal opens a position when flat; a confident bearish
 * signal closes an open position; everything else holds (no pyramiding, no shorting).
 * `position` is the held quantity of the base asset.
 */
export function decideOrder(
  signal: Pick<SignalView, 'direction' | 'confidence'>,
  position: number,
  price: number,
  threshold: number,
): OrderDecision {
  if (!(price > 0) || !Number.isFinite(price)) return { action: 'hold', reason: 'no valid price' };
  if (!Number.isFinite(signal.confidence)) return { action: 'hold', reason: 'signal confidence is not a number' };
  const conf = `confidence ${signal.confidence.toFixed(3)}`;
  const thr = `threshold ${threshold.toFixed(3)}`;
  if (signal.direction === 'neutral') return { action: 'hold', reason: 'neutral signal' };
  if (signal.confidence < threshold) return { action: 'hold', reason: `${signal.direction} ${conf} < ${thr}` };
  if (signal.direction === 'bullish') {
    if (position > 0) return { action: 'hold', reason: `bullish but already long` };
    return { action: 'buy', reason: `bullish ${conf} >= ${thr}` };
  }
  if (position > 0) return { action: 'sell', reason: `bearish ${conf} >= ${thr}` };
  return { action: 'hold', reason: 'bearish but no position (long-only)' };
}

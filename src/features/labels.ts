/** Class ids shared by every model: softmax output k is the probability of class k. */
export const DOWN = 0;
export const FLAT = 1;
export const UP = 2;
export const CLASS_NAMES = ['down', 'flat', 'up'] as const;

/**
 * Label of row t from the simple forward return close[t + horizon] / close[t] - 1:
 * > threshold -> UP (2), < -threshold -> DOWN (0), otherwise FLAT (1).
 * The last `horizon` rows have no future close, so they get no label: the result has
 * closes.length - horizon entries and label i belongs to row i.
 */
export function makeLabels(closes: ArrayLike<number>, horizon: number, threshold: number): Uint8Array {
  if (!Number.isInteger(horizon) || horizon < 1) throw new RangeError(`horizon must be a positive integer, got ${horizon}`);
  if (!(threshold >= 0)) throw new RangeError(`threshold must be >= 0, got ${threshold}`);
  const n = Math.max(0, closes.length - horizon);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const r = closes[i + horizon] / closes[i] - 1;
    out[i] = r > threshold ? UP : r < -threshold ? DOWN : FLAT;
  }
  return out;
}

/** Count of each class, [down, flat, up]. */
export function classCounts(labels: ArrayLike<number>): [number, number, number] {
  const c: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < labels.length; i++) c[labels[i]]++;
  return c;
}

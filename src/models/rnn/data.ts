/** Plain typed-array sequence data as it crosses the worker boundary, and its validation. */
import { RNN_CLASSES } from './model.js';

export interface SequenceData {
  /** n windows, row-major [n, window, nFeatures]. */
  x: Float32Array;
  /** n labels: 0 = down, 1 = flat, 2 = up. */
  y: Uint8Array;
  n: number;
  window: number;
  nFeatures: number;
}

export class RnnInputError extends Error {
  override name = 'RnnInputError';
}

export function validateSequenceData(d: SequenceData, what: string): void {
  for (const k of ['n', 'window', 'nFeatures'] as const) {
    if (!Number.isInteger(d[k]) || d[k] <= 0) throw new RnnInputError(`${what}.${k} must be a positive integer, got ${d[k]}`);
  }
  const want = d.n * d.window * d.nFeatures;
  if (d.x.length !== want) {
    throw new RnnInputError(`${what}.x has ${d.x.length} values, expected n*window*nFeatures = ${d.n}*${d.window}*${d.nFeatures} = ${want}`);
  }
  if (d.y.length !== d.n) throw new RnnInputError(`${what}.y has ${d.y.length} labels, expected n = ${d.n}`);
  for (let i = 0; i < d.y.length; i++) {
    if (d.y[i] >= RNN_CLASSES) throw new RnnInputError(`${what}.y[${i}] = ${d.y[i]} is not a class (0 = down, 1 = flat, 2 = up)`);
  }
  // x * 0 is 0 for every finite value and NaN for NaN/Infinity: one multiply-add per value (a
  // per-value Number.isFinite took ~250 ms on 29 M values, more than a native training epoch's
  // tenth); the slow search for the position runs only when something is wrong.
  const x = d.x;
  let p0 = 0, p1 = 0, p2 = 0, p3 = 0; // four sums: no add waits on the previous one
  const end = x.length - (x.length % 4);
  for (let i = 0; i < end; i += 4) {
    p0 += x[i] * 0;
    p1 += x[i + 1] * 0;
    p2 += x[i + 2] * 0;
    p3 += x[i + 3] * 0;
  }
  for (let i = end; i < x.length; i++) p0 += x[i] * 0;
  if (p0 + p1 + p2 + p3 !== 0) {
    for (let i = 0; i < d.x.length; i++) {
      if (!Number.isFinite(d.x[i])) {
        const row = Math.floor(i / (d.window * d.nFeatures));
        throw new RnnInputError(`${what}.x holds a non-finite value (${d.x[i]}) in window ${row}, feature ${i % d.nFeatures}`);
      }
    }
  }
}

/**
 * Class weights n / (k * count_k), capped at 10 so a near-absent class cannot dominate: without
 * them a 3-class market label set (mostly "flat") collapses to always predicting flat.
 */
export function balancedClassWeights(y: Uint8Array): Record<number, number> {
  const counts = new Array<number>(RNN_CLASSES).fill(0);
  for (const c of y) counts[c]++;
  const w: Record<number, number> = {};
  for (let c = 0; c < RNN_CLASSES; c++) {
    w[c] = counts[c] === 0 ? 1 : Math.min(10, y.length / (RNN_CLASSES * counts[c]));
  }
  return w;
}

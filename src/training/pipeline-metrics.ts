/**
 * Evaluation figures shared by the pipeline and `kilo eval`: accuracy, directional accuracy (on rows
 * whose true label is up or down) and a paper PnL after fees from trading the calls.
 */
import type { ClassMetrics } from '../models/metadata.js';

/**
 * Paper PnL % of a spot long/flat strategy: long over [i, i+horizon] when the call is up, flat
 * otherwise, stepping `horizon` rows at a time so holding periods do not overlap. `fwdReturns[i]` is
 * the simple return over that span; `feeRate` is charged per side on every position change.
 */
export function paperPnlPct(calls: ArrayLike<number>, fwdReturns: ArrayLike<number>, horizon: number, feeRate: number): number {
  let equity = 1;
  let pos = 0;
  for (let i = 0; i < calls.length; i += Math.max(1, horizon)) {
    const next = calls[i] === 2 ? 1 : 0;
    if (next !== pos) equity *= 1 - feeRate;
    pos = next;
    if (pos) equity *= 1 + fwdReturns[i];
  }
  if (pos) equity *= 1 - feeRate;
  return (equity - 1) * 100;
}

export function classMetrics(
  calls: ArrayLike<number>,
  labels: ArrayLike<number>,
  fwdReturns: ArrayLike<number>,
  horizon: number,
  feeRate: number,
  probs?: ArrayLike<number>,
): ClassMetrics {
  if (calls.length !== labels.length || fwdReturns.length !== labels.length) {
    throw new RangeError(`metrics need equal lengths: calls ${calls.length}, labels ${labels.length}, returns ${fwdReturns.length}`);
  }
  const n = labels.length;
  let hit = 0;
  let dirN = 0;
  let dirHit = 0;
  let ll = 0;
  for (let i = 0; i < n; i++) {
    const ok = calls[i] === labels[i];
    if (ok) hit++;
    if (labels[i] !== 1) {
      dirN++;
      if (ok) dirHit++;
    }
    if (probs) ll -= Math.log(Math.max(1e-7, probs[i * 3 + labels[i]]));
  }
  const m: ClassMetrics = {
    accuracy: n ? hit / n : 0,
    directional_accuracy: dirN ? dirHit / dirN : 0,
    pnl_pct: paperPnlPct(calls, fwdReturns, horizon, feeRate),
    samples: n,
  };
  if (probs && n) m.log_loss = ll / n;
  return m;
}

/** argmax over rows of n x 3 probabilities. */
export function argmax3(probs: ArrayLike<number>, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const a = probs[i * 3];
    const b = probs[i * 3 + 1];
    const c = probs[i * 3 + 2];
    out[i] = c > a && c > b ? 2 : a > b ? 0 : 1;
  }
  return out;
}

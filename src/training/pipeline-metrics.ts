/**
 * Evaluation figures of the pipeline and `kilo eval`. The PnL is the judgement's
 * (src/evaluation/judge.ts): calls replayed per symbol through the broker's rule with fees and
 * slippage. Accuracy, directional accuracy and log-loss are secondary figures.
 */
import type { ClassMetrics } from '../models/metadata.js';
import { replayCalls, type Calls, type Costs, type Replay } from '../evaluation/judge.js';
import type { SliceName, TrainingData } from './pipeline-data.js';

/** Accuracy, accuracy on rows whose true label is up or down, and log-loss when probs are given. */
export function classMetrics(calls: ArrayLike<number>, labels: ArrayLike<number>, probs?: ArrayLike<number>): ClassMetrics {
  if (calls.length !== labels.length) throw new RangeError(`metrics need equal lengths: calls ${calls.length}, labels ${labels.length}`);
  if (probs && probs.length !== labels.length * 3) throw new RangeError(`metrics: probs hold ${probs.length} values for ${labels.length} rows x 3`);
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
  const m: ClassMetrics = { accuracy: n ? hit / n : 0, directional_accuracy: dirN ? dirHit / dirN : 0, samples: n };
  if (probs && n) m.log_loss = ll / n;
  return m;
}

/** Adds the judgement's figures of per-symbol replays: mean compounded PnL %, fills, exposure. */
export function withReplays(m: ClassMetrics, replays: Replay[]): ClassMetrics {
  if (replays.length === 0) return m;
  const rows = replays.reduce((s, r) => s + r.pnl.length, 0);
  return {
    ...m,
    pnl_pct: replays.reduce((s, r) => s + r.totalPct, 0) / replays.length,
    trades: replays.reduce((s, r) => s + r.trades, 0),
    exposure: rows ? replays.reduce((s, r) => s + r.exposure * r.pnl.length, 0) / rows : 0,
  };
}

/** The calls of rows k0..k0+n of a concatenated (rowsFor-order) call vector. */
export const callsSlice = (c: Calls, start: number, end: number): Calls => ({
  n: end - start,
  direction: c.direction.subarray(start, end),
  confidence: c.confidence.subarray(start, end),
});

/**
 * Replay calls laid out in rowsFor order (symbol after symbol) over each symbol's own rows of the
 * slice: one replay per symbol, each starting flat.
 */
export function replaySlice(d: TrainingData, slice: SliceName, calls: Calls, costs: Costs): Replay[] {
  const out: Replay[] = [];
  let k = 0;
  for (const p of d.parts) {
    const r = p.split[slice];
    const n = Math.max(0, r.end - r.start);
    if (n > 0) out.push(replayCalls(callsSlice(calls, k, k + n), p.closes.subarray(r.start, r.end + 1), costs));
    k += n;
  }
  if (k !== calls.n) throw new RangeError(`${calls.n} calls for ${k} ${slice} rows`);
  return out;
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

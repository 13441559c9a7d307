/**
 * Baselines on exactly the validation/test rows the models are scored on, judged through the same
 * broker rule: no-trade, buy-and-hold, the TA fallback rule, the majority class and persistence
 * (the last move continues). A class call acts with full confidence.
 */
import type { ClassMetrics } from '../models/metadata.js';
import { majorityClass, persistenceClass, taScores } from '../models/baselines.js';
import { constantCalls, emptyCalls, taCalls, type Calls, type Costs } from '../evaluation/judge.js';
import { labelsFor, type SliceName, type TrainingData } from './pipeline-data.js';
import { classMetrics, replaySlice, withReplays } from './pipeline-metrics.js';

export type BaselineName = 'no_trade' | 'buy_and_hold' | 'majority' | 'persistence' | 'ta';
export type BaselineMetrics = Record<BaselineName, { validation: ClassMetrics; test: ClassMetrics }>;

const classOfCall = (d: number): number => (d > 0 ? 2 : d < 0 ? 0 : 1);

/** A class call (0 down, 1 flat, 2 up) as a call with full confidence. */
export function callsOfClasses(classes: ArrayLike<number>): Calls {
  const c = emptyCalls(classes.length);
  for (let i = 0; i < classes.length; i++) {
    c.direction[i] = classes[i] === 2 ? 1 : classes[i] === 0 ? -1 : 0;
    c.confidence[i] = classes[i] === 1 ? 0 : 1;
  }
  return c;
}

function concatCalls(parts: Calls[]): Calls {
  const n = parts.reduce((s, p) => s + p.n, 0);
  const out = emptyCalls(n);
  let o = 0;
  for (const p of parts) {
    out.direction.set(p.direction, o);
    out.confidence.set(p.confidence, o);
    o += p.n;
  }
  return out;
}

export function baselineMetrics(d: TrainingData, horizon: number, threshold: number, costs: Costs): BaselineMetrics {
  const maj = majorityClass(labelsFor(d, 'train').y);
  const ta = d.parts.map((p) => taScores(p.closes));
  const calls = (slice: SliceName, name: BaselineName): Calls =>
    concatCalls(
      d.parts.map((p, j) => {
        const r = p.split[slice];
        const n = Math.max(0, r.end - r.start);
        switch (name) {
          case 'no_trade':
            return constantCalls(n, 0);
          case 'buy_and_hold':
            return constantCalls(n, 1);
          case 'majority':
            return constantCalls(n, maj === 2 ? 1 : maj === 0 ? -1 : 0);
          case 'ta':
            return taCalls(ta[j], r.start, r.end);
          case 'persistence':
            return callsOfClasses(Uint8Array.from({ length: n }, (_, i) => persistenceClass(p.closes, r.start + i, horizon, threshold)));
        }
      }),
    );
  const score = (slice: SliceName, name: BaselineName): ClassMetrics => {
    const r = labelsFor(d, slice);
    const c = calls(slice, name);
    return withReplays(classMetrics(Uint8Array.from(c.direction, classOfCall), r.y), replaySlice(d, slice, c, costs));
  };
  const both = (name: BaselineName) => ({ validation: score('validation', name), test: score('test', name) });
  return { no_trade: both('no_trade'), buy_and_hold: both('buy_and_hold'), ta: both('ta'), majority: both('majority'), persistence: both('persistence') };
}

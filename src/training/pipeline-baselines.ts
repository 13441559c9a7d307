/** Naive baselines on exactly the validation/test rows the models are scored on. */
import type { ClassMetrics } from '../models/metadata.js';
import { majorityClass, persistenceClass, taClasses } from '../models/baselines.js';
import { rowsFor, type SliceName, type TrainingData } from './pipeline-data.js';
import { classMetrics } from './pipeline-metrics.js';

export type BaselineName = 'majority' | 'persistence' | 'ta';
export type BaselineMetrics = Record<BaselineName, { validation: ClassMetrics; test: ClassMetrics }>;

export function baselineMetrics(d: TrainingData, horizon: number, threshold: number, feeRate: number): BaselineMetrics {
  const maj = majorityClass(rowsFor(d, 'train').y);
  const ta = d.parts.map((p) => taClasses(p.closes));
  const calls = (slice: SliceName, name: BaselineName): Uint8Array => {
    const out: number[] = [];
    d.parts.forEach((p, j) => {
      for (let i = p.split[slice].start; i < p.split[slice].end; i++) {
        out.push(name === 'majority' ? maj : name === 'persistence' ? persistenceClass(p.closes, i, horizon, threshold) : ta[j][i]);
      }
    });
    return Uint8Array.from(out);
  };
  const score = (slice: SliceName, name: BaselineName): ClassMetrics => {
    const r = rowsFor(d, slice);
    return classMetrics(calls(slice, name), r.y, r.fwd, horizon, feeRate);
  };
  const both = (name: BaselineName) => ({ validation: score('validation', name), test: score('test', name) });
  return { majority: both('majority'), persistence: both('persistence'), ta: both('ta') };
}

/**
 * How long a training will take, from measured past trainings (metadata training_duration_s).
 * Each past duration is scaled from its profile to the requested one by the work ratio
 * (epochs x data days), then the median is taken so one odd run does not swing the estimate.
 */
import type { Config, TrainingProfile } from '../config/schema.js';

export interface PastTraining {
  durationS: number;
  /** Profile the past run used; old metadata without one is taken as "full". */
  profile?: 'full' | 'quick';
}

export interface TrainingEstimate {
  seconds: number;
  basis: string;
}

/** Used only when nothing was ever measured, and said so in `basis`. */
export const DEFAULT_TRAINING_ESTIMATE_S = { full: 600, quick: 180 } as const;

const work = (p: TrainingProfile): number => p.epochs * p.data_days;

export function estimateTrainingSeconds(past: readonly PastTraining[], profile: 'full' | 'quick', config: Config): TrainingEstimate {
  const target = work(config.training[profile]);
  const scaled = past
    .filter((p) => Number.isFinite(p.durationS) && p.durationS > 0)
    .map((p) => (p.durationS * target) / work(config.training[p.profile ?? 'full']))
    .sort((a, b) => a - b);
  if (scaled.length === 0) {
    return { seconds: DEFAULT_TRAINING_ESTIMATE_S[profile], basis: `no past training measured; default estimate for the ${profile} profile` };
  }
  const mid = Math.floor(scaled.length / 2);
  const median = scaled.length % 2 ? scaled[mid] : (scaled[mid - 1] + scaled[mid]) / 2;
  return { seconds: Math.round(median), basis: `median of ${scaled.length} past training${scaled.length === 1 ? '' : 's'}, scaled to the ${profile} profile` };
}

/**
 * How long a training will take, from measured past trainings (metadata training_duration_s).
 * Each past duration is scaled from its profile to the requested one by the work ratio
 * (epochs x data days), then the median is taken so one odd run does not swing the estimate.
 */
import type { Config, TrainingProfile } from '../config/schema.js';

export type EstimateProfile = 'full' | 'quick' | 'retrain';

export interface PastTraining {
  durationS: number;
  /** Profile the past run used; old metadata without one is taken as "full". */
  profile?: EstimateProfile;
}

export interface TrainingEstimate {
  seconds: number;
  basis: string;
}

/** Used only when nothing was ever measured, and said so in `basis`. */
export const DEFAULT_TRAINING_ESTIMATE_S = { full: 600, quick: 180, retrain: 300 } as const;

const work = (p: TrainingProfile): number => p.epochs * p.data_days;
/** The retrain recipe is the full profile's epochs over training.retrain_days (src/engine/recipe.ts). */
const profileOf = (config: Config, name: EstimateProfile): TrainingProfile =>
  name === 'retrain' ? { ...config.training.full, data_days: config.training.retrain_days } : config.training[name];

export function estimateTrainingSeconds(past: readonly PastTraining[], profile: EstimateProfile, config: Config): TrainingEstimate {
  const target = work(profileOf(config, profile));
  const scaled = past
    .filter((p) => Number.isFinite(p.durationS) && p.durationS > 0)
    .map((p) => (p.durationS * target) / work(profileOf(config, p.profile ?? 'full')))
    .sort((a, b) => a - b);
  if (scaled.length === 0) {
    return { seconds: DEFAULT_TRAINING_ESTIMATE_S[profile], basis: `no past training measured; default estimate for the ${profile} profile` };
  }
  const mid = Math.floor(scaled.length / 2);
  const median = scaled.length % 2 ? scaled[mid] : (scaled[mid - 1] + scaled[mid]) / 2;
  return { seconds: Math.round(median), basis: `median of ${scaled.length} past training${scaled.length === 1 ? '' : 's'}, scaled to the ${profile} profile` };
}

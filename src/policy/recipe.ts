/**
 * Which training recipe a job runs (PURE): the profile (epochs, patience, trees, PPO steps) and
 * how many days of the most recent history it trains on. The engine, `kilo train` and `kilo
 * signal`'s time estimate all ask this one function, so what an operator is told is what runs.
 * Pure: a function of the request and the config.
 *
 *   training.auto_profile: quick     quick, for everything (a small machine)
 *   --quick / a request for quick    quick
 *   retrain (the retrain policy)     retrain: the last training.retrain_days days with the full
 *                                    profile's epochs and patience (early stopping keeps the best weights)
 *   new symbol (coverage queue)      full, over the history policy (model.target_history_days)
 *   operator, on demand              quick_train tier: quick (kilo signal's tier 2); otherwise full
 */
import type { Config, TrainingProfile } from '../config/schema.js';
import type { AssetTier } from '../engine-api.js';
import type { QueueTrigger } from '../training/queue-store.js';

export type RecipeName = 'full' | 'retrain' | 'quick';

export interface Recipe {
  name: RecipeName;
  /** What the worker trains with; `name` travels into metadata.json as `profile`. */
  profile: TrainingProfile & { name: RecipeName };
  /** Days of history asked for, up to market now. */
  days: number;
  reason: string;
}

export interface RecipeInput {
  trigger: QueueTrigger;
  /** The request's own choice: true = --quick, false = the designed recipe, undefined = not said. */
  quick?: boolean;
  tier: AssetTier;
}

export function chooseRecipe(i: RecipeInput, config: Pick<Config, 'training' | 'model'>): Recipe {
  const t = config.training;
  const target = config.model.target_history_days;
  const make = (name: RecipeName, base: TrainingProfile, days: number, reason: string): Recipe => ({
    name,
    profile: { ...base, data_days: days, name },
    days,
    reason,
  });
  const quick = (why: string): Recipe => make('quick', t.quick, Math.min(target, t.quick.data_days), `quick profile: ${why}`);
  if (t.auto_profile === 'quick') return quick('training.auto_profile is quick');
  if (i.quick === true) return quick('asked for (--quick)');
  if (i.trigger === 'retrain') {
    return make('retrain', t.full, Math.min(target, t.retrain_days), `retrain recipe: the last ${Math.min(target, t.retrain_days)} days (training.retrain_days), up to ${t.full.epochs} epochs, patience ${t.full.patience}`);
  }
  const full = (why: string): Recipe => make('full', t.full, Math.min(target, t.full.data_days), `full profile: ${why}, up to ${Math.min(target, t.full.data_days)} days (model.target_history_days)`);
  if (i.trigger === 'new_symbol') return full('a new symbol');
  if (i.quick === undefined && i.tier === 'quick_train') return quick(`on-demand training of a quick_train asset`);
  return full('requested by the operator');
}

/**
 * The recipe a training asked for from `kilo signal` would run: an on-demand training of that
 * symbol (the quick_train tier trains quick, others the full profile; auto_profile quick: quick).
 */
export const recipeForSignal = (tier: AssetTier, config: Pick<Config, 'training' | 'model'>): Recipe => chooseRecipe({ trigger: 'operator', tier }, config);

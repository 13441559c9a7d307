/** Which tier a symbol belongs to, from config.assets lists (unsupported wins over the others). */
import type { Config } from '../config/schema.js';
import type { AssetTier } from '../engine-api.js';

export function tierOf(symbol: string, config: Config): AssetTier {
  const a = config.assets;
  if (a.unsupported.includes(symbol)) return 'unsupported';
  if (a.pre_trained.includes(symbol)) return 'pre_trained';
  if (a.quick_train.includes(symbol)) return 'quick_train';
  return 'unknown';
}

/** Training profile a tier trains with: pre-trained assets get the full profile, the rest quick. */
export const profileForTier = (tier: AssetTier): 'full' | 'quick' => (tier === 'pre_trained' ? 'full' : 'quick');

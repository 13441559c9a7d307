/**
 * What to answer when someone asks for a signal on a symbol. Pure decision:
 *   covered                         -> signal
 *   its model broken, none older    -> fallback (below), with why
 *   unsupported (config or judged)  -> error "Asset not supported"
 *   untrained, blocking on          -> error "Model not trained" (can_train + time estimate,
 *                                      or can_train false when history is too short)
 *   untrained, blocking off         -> fallback: fallback_map model, else fallback_default model,
 *                                      else TA-only, else neutral hold
 */
import type { Config } from '../config/schema.js';
import type { AssetTier } from '../engine-api.js';
import type { UnknownAssetJudgement } from '../policy/tier.js';
import { estimateTrainingSeconds, type PastTraining } from './estimate.js';
import { recipeForSignal } from '../policy/recipe.js';

export interface SignalGateInput {
  symbol: string;
  tier: AssetTier;
  /** Symbols with a serving model. */
  covered: ReadonlySet<string>;
  /** For tier "unknown": the judgement of its candles, when available. */
  judgement?: UnknownAssetJudgement | null;
  pastTrainings: readonly PastTraining[];
  /** Whether a TA-only signal can be computed for the symbol (candles available). */
  taAvailable: boolean;
  /**
   * Why the symbol's own promoted/pinned model cannot serve (corrupt, unusable) when no older
   * version can stand in (registry.unservable): the symbol falls back instead of being "not trained".
   */
  unservable?: string | null;
  config: Config;
}

export type SignalGateDecision =
  | { kind: 'signal' }
  | { kind: 'error'; error: 'Model not trained'; can_train: true; estimated_time_s: number; estimate_basis: string; reason: string }
  | { kind: 'error'; error: 'Model not trained'; can_train: false; reason: string }
  | { kind: 'error'; error: 'Asset not supported'; reason: string }
  | { kind: 'fallback'; fallback: true; via: string; reason: string };

export function resolveSignalRequest(input: SignalGateInput): SignalGateDecision {
  const { symbol, tier, covered, judgement, config } = input;
  if (covered.has(symbol)) return { kind: 'signal' };
  if (input.unservable) return fallbackFor(symbol, covered, input.taAvailable, config, input.unservable);
  if (tier === 'unsupported') return { kind: 'error', error: 'Asset not supported', reason: `${symbol} is listed in assets.unsupported` };
  if (tier === 'unknown' && judgement && (judgement.verdict === 'stablecoin' || judgement.verdict === 'illiquid')) {
    return { kind: 'error', error: 'Asset not supported', reason: `${symbol}: ${judgement.reason}` };
  }
  const shortHistory = judgement?.verdict === 'insufficient_data';
  const m = config.model;
  if (shortHistory && m.block_short_history_symbols) {
    return { kind: 'error', error: 'Model not trained', can_train: false, reason: `${symbol}: ${judgement?.reason}` };
  }
  if (!shortHistory && m.block_untrained_symbols) {
    // Estimated for the recipe an on-demand training of this symbol actually runs.
    const profile = recipeForSignal(tier, config).name;
    const est = estimateTrainingSeconds(input.pastTrainings, profile, config);
    return {
      kind: 'error',
      error: 'Model not trained',
      can_train: true,
      estimated_time_s: est.seconds,
      estimate_basis: est.basis,
      reason: `${symbol} has no model yet (${tier} tier, ${profile} training)`,
    };
  }
  return fallbackFor(symbol, covered, input.taAvailable, config, shortHistory ? `${judgement?.reason}` : 'no model yet');
}

function fallbackFor(symbol: string, covered: ReadonlySet<string>, taAvailable: boolean, config: Config, why: string): SignalGateDecision {
  const mapped = config.model.fallback_map[symbol];
  if (mapped && covered.has(mapped)) {
    return { kind: 'fallback', fallback: true, via: mapped, reason: `${symbol}: ${why}; using the ${mapped} model (model.fallback_map)` };
  }
  const dflt = config.model.fallback_default;
  if (dflt && dflt !== symbol && covered.has(dflt)) {
    return { kind: 'fallback', fallback: true, via: dflt, reason: `${symbol}: ${why}; using the ${dflt} model (model.fallback_default)` };
  }
  if (taAvailable) return { kind: 'fallback', fallback: true, via: 'ta', reason: `${symbol}: ${why}; no similar model, TA-only signal` };
  return { kind: 'fallback', fallback: true, via: 'hold', reason: `${symbol}: ${why}; no similar model and no candles for TA: neutral hold` };
}

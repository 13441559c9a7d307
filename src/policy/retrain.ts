/**
 * Retrain policy (PURE): whether a symbol's model should be retrained now, and why, in words
 * that go to the log and the screen as they are. Triggers, checked in this order:
 *  - initial:  no model yet and initial_train_after_signals signals seen (e.g. from a fallback).
 *  - win_rate: win rate since the last retrain < min_win_rate_threshold, once at least
 *              min_signals_for_decision signals were scored.
 *  - schedule: max_days_between_retrain passed since the last retrain, with at least
 *              min_trades_before_retrain signals since (no retrain on a silent symbol). A model
 *              with no known retrain time never fires the schedule: pass its training time.
 * A firing trigger is then held to safety minimums, each refusal with its own reason: at least
 * SAFETY_MIN_SIGNALS signals, min_candles_for_training candles, and (when known) at least
 * MIN_VALIDATION_ROWS validation rows. A refused retrain reports retrain=false, trigger=null and
 * the trigger it refused in `refused`.
 */
import type { Config } from '../config/schema.js';

export type RetrainConfig = Config['auto_training'];
export type RetrainTrigger = 'win_rate' | 'schedule' | 'initial';

export interface RetrainStats {
  hasModel: boolean;
  /** Scored (non-neutral, resolved) signals since the last retrain. */
  signalsSinceRetrain: number;
  /** 0..1, null when nothing was scored yet. */
  winRateSinceRetrain: number | null;
  /** ms UTC of the last retrain (or of the serving model's training), null when unknown. */
  lastRetrainAt: number | null;
  /** Candles of history available for training. */
  candles: number;
  /** Rows the validation slice would have, when the caller knows it. */
  validationRows?: number;
}

export interface RetrainDecision {
  retrain: boolean;
  trigger: RetrainTrigger | null;
  reason: string;
  /** The trigger that fired but was refused by a safety minimum. */
  refused?: RetrainTrigger;
}

export const SAFETY_MIN_SIGNALS = 20;
export const MIN_VALIDATION_ROWS = 100;
const DAY_MS = 86_400_000;

/** 0.45 -> "45%", 0.455 -> "45.5%" (no float noise such as 45.00000000000001). */
const pct = (x: number): string => `${Number((x * 100).toFixed(1))}%`;
/** A measured rate keeps one decimal: 0.41 -> "41.0%". */
const rate = (x: number): string => `${(x * 100).toFixed(1)}%`;
const days = (ms: number): string => `${Number((ms / DAY_MS).toFixed(1))}`;

export function decideRetrain(stats: RetrainStats, config: RetrainConfig, now: number): RetrainDecision {
  if (!config.enabled) return { retrain: false, trigger: null, reason: 'auto-training is disabled' };
  const fired = findTrigger(stats, config, now);
  if (!fired.trigger) return { retrain: false, trigger: null, reason: fired.reason };
  const refusal = safetyRefusal(stats, config);
  if (refusal) return { retrain: false, trigger: null, refused: fired.trigger, reason: `${fired.reason}, but refused: ${refusal}` };
  return { retrain: true, trigger: fired.trigger, reason: fired.reason };
}

function findTrigger(s: RetrainStats, c: RetrainConfig, now: number): { trigger: RetrainTrigger | null; reason: string } {
  const n = s.signalsSinceRetrain;
  if (!s.hasModel) {
    if (n >= c.initial_train_after_signals) {
      return { trigger: 'initial', reason: `no model yet and ${n} signals (>= ${c.initial_train_after_signals})` };
    }
    return { trigger: null, reason: `no model yet: ${n}/${c.initial_train_after_signals} signals before the initial training` };
  }
  const wr = s.winRateSinceRetrain;
  const wrText = wr === null ? 'no scored signals' : `win rate ${rate(wr)}`;
  if (wr !== null && n >= c.min_signals_for_decision && wr < c.min_win_rate_threshold) {
    return { trigger: 'win_rate', reason: `win rate ${rate(wr)} < ${pct(c.min_win_rate_threshold)} over ${n} signals` };
  }
  const maxMs = c.max_days_between_retrain * DAY_MS;
  if (s.lastRetrainAt !== null) {
    const age = now - s.lastRetrainAt;
    if (age >= maxMs) {
      if (n >= c.min_trades_before_retrain) {
        return { trigger: 'schedule', reason: `${days(age)} days since the last retrain (>= ${c.max_days_between_retrain}) with ${n} signals` };
      }
      return {
        trigger: null,
        reason: `${days(age)} days since the last retrain but only ${n} signals (< ${c.min_trades_before_retrain}); ${wrText}`,
      };
    }
  }
  if (wr !== null && n < c.min_signals_for_decision) {
    return { trigger: null, reason: `${wrText} over ${n} signals (need ${c.min_signals_for_decision} to decide)` };
  }
  return { trigger: null, reason: wr === null ? 'no scored signals since the last retrain' : `${wrText} >= ${pct(c.min_win_rate_threshold)} over ${n} signals` };
}

function safetyRefusal(s: RetrainStats, c: RetrainConfig): string | null {
  if (s.signalsSinceRetrain < SAFETY_MIN_SIGNALS) return `only ${s.signalsSinceRetrain} signals (< ${SAFETY_MIN_SIGNALS})`;
  if (s.candles < c.min_candles_for_training) return `only ${s.candles} candles (< ${c.min_candles_for_training})`;
  if (s.validationRows !== undefined && s.validationRows < MIN_VALIDATION_ROWS) {
    return `only ${s.validationRows} validation rows (< ${MIN_VALIDATION_ROWS})`;
  }
  return null;
}

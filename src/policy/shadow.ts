/**
 * Shadow challenger (PURE). With auto_training.shadow_days > 0, a challenger that passed the paired
 * promotion gate does not serve at once: it runs that many days of market time in shadow beside the
 * champion (its calls scored, never traded). Both are scored over the shadow window through the
 * same judgement the gate uses (per-candle PnL after fees and slippage, src/training/gate.ts ->
 * src/evaluation/judge.ts). At the end it is promoted only when it stayed ahead: its PnL after
 * costs over the shadow window beats the champion's by more than auto_training.promotion_margin
 * pro-rated to the window (the margin is % per 30 days; a tie is not "ahead"). A paired bootstrap
 * is not used here: a few days of candles are too few for its bound to say anything; the gate
 * already required one on its own window. Code branches on `kind`, never on `reason`.
 */
import type { Config } from '../config/schema.js';

const DAY_MS = 86_400_000;

/** A challenger running in shadow (persisted in the engine state). */
export interface ShadowState {
  champion: string;
  challenger: string;
  /** Market time it started (the first candle scored is the first one at or after it). */
  startedAt: number;
  /** Market time it ends. */
  until: number;
  /** The gate's reason when it passed. */
  gateReason: string;
  /** The latest scoring: PnL after costs over the shadow window so far, total %. */
  score: { at: number; rows: number; champion: number; challenger: number } | null;
}

/** Per-candle PnL after costs of both over the shadow window so far (gate.pnl), or why not. */
export type ShadowScores =
  | { champion: ArrayLike<number>; challenger: ArrayLike<number>; window: [number, number] | null }
  | { error: string };

export type ShadowDecisionKind = 'running' | 'promoted' | 'shadow_failed';

export interface ShadowDecision {
  kind: ShadowDecisionKind;
  reason: string;
  rows: number;
  /** Total PnL after costs over the window (%), null when not scored. */
  championPct: number | null;
  challengerPct: number | null;
  /** challengerPct - championPct (percentage points). */
  aheadPct: number | null;
}

const pct = (x: number): string => `${x >= 0 ? '+' : '-'}${Math.abs(x).toFixed(2)} %`;
const day = (t: number): string => new Date(t).toISOString().slice(0, 16).replace('T', ' ');
const totalPct = (x: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.log1p(x[i]);
  return Math.expm1(s) * 100;
};

/** Float sums must not decide a comparison that meets the margin exactly. */
const TOLERANCE = 1e-9;

export function decideShadow(s: ShadowState, scores: ShadowScores | null, config: Pick<Config, 'auto_training'>, now: number): ShadowDecision {
  const ended = now >= s.until;
  const who = `challenger v${s.challenger} vs champion v${s.champion}`;
  const span = `shadow ${day(s.startedAt)}..${day(Math.min(now, s.until))} UTC`;
  const none = { rows: 0, championPct: null, challengerPct: null, aheadPct: null };
  if (!scores || 'error' in scores || !scores.challenger.length) {
    const why = scores && 'error' in scores ? `not scored (${scores.error})` : 'no candle scored yet';
    if (!ended) return { kind: 'running', reason: `${who}: ${span}: ${why}`, ...none };
    return { kind: 'shadow_failed', reason: `${who}: ${span}: ${why}: dropped, champion v${s.champion} stays`, ...none };
  }
  const rows = scores.challenger.length;
  if (scores.champion.length !== rows) throw new RangeError(`champion has ${scores.champion.length} per-candle values, challenger ${rows}: they must share the window`);
  const values = [...Array.from(scores.champion), ...Array.from(scores.challenger)];
  if (!values.every(Number.isFinite)) {
    const out = { kind: ended ? 'shadow_failed' : 'running', reason: `${who}: ${span}: a per-candle PnL is not a number${ended ? `: dropped, champion v${s.champion} stays` : ''}`, ...none } as const;
    return out;
  }
  const championPct = totalPct(scores.champion);
  const challengerPct = totalPct(scores.challenger);
  const aheadPct = challengerPct - championPct;
  const figures = { rows, championPct, challengerPct, aheadPct };
  const text = `${who} over ${rows} shadow candles (${span}): PnL after costs ${pct(challengerPct)} vs ${pct(championPct)}, ahead by ${pct(aheadPct)}`;
  if (!ended) return { kind: 'running', reason: text, ...figures };
  const days = (s.until - s.startedAt) / DAY_MS;
  const margin = (config.auto_training.promotion_margin * days) / 30;
  const bar = `margin ${pct(margin)} (auto_training.promotion_margin ${config.auto_training.promotion_margin} %/30d over ${days.toFixed(1)} days)`;
  if (aheadPct > margin + TOLERANCE) return { kind: 'promoted', reason: `${text} > ${bar}: stayed ahead, promoted after its shadow`, ...figures };
  return { kind: 'shadow_failed', reason: `${text} <= ${bar}: did not stay ahead, dropped; champion v${s.champion} stays`, ...figures };
}

/** The snapshot's words for a running shadow: "shadow v1.3 until 2023-09-02 10:00, ahead by +0.42 %". */
export function shadowLabel(s: ShadowState): string {
  const ahead = s.score ? `ahead by ${pct(s.score.challenger - s.score.champion)}` : 'not scored yet';
  return `shadow v${s.challenger} until ${day(s.until)} UTC, ${ahead}`;
}

/**
 * Promotion gate (PURE): a freshly trained challenger replaces the serving champion only when it
 * scores at least `margin` better on the SAME most recent validation window (the caller scores
 * both with scoreOnWindow). A failed, missing or NaN-scoring challenger is never promoted; with
 * no (valid) champion a valid challenger is promoted. The reason always carries both scores.
 * Not the "newest model always wins" rule: a retrain that did not help keeps the old model.
 */

export interface ScoredModel {
  version: string;
  score: number;
}
export interface FailedModel {
  version?: string;
  error: string;
}

export interface PromotionInput {
  champion: ScoredModel | null;
  challenger: ScoredModel | FailedModel | null;
  /** Absolute improvement required (config.auto_training.promotion_margin). */
  margin: number;
  /** Name of the score shown in the reason, e.g. "accuracy" (see scoreMetricName). */
  metric: string;
}

export interface PromotionVerdict {
  promote: boolean;
  reason: string;
}

export class ScoreInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScoreInputError';
  }
}

/** Float sums like 0.57 + 0.005 must not block a challenger that meets the margin exactly. */
const TOLERANCE = 1e-12;
const fmt = (x: number): string => (Number.isFinite(x) ? x.toFixed(4) : String(x));

export function decidePromotion(input: PromotionInput): PromotionVerdict {
  const { champion, challenger, margin, metric } = input;
  if (!(margin >= 0) || !Number.isFinite(margin)) throw new RangeError(`promotion margin must be a finite number >= 0, got ${margin}`);
  const champText = champion ? `champion v${champion.version} ${metric} ${fmt(champion.score)}` : 'no champion';
  if (challenger === null) return { promote: false, reason: `no challenger to evaluate; ${champText} stays` };
  if ('error' in challenger) {
    return { promote: false, reason: `challenger${challenger.version ? ` v${challenger.version}` : ''} failed (${challenger.error}); ${champText} stays` };
  }
  const chalText = `challenger v${challenger.version} ${metric} ${fmt(challenger.score)}`;
  if (!Number.isFinite(challenger.score)) return { promote: false, reason: `${chalText} is not a valid score; ${champText} stays` };
  if (!champion) return { promote: true, reason: `${chalText} promoted: no champion` };
  if (!Number.isFinite(champion.score)) {
    return { promote: true, reason: `${chalText} promoted: ${champText} is not a valid score` };
  }
  const bar = `champion v${champion.version} ${fmt(champion.score)} + margin ${fmt(margin)}`;
  if (challenger.score >= champion.score + margin - TOLERANCE) return { promote: true, reason: `${chalText} >= ${bar}: promoted` };
  return { promote: false, reason: `${chalText} < ${bar}: champion stays` };
}

export interface ScoreOptions {
  /** Bars between a row and the close its label looks at. @default 1 */
  horizon?: number;
  /** Fee per side. @default 0.001 */
  feeRate?: number;
}

export type ScoreMetric = 'accuracy' | 'pnl_after_fees_pct';

/** Which metric scoreOnWindow computes for these arguments (for the reason text and the history). */
export const scoreMetricName = (closes?: ArrayLike<number>): ScoreMetric => (closes ? 'pnl_after_fees_pct' : 'accuracy');

/**
 * One number for a model on a validation window. `probs` is row-major n x 3 in label order
 * 0=down, 1=flat, 2=up; `labels` has n entries.
 *  - without closes: accuracy of the argmax call (0..1); a tie for the top is a flat call.
 *  - with closes (closes[i] is row i's close; at least n + horizon of them): mean PnL per row in
 *    percent after fees of acting on the call, up = long, down = short, flat = stay out; each
 *    trade pays the fee on entry and exit. Shorts count here because this scores the model's
 *    calls, not the long-only broker.
 * Any NaN probability makes the score NaN, so a broken model can never pass the gate; an empty
 * window scores NaN as well (nothing was shown).
 */
export function scoreOnWindow(probs: Float32Array, labels: ArrayLike<number>, closes?: ArrayLike<number>, opts: ScoreOptions = {}): number {
  const n = labels.length;
  if (probs.length !== n * 3) throw new ScoreInputError(`probs has ${probs.length} values, expected ${n * 3} (${n} rows x 3 classes)`);
  const horizon = opts.horizon ?? 1;
  const fee = opts.feeRate ?? 0.001;
  if (closes && closes.length < n + horizon) {
    throw new ScoreInputError(`closes has ${closes.length} values, expected at least ${n + horizon} (rows + horizon ${horizon})`);
  }
  if (n === 0) return Number.NaN;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const p0 = probs[i * 3];
    const p1 = probs[i * 3 + 1];
    const p2 = probs[i * 3 + 2];
    if (Number.isNaN(p0) || Number.isNaN(p1) || Number.isNaN(p2)) return Number.NaN;
    const call = p2 > p1 && p2 > p0 ? 2 : p0 > p1 && p0 > p2 ? 0 : 1;
    if (!closes) {
      if (call === labels[i]) sum++;
      continue;
    }
    if (call === 1) continue;
    const entry = closes[i];
    const move = (closes[i + horizon] - entry) / entry;
    sum += (call === 2 ? move : -move) - 2 * fee;
  }
  return closes ? (sum / n) * 100 : sum / n;
}

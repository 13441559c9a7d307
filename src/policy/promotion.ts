/**
 * Promotion gate (PURE). A freshly trained challenger replaces the serving champion only when it
 * is measurably better in the trader's terms: both are replayed through the broker's rule on the
 * SAME window (src/training/gate.ts: per-candle PnL after fees and slippage, out of sample for the
 * challenger), the per-candle differences are block-bootstrapped, and the lower bound of the mean
 * improvement must exceed auto_training.promotion_margin (% per 30 days) at
 * auto_training.promotion_confidence. A challenger without an edge of its own (its walk-forward
 * verdict) is never promoted over a champion; a failed one never; a pinned version is never
 * replaced. The decision is data: code branches on `kind`, the reason is for people.
 * Not the "newest model always wins" rule: a retrain that did not help keeps the old model.
 */
import type { Config } from '../config/schema.js';
import { bootstrapMeans, lowerBound as bootstrapLower } from '../evaluation/bootstrap.js';
import { edgeVerdict, ratePct30d, type EdgeReport } from '../evaluation/edge.js';
import type { GateScores } from '../training/gate.js';

export type PromotionKind = 'promoted' | 'kept' | 'failed' | 'no_edge' | 'pinned';

export interface PromotionDecisionResult {
  kind: PromotionKind;
  reason: string;
  /** Scores on the shared window (% per 30 days after costs for the paired gate); null when unknown. */
  championScore: number | null;
  challengerScore: number | null;
  /** Lower bound of the improvement (% per 30 days) at the configured confidence; null when not computed. */
  lowerBound: number | null;
  rows: number;
  window: [number, number] | null;
  /** kind === 'promoted', for callers that predate kinds. */
  promote: boolean;
}

/** @deprecated Old name of the decision type. */
export type PromotionVerdict = PromotionDecisionResult;

export interface PairedModel {
  version: string;
  /** Per-candle PnL after costs on the shared window (gate.pnl[name]). */
  pnl: ArrayLike<number>;
}
export interface FailedModel {
  version?: string;
  error: string;
}

export interface PairedPromotionInput {
  champion: PairedModel | FailedModel | null;
  challenger: (PairedModel & { edge: 'edge' | 'no_edge' | 'unknown'; edgeReason?: string }) | FailedModel | null;
  window: [number, number];
  candlesPer30d: number;
  /** Candles per bootstrap block (gate.blockLength). */
  blockLength: number;
  /** auto_training.promotion_margin: % per 30 days the lower bound must exceed. */
  margin: number;
  /** auto_training.promotion_confidence. */
  confidence: number;
  /** auto_training.gate_days in candles: a shorter window decides nothing. */
  minRows: number;
  /** A pinned version covering the symbol (model.pinned_version or the operator's pin). */
  pinned?: string | null;
  /** model.require_edge: when false the challenger's own verdict is not required. @default true */
  requireEdge?: boolean;
  /** Window rows the champion may have seen in training (shown; they favour the champion). */
  championSeenRows?: number;
}

/** The pre-verdict input: two scores and an absolute margin (kept for callers not yet on the paired gate). */
export interface ScoredModel {
  version: string;
  score: number;
}
export interface PromotionInput {
  champion: ScoredModel | null;
  challenger: ScoredModel | FailedModel | null;
  margin: number;
  metric: string;
}

export class ScoreInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScoreInputError';
  }
}

/** Float sums like 0.57 + 0.005 must not decide a comparison that meets the margin exactly. */
const TOLERANCE = 1e-9;
const fmt = (x: number): string => (Number.isFinite(x) ? x.toFixed(4) : String(x));
const rate = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : '-'}${Math.abs(x).toFixed(2)} %/30d` : String(x));
const day = (t: number): string => new Date(t).toISOString().slice(0, 10);

export function decidePromotion(input: PromotionInput | PairedPromotionInput): PromotionDecisionResult {
  return 'metric' in input ? decideScored(input) : decidePaired(input);
}

function decidePaired(i: PairedPromotionInput): PromotionDecisionResult {
  if (!(i.margin >= 0) || !Number.isFinite(i.margin)) throw new RangeError(`promotion margin must be a finite number >= 0, got ${i.margin}`);
  if (!(i.confidence > 0 && i.confidence < 1)) throw new RangeError(`promotion confidence must be in (0, 1), got ${i.confidence}`);
  const { champion, challenger } = i;
  const usable = (m: PairedModel | FailedModel | null): m is PairedModel => !!m && 'pnl' in m && m.pnl.length > 0 && Array.from(m.pnl).every(Number.isFinite);
  const meanLog = (x: ArrayLike<number>): number => Array.from(x).reduce((s, r) => s + Math.log1p(r), 0) / x.length;
  const champScore = usable(champion) ? ratePct30d(meanLog(champion.pnl), i.candlesPer30d) : null;
  const chalScore = usable(challenger) ? ratePct30d(meanLog(challenger.pnl), i.candlesPer30d) : null;
  const rows = usable(challenger) ? challenger.pnl.length : 0;
  const span = `${rows.toLocaleString('en-US')} shared candles ${day(i.window[0])}..${day(i.window[1])}`;
  const champText = champion ? `champion v${champion.version}${champScore !== null ? ` ${rate(champScore)}` : 'error' in champion ? ` (failed: ${champion.error})` : ''}` : 'no champion';
  const chalText = challenger ? `challenger${challenger.version ? ` v${challenger.version}` : ''}${chalScore !== null ? ` ${rate(chalScore)}` : ''}` : 'no challenger';
  const out = (kind: PromotionKind, reason: string, lowerBound: number | null = null): PromotionDecisionResult => ({
    kind,
    reason,
    championScore: champScore,
    challengerScore: chalScore,
    lowerBound,
    rows,
    window: rows ? i.window : null,
    promote: kind === 'promoted',
  });
  if (i.pinned && (!challenger || challenger.version !== i.pinned)) {
    return out('pinned', `v${i.pinned} is pinned by the operator: ${chalText} is not promoted (${champText})`);
  }
  if (!challenger) return out('failed', `no challenger to evaluate; ${champText} stays`);
  if ('error' in challenger) return out('failed', `${chalText} failed (${challenger.error}); ${champText} stays`);
  if (!usable(challenger)) return out('failed', `${chalText} has no valid PnL on the shared window; ${champText} stays`);
  if (!champion) return out('promoted', `${chalText} on ${span} installed: no champion${challenger.edge === 'edge' ? '' : ` (verdict ${challenger.edge === 'no_edge' ? 'no edge' : 'unknown'}: the edge gate decides whether it trades)`}`);
  if ((i.requireEdge ?? true) && challenger.edge !== 'edge') {
    const why = challenger.edge === 'no_edge' ? `has no edge${challenger.edgeReason ? ` (${challenger.edgeReason})` : ''}` : 'has no walk-forward verdict';
    return out('no_edge', `${chalText} ${why}: never promoted; ${champText} stays`);
  }
  if (!usable(champion)) return out('promoted', `${chalText} promoted: ${champText} has no valid PnL on the shared window`);
  if (champion.pnl.length !== rows) throw new ScoreInputError(`champion has ${champion.pnl.length} per-candle values, challenger ${rows}: they must share the window`);
  if (rows < i.minRows) return out('kept', `${chalText} vs ${champText}: only ${span} (< ${i.minRows} needed, auto_training.gate_days); champion stays`);
  const diff = new Float64Array(rows);
  for (let k = 0; k < rows; k++) diff[k] = Math.log1p(challenger.pnl[k]) - Math.log1p(champion.pnl[k]);
  const lb = ratePct30d(bootstrapLower(bootstrapMeans(diff, { blockLength: i.blockLength }), i.confidence), i.candlesPer30d);
  const seen = i.championSeenRows ? `; the champion may have seen ${i.championSeenRows} of these candles` : '';
  const bound = `improvement ${Math.round(i.confidence * 100)} % bound ${rate(lb)}`;
  if (lb > i.margin + TOLERANCE) return out('promoted', `${chalText} vs ${champText} on ${span}: ${bound} > margin ${rate(i.margin)}: promoted${seen}`, lb);
  return out('kept', `${chalText} vs ${champText} on ${span}: ${bound} <= margin ${rate(i.margin)}: champion stays${seen}`, lb);
}

/** The pre-verdict rule: challenger score >= champion score + margin (text kept for the history). */
function decideScored(input: PromotionInput): PromotionDecisionResult {
  const { champion, challenger, margin, metric } = input;
  if (!(margin >= 0) || !Number.isFinite(margin)) throw new RangeError(`promotion margin must be a finite number >= 0, got ${margin}`);
  const champText = champion ? `champion v${champion.version} ${metric} ${fmt(champion.score)}` : 'no champion';
  const result = (kind: PromotionKind, reason: string): PromotionDecisionResult => ({
    kind,
    reason,
    championScore: champion && Number.isFinite(champion.score) ? champion.score : null,
    challengerScore: challenger && 'score' in challenger && Number.isFinite(challenger.score) ? challenger.score : null,
    lowerBound: null,
    rows: 0,
    window: null,
    promote: kind === 'promoted',
  });
  if (challenger === null) return result('failed', `no challenger to evaluate; ${champText} stays`);
  if ('error' in challenger) {
    return result('failed', `challenger${challenger.version ? ` v${challenger.version}` : ''} failed (${challenger.error}); ${champText} stays`);
  }
  const chalText = `challenger v${challenger.version} ${metric} ${fmt(challenger.score)}`;
  if (!Number.isFinite(challenger.score)) return result('failed', `${chalText} is not a valid score; ${champText} stays`);
  if (!champion) return result('promoted', `${chalText} promoted: no champion`);
  if (!Number.isFinite(champion.score)) return result('promoted', `${chalText} promoted: ${champText} is not a valid score`);
  const bar = `champion v${champion.version} ${fmt(champion.score)} + margin ${fmt(margin)}`;
  if (challenger.score >= champion.score + margin - 1e-12) return result('promoted', `${chalText} >= ${bar}: promoted`);
  return result('kept', `${chalText} < ${bar}: champion stays`);
}

/**
 * The paired gate's input from what the worker returned: the one call the engine makes is
 * `decidePromotion(gatePromotionInput(result.gate, {...}))`. The challenger's verdict is
 * recomputed from its metadata with the configuration in force.
 */
export function gatePromotionInput(
  gate: GateScores,
  o: {
    symbol: string;
    championVersion: string;
    challengerVersion: string;
    challengerEdge: EdgeReport | null | undefined;
    config: Pick<Config, 'auto_training' | 'model'>;
    pinned?: string | null;
  },
): PairedPromotionInput {
  const { config } = o;
  const sym = o.challengerEdge?.symbols[o.symbol];
  const v = sym && o.challengerEdge ? edgeVerdict(sym, { confidence: config.model.edge_confidence, marginPct: config.model.edge_margin_pct, candlesPer30d: o.challengerEdge.candles_per_30d }) : null;
  const side = (name: 'champion' | 'challenger', version: string): PairedModel | FailedModel =>
    gate.errors[name] ? { version, error: gate.errors[name] } : gate.pnl[name] ? { version, pnl: gate.pnl[name] } : { version, error: 'not scored on the shared window' };
  const chal = side('challenger', o.challengerVersion);
  return {
    champion: side('champion', o.championVersion),
    challenger: 'error' in chal ? chal : { ...chal, edge: v?.verdict ?? 'unknown', edgeReason: v?.reason },
    window: gate.window,
    candlesPer30d: gate.candlesPer30d,
    blockLength: gate.blockLength,
    margin: config.auto_training.promotion_margin,
    confidence: config.auto_training.promotion_confidence,
    minRows: Math.ceil((config.auto_training.gate_days * gate.candlesPer30d) / 30),
    pinned: o.pinned ?? null,
    requireEdge: config.model.require_edge,
    championSeenRows: gate.seenRows.champion,
  };
}

/**
 * The edge gate (PURE): does a symbol's serving model drive trades, or does the symbol run on its
 * fallback? A model trades only when its walk-forward verdict (metadata.json `edge`, recomputed
 * here with the configuration in force) shows an edge after costs over no-trade and the TA rule.
 * Otherwise the fallback is the TA rule when the TA rule itself shows an edge on that symbol, else
 * hold (no new entries). An operator override lets the model trade anyway, flagged as such.
 */
import type { Config } from '../config/schema.js';
import { edgeVerdict, type EdgeReport, type VerdictFigures } from '../evaluation/edge.js';

export type ServingKind = 'model' | 'ta' | 'hold' | 'override';

export interface ServingDecision {
  kind: ServingKind;
  /** One human sentence with the figures; shown as is (never parsed). */
  reason: string;
  /** The model's verdict sentence alone (figures, bound, why), for the `verdict:` line. */
  detail: string;
  /** 'unknown' when the artifact carries no verdict for the symbol. */
  verdict: 'edge' | 'no_edge' | 'unknown';
  taVerdict: 'edge' | 'no_edge' | 'unknown';
  figures: VerdictFigures | null;
}

export interface ServingContext {
  symbol: string;
  /** The operator's runtime override for this symbol (a console/CLI command), on top of model.edge_overrides. */
  override?: boolean;
}

type EdgeConfig = Pick<Config['model'], 'require_edge' | 'edge_confidence' | 'edge_margin_pct' | 'edge_overrides'>;

const CONSEQUENCE: Record<ServingKind, string> = {
  model: 'will trade on the model',
  override: 'will trade on the model (operator override)',
  ta: 'will trade on the TA rule',
  hold: 'will hold (no new entries)',
};

export function decideServing(edge: EdgeReport | null | undefined, config: { model: EdgeConfig }, ctx: ServingContext): ServingDecision {
  const m = config.model;
  const sym = edge?.symbols?.[ctx.symbol];
  const v = sym && edge ? edgeVerdict(sym, { confidence: m.edge_confidence, marginPct: m.edge_margin_pct, candlesPer30d: edge.candles_per_30d }) : null;
  const verdict = v?.verdict ?? 'unknown';
  const taVerdict = v?.taVerdict ?? 'unknown';
  const figures = v?.figures ?? null;
  const evidence = v ? v.reason : 'no walk-forward verdict for this symbol in the serving artifact (trained before verdicts, or training.walk_forward_folds is 0)';
  const decide = (kind: ServingKind, why: string): ServingDecision => ({ kind, reason: `${why}; ${ctx.symbol} ${CONSEQUENCE[kind]}`, detail: evidence, verdict, taVerdict, figures });
  if (ctx.override || m.edge_overrides.includes(ctx.symbol)) {
    return decide('override', `${verdict === 'edge' ? 'edge' : verdict === 'no_edge' ? 'no edge' : 'no verdict'} (${evidence}), overridden by the operator${ctx.override ? '' : ' (model.edge_overrides)'}`);
  }
  if (!m.require_edge) return decide('model', `model.require_edge is off (${evidence})`);
  if (!v) return decide('hold', `${evidence}: no evidence of an edge for the model or the TA rule`);
  if (v.verdict === 'edge') return decide('model', v.reason);
  if (v.taVerdict === 'edge') return decide('ta', `${v.reason}; ${v.taReason}`);
  return decide('hold', `${v.reason}; ${v.taReason}`);
}

/**
 * The one line `kilo train` and `kilo eval` end with, e.g.
 * `verdict: no edge - ensemble -2.3 % vs TA +89.1 %, no-trade 0 % over 1,281 candles (90 % bound -6.0 %): does not beat no-trade; SOL/USDT will trade on the TA rule`
 */
export function formatVerdict(d: ServingDecision, symbol: string): string {
  const word = d.verdict === 'edge' ? 'edge' : d.verdict === 'no_edge' ? 'no edge' : 'unknown';
  return `verdict: ${word} - ${d.detail}; ${symbol} ${CONSEQUENCE[d.kind]}`;
}

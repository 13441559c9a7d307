/**
 * The edge gate as the engine applies it (PURE): the serving artifact's walk-forward verdict
 * (metadata.json `edge`) through decideServing with the configuration in force and the operator's
 * override, as an EdgeView for the round, the projection, `kilo signal` and `kilo edge`; and the
 * order the broker gets when the model has no edge.
 *
 * Overrides: the operator's (`:edge-override`, `kilo edge`, the API), when set, wins over
 * model.edge_overrides both ways (on: the model trades; off: the gate applies although the config
 * lists the symbol). An artifact without an `edge` object (trained before verdicts) has no evidence:
 * with model.require_edge on the symbol holds, with it off the model trades.
 *
 * A partial signal (the artifact's trees serving while its networks still load, see
 * src/engine/predictors.ts) is judged by the verdict of what made it: the walk-forward figures of
 * that model kind alone (`strategies.gbdt`), never the ensemble's. Without figures for that kind
 * the verdict is no edge (the TA rule or hold, as for any model without an edge).
 */
import type { Config } from '../config/schema.js';
import type { Direction, EdgeView } from '../engine-api.js';
import type { EdgeReport, Subject } from '../evaluation/edge.js';
import { fmtPct } from '../evaluation/edge.js';
import { decideServing } from '../policy/edge.js';

const LABEL: Record<EdgeView['kind'], string> = { model: 'edge', ta: 'no edge>TA', hold: 'no edge>hold', override: 'override' };

/** What made a partial signal: the one model kind it came from, and the note it carries ("trees only, rnn loading"). */
export interface PartialServing {
  subject: Subject;
  note: string;
}

/** The report with `symbol` judged as `subject` alone (its stored per-kind figures); other symbols untouched. */
export function edgeOfSubject(edge: EdgeReport | null | undefined, symbol: string, subject: Subject): EdgeReport | null | undefined {
  const sym = edge?.symbols?.[symbol];
  if (!edge || !sym || sym.subject === subject) return edge;
  return { ...edge, symbols: { ...edge.symbols, [symbol]: { ...sym, subject } } };
}

export function edgeViewFor(edge: EdgeReport | null | undefined, version: string | null, config: Pick<Config, 'model'>, symbol: string, operator?: boolean | null, partial?: PartialServing | null): EdgeView {
  const own = operator === true || operator === false;
  // The operator's word replaces the config list for this symbol, in both directions.
  const cfg = own ? { model: { ...config.model, edge_overrides: config.model.edge_overrides.filter((s) => s !== symbol) } } : config;
  const judged = partial ? edgeOfSubject(edge, symbol, partial.subject) : edge;
  const d = decideServing(judged, cfg, { symbol, override: own ? operator : undefined });
  const override = d.kind === 'override' ? (own ? 'operator' : 'config') : null;
  return {
    kind: d.kind,
    verdict: d.verdict,
    taVerdict: d.taVerdict,
    override,
    version,
    reason: partial ? `${partial.note}, judged by the ${partial.subject} verdict: ${d.reason}` : d.reason,
    // require_edge off: the model trades without a verdict of edge; say so instead of "edge".
    label: d.kind === 'model' && d.verdict !== 'edge' ? 'gate off' : LABEL[d.kind],
    figures: d.figures,
  };
}

/** "no edge: ensemble -2.3 % vs TA +89.1 % over 1,281 candles, 90 % bound -6.0 %; trades on the TA rule" */
export function edgeSummary(v: EdgeView): string {
  const f = v.figures;
  const nums = f
    ? `${f.subject} ${fmtPct(f.subjectPct)} vs TA ${fmtPct(f.taPct)} over ${f.rows.toLocaleString('en-US')} candles, ${Math.round(f.level * 100)} % bound ${fmtPct(f.lowerTotalPct)}`
    : 'no walk-forward verdict';
  const word = v.verdict === 'edge' ? 'edge' : v.verdict === 'no_edge' ? 'no edge' : 'no verdict';
  const then = { model: 'trades on the model', ta: 'trades on the TA rule', hold: 'holds (flat)', override: `trades on the model (override by ${v.override === 'config' ? 'model.edge_overrides' : 'the operator'})` }[v.kind];
  return `${word}: ${nums}; ${then}`;
}

/**
 * What the broker is given in place of a model without an edge: the TA rule's call (kind 'ta'),
 * or flat (kind 'hold': close a position left open, never enter - no-trade is what the verdict
 * compared the model with). null: trade the model's own call.
 */
export function tradedInstead(kind: EdgeView['kind'], ta: { direction: Direction; confidence: number }, positionOpen: boolean): { direction: Direction; confidence: number; via: 'ta' | 'hold' } | null {
  if (kind === 'ta') return { direction: ta.direction, confidence: ta.confidence, via: 'ta' };
  if (kind === 'hold') return positionOpen ? { direction: 'bearish', confidence: 1, via: 'hold' } : { direction: 'neutral', confidence: 0, via: 'hold' };
  return null;
}

export type EdgeJson = Record<string, unknown> & { kind: EdgeView['kind']; verdict: EdgeView['verdict']; label: string; reason: string };

/** The edge view in the CLI's JSON style (snake_case keys), for `kilo edge --json` and `kilo signal --json`. */
export function edgeJson(e: EdgeView): EdgeJson {
  const f = e.figures;
  return {
    kind: e.kind,
    verdict: e.verdict,
    ta_verdict: e.taVerdict,
    override: e.override,
    version: e.version,
    label: e.label,
    reason: e.reason,
    figures: f
      ? {
          subject: f.subject,
          rows: f.rows,
          folds: f.folds,
          subject_pct: f.subjectPct,
          ta_pct: f.taPct,
          buy_and_hold_pct: f.buyAndHoldPct,
          no_trade_pct: f.noTradePct,
          level: f.level,
          lower_pct_30d: f.lowerPct30d,
          lower_total_pct: f.lowerTotalPct,
          vs_ta_lower_pct_30d: f.vsTaLowerPct30d,
          ta_lower_pct_30d: f.taLowerPct30d,
          margin_pct: f.marginPct,
        }
      : null,
  };
}

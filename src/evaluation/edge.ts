/**
 * Walk-forward figures and the edge verdict. Per-candle PnL vectors of each fold (from judgeRows)
 * become, per strategy: each fold's PnL, the compounded total, a rate in % per 30 days and its
 * block-bootstrap lower bounds at several confidence levels (stored, so the serving policy can
 * apply the operator's current confidence without the vectors). The verdict is a pure function of
 * those stored figures: training writes it into metadata.json and the serving policy recomputes it
 * with the configuration in force.
 *
 * Averages are taken over log PnL (log(1 + r) per candle): sums of logs compound exactly, so a
 * rate, a total and a bound over the same rows are the same kind of number.
 */
import type { ModelKind } from '../models/metadata.js';
import { bootstrapMeans, lowerBound, DEFAULT_RESAMPLES, BOOTSTRAP_SEED } from './bootstrap.js';
import type { Costs, Replay } from './judge.js';

/** Confidence levels whose bounds are stored; a configured level uses the nearest one at or above it. */
export const EDGE_LEVELS = [0.8, 0.9, 0.95, 0.975, 0.99] as const;

export type Subject = ModelKind | 'ensemble';
export type StrategyName = Subject | 'no_trade' | 'buy_and_hold' | 'ta' | 'majority';

export interface StrategyEdge {
  /** Compounded PnL after costs of each fold, oldest first, in %. */
  fold_pnl_pct: number[];
  /** All folds compounded, in %. */
  total_pct: number;
  /** Mean log PnL per candle expressed as % per 30 days (compounded). */
  mean_pct_30d: number;
  /** Lower bounds of that rate by confidence level ("0.9": ...). */
  lower_pct_30d: Record<string, number>;
  /** Models only: the per-candle difference to the TA rule, as a rate and its lower bounds. */
  vs_ta_mean_pct_30d?: number;
  vs_ta_lower_pct_30d?: Record<string, number>;
  trades: number;
  /** Share of candles holding a position. */
  exposure: number;
  fees_pct: number;
  /** Secondary figures (models only): accuracy of the argmax class and log-loss, all folds. */
  accuracy?: number;
  log_loss?: number;
}

export interface FoldSpan {
  /** Timestamps of the fold's first and last judged candle. */
  from: number;
  to: number;
  rows: number;
  /** 'fold' = a fold model trained on the history before the fold; 'final' = the trained model on its own test slice. */
  recipe: 'fold' | 'final';
}

export interface SymbolEdge {
  rows: number;
  folds: FoldSpan[];
  strategies: Partial<Record<StrategyName, StrategyEdge>>;
  /** The strategy that would drive trades: the ensemble, or the only model. */
  subject: Subject;
  verdict: 'edge' | 'no_edge';
  reason: string;
  ta_verdict: 'edge' | 'no_edge';
  ta_reason: string;
}

export interface EdgeReport {
  unit: string;
  candles_per_30d: number;
  costs: { fee_rate: number; slippage_bps: number; entry_threshold: number; position_fraction: number; liquidate_at_end: boolean };
  bootstrap: { block_length: number; resamples: number; seed: number; levels: number[] };
  /** What the stored verdicts used (model.edge_confidence, model.edge_margin_pct at training time). */
  confidence: number;
  margin_pct: number;
  recipe: { folds: number; light: Record<string, number | string>; final: string; note: string };
  duration_s: number;
  symbols: Record<string, SymbolEdge>;
}

export const EDGE_UNIT =
  'per-candle PnL after fees and slippage of a fully invested long-only position through the broker rule; totals compounded in %; rates in % per 30 days';

export interface FoldJudgement {
  span: Omit<FoldSpan, 'rows'>;
  replays: Record<string, Replay>;
  /** Secondary figures per model strategy on this fold: correct argmax calls, summed log-loss, rows. */
  secondary?: Record<string, { hits: number; logLoss: number; n: number }>;
}

export interface SummaryOptions {
  candlesPer30d: number;
  blockLength: number;
  resamples?: number;
  seed?: number;
}

const toLog = (pnl: Float64Array): Float64Array => Float64Array.from(pnl, (r) => Math.log1p(r));
const concat = (xs: Float64Array[]): Float64Array => {
  const out = new Float64Array(xs.reduce((s, x) => s + x.length, 0));
  let o = 0;
  for (const x of xs) {
    out.set(x, o);
    o += x.length;
  }
  return out;
};

/** A mean log PnL per candle as % per 30 days. */
export const ratePct30d = (meanLog: number, candlesPer30d: number): number => Math.expm1(meanLog * candlesPer30d) * 100;
/** The inverse: % per 30 days back to a mean log PnL per candle. */
export const meanLogOfRate = (pct30d: number, candlesPer30d: number): number => Math.log1p(pct30d / 100) / candlesPer30d;
/** A rate over `rows` candles as a compounded total in %. */
export const totalOfRate = (pct30d: number, candlesPer30d: number, rows: number): number => Math.expm1(meanLogOfRate(pct30d, candlesPer30d) * rows) * 100;

function bounds(logs: Float64Array, o: SummaryOptions): Record<string, number> {
  const sorted = bootstrapMeans(logs, { blockLength: o.blockLength, resamples: o.resamples ?? DEFAULT_RESAMPLES, seed: o.seed ?? BOOTSTRAP_SEED });
  return Object.fromEntries(EDGE_LEVELS.map((c) => [String(c), round(ratePct30d(lowerBound(sorted, c), o.candlesPer30d))]));
}

const MODEL_KINDS: ReadonlySet<string> = new Set(['gru', 'gbdt', 'ppo', 'ensemble']);

/** Figures of every strategy judged on every fold of one symbol (folds oldest first). */
export function summariseFolds(folds: FoldJudgement[], o: SummaryOptions): { rows: number; folds: FoldSpan[]; strategies: Partial<Record<StrategyName, StrategyEdge>> } {
  if (folds.length === 0) throw new RangeError('no folds to summarise');
  const names = Object.keys(folds[0].replays);
  const taLogs = concat(folds.map((f) => toLog(f.replays.ta.pnl)));
  const strategies: Partial<Record<StrategyName, StrategyEdge>> = {};
  for (const name of names) {
    const logs = concat(folds.map((f) => toLog(f.replays[name].pnl)));
    const meanLog = logs.reduce((s, x) => s + x, 0) / logs.length;
    const e: StrategyEdge = {
      fold_pnl_pct: folds.map((f) => round(f.replays[name].totalPct)),
      total_pct: round(Math.expm1(logs.reduce((s, x) => s + x, 0)) * 100),
      mean_pct_30d: round(ratePct30d(meanLog, o.candlesPer30d)),
      lower_pct_30d: bounds(logs, o),
      trades: folds.reduce((s, f) => s + f.replays[name].trades, 0),
      exposure: round(folds.reduce((s, f) => s + f.replays[name].exposure * f.replays[name].pnl.length, 0) / logs.length),
      fees_pct: round(folds.reduce((s, f) => s + f.replays[name].feesPct, 0)),
    };
    if (MODEL_KINDS.has(name)) {
      const diff = logs.map((x, i) => x - taLogs[i]);
      e.vs_ta_mean_pct_30d = round(ratePct30d(diff.reduce((s, x) => s + x, 0) / diff.length, o.candlesPer30d));
      e.vs_ta_lower_pct_30d = bounds(diff, o);
      const sec = folds.map((f) => f.secondary?.[name]).filter((s): s is { hits: number; logLoss: number; n: number } => !!s);
      const n = sec.reduce((s, x) => s + x.n, 0);
      if (n) {
        e.accuracy = round(sec.reduce((s, x) => s + x.hits, 0) / n);
        const ll = sec.reduce((s, x) => s + x.logLoss, 0);
        if (Number.isFinite(ll) && ll > 0) e.log_loss = round(ll / n);
      }
    }
    strategies[name as StrategyName] = e;
  }
  return {
    rows: taLogs.length,
    folds: folds.map((f) => ({ ...f.span, rows: f.replays.ta.pnl.length })),
    strategies,
  };
}

const round = (x: number): number => (Number.isFinite(x) ? Math.round(x * 1e4) / 1e4 : x);

/** The stored bound for a configured confidence: the nearest stored level at or above it. */
export function boundAt(bounds: Record<string, number> | undefined, confidence: number): { level: number; value: number } {
  const level = EDGE_LEVELS.find((l) => l >= confidence - 1e-12) ?? EDGE_LEVELS[EDGE_LEVELS.length - 1];
  const value = bounds?.[String(level)];
  return { level, value: typeof value === 'number' ? value : Number.NaN };
}

export interface VerdictOptions {
  /** model.edge_confidence, e.g. 0.9. */
  confidence: number;
  /** model.edge_margin_pct: % per 30 days the lower bound must exceed. */
  marginPct: number;
  candlesPer30d: number;
}

export interface VerdictFigures {
  subject: Subject;
  rows: number;
  folds: number;
  subjectPct: number;
  taPct: number;
  buyAndHoldPct: number;
  noTradePct: number;
  /** Confidence level of the stored bounds used. */
  level: number;
  /** Lower bound of the subject's rate (% per 30 days) and as a total over the rows (%). */
  lowerPct30d: number;
  lowerTotalPct: number;
  /** Lower bound of subject - TA (% per 30 days). */
  vsTaLowerPct30d: number;
  taLowerPct30d: number;
  marginPct: number;
}

export interface EdgeVerdict {
  verdict: 'edge' | 'no_edge';
  reason: string;
  taVerdict: 'edge' | 'no_edge';
  taReason: string;
  figures: VerdictFigures;
}

const TOL = 1e-9;
export const fmtPct = (x: number, digits = 1): string => (Number.isFinite(x) ? `${x > 0 ? '+' : x < 0 ? '-' : ''}${Math.abs(x).toFixed(digits)} %` : 'n/a');
const fmtRate = (x: number): string => `${fmtPct(x, 2)}/30d`;
const fmtInt = (n: number): string => n.toLocaleString('en-US');

/**
 * The verdict from stored figures. The TA rule has an edge when its mean beats no-trade and its
 * lower bound exceeds the margin. The subject (the model that would trade) has an edge when:
 *  - its mean beats no-trade (0) and the TA rule's mean (point estimates), and
 *  - its lower bound against no-trade exceeds the margin, and
 *  - when the TA rule has an edge (so TA, not hold, would trade instead), the lower bound of its
 *    paired difference to TA exceeds the margin too.
 * Everything is out of sample, after fees and slippage, through the broker's rule.
 */
export function edgeVerdict(sym: Pick<SymbolEdge, 'rows' | 'folds' | 'strategies' | 'subject'>, o: VerdictOptions): EdgeVerdict {
  const s = sym.strategies[sym.subject];
  const ta = sym.strategies.ta;
  const bh = sym.strategies.buy_and_hold;
  const lower = boundAt(s?.lower_pct_30d, o.confidence);
  const vsTa = boundAt(s?.vs_ta_lower_pct_30d, o.confidence);
  const taLower = boundAt(ta?.lower_pct_30d, o.confidence);
  const figures: VerdictFigures = {
    subject: sym.subject,
    rows: sym.rows,
    folds: sym.folds.length,
    subjectPct: s?.total_pct ?? Number.NaN,
    taPct: ta?.total_pct ?? Number.NaN,
    buyAndHoldPct: bh?.total_pct ?? Number.NaN,
    noTradePct: 0,
    level: lower.level,
    lowerPct30d: lower.value,
    lowerTotalPct: totalOfRate(lower.value, o.candlesPer30d, sym.rows),
    vsTaLowerPct30d: vsTa.value,
    taLowerPct30d: taLower.value,
    marginPct: o.marginPct,
  };
  const lvl = `${Math.round(lower.level * 100)} %`;
  const margin = `margin ${fmtRate(o.marginPct)}`;
  const taEdge = !!ta && ta.mean_pct_30d > 0 && taLower.value > o.marginPct + TOL;
  const taReason = !ta
    ? 'TA rule not judged'
    : `TA ${fmtPct(ta.total_pct)} over ${fmtInt(sym.rows)} candles (${fmtRate(ta.mean_pct_30d)}, ${lvl} bound ${fmtRate(taLower.value)}, ${margin})${taEdge ? '' : ': no edge'}`;
  const head = `${sym.subject} ${fmtPct(figures.subjectPct)} vs TA ${fmtPct(figures.taPct)}, no-trade 0 % over ${fmtInt(sym.rows)} candles`;
  const bound = `${lvl} bound ${fmtPct(figures.lowerTotalPct)}`;
  const fail = (why: string): EdgeVerdict => ({ verdict: 'no_edge', reason: `${head} (${bound}): ${why}`, taVerdict: taEdge ? 'edge' : 'no_edge', taReason, figures });
  if (!s || !ta) return fail(`${!s ? sym.subject : 'the TA rule'} was not judged`);
  if (!(s.mean_pct_30d > 0)) return fail('does not beat no-trade');
  if (!(s.mean_pct_30d > ta.mean_pct_30d)) return fail('does not beat the TA rule');
  if (!(lower.value > o.marginPct + TOL)) return fail(`bound ${fmtRate(lower.value)} is not above the ${margin}`);
  if (taEdge && !(vsTa.value > o.marginPct + TOL)) return fail(`bound over TA ${fmtRate(vsTa.value)} is not above the ${margin}`);
  return {
    verdict: 'edge',
    reason: `${head} (${bound}; ${fmtRate(lower.value)}${taEdge ? `, over TA ${fmtRate(vsTa.value)}` : ''} > ${margin})`,
    taVerdict: taEdge ? 'edge' : 'no_edge',
    taReason,
    figures,
  };
}

export interface EdgeReportInput {
  /** Per symbol, its judged folds (oldest first). */
  folds: Record<string, FoldJudgement[]>;
  subject: Subject;
  costs: Costs;
  candlesPer30d: number;
  blockLength: number;
  confidence: number;
  marginPct: number;
  recipe: EdgeReport['recipe'];
  durationS: number;
}

/** Summaries, bounds and verdicts of judged folds, as stored in metadata.json. */
export function buildEdgeReport(i: EdgeReportInput): EdgeReport {
  const symbols: Record<string, SymbolEdge> = {};
  for (const [symbol, folds] of Object.entries(i.folds)) {
    const summary = summariseFolds(folds, { candlesPer30d: i.candlesPer30d, blockLength: i.blockLength });
    const v = edgeVerdict({ ...summary, subject: i.subject }, { confidence: i.confidence, marginPct: i.marginPct, candlesPer30d: i.candlesPer30d });
    symbols[symbol] = { ...summary, subject: i.subject, verdict: v.verdict, reason: v.reason, ta_verdict: v.taVerdict, ta_reason: v.taReason };
  }
  return {
    unit: EDGE_UNIT,
    candles_per_30d: i.candlesPer30d,
    costs: { fee_rate: i.costs.feeRate, slippage_bps: i.costs.slippageBps, entry_threshold: i.costs.entryThreshold, position_fraction: i.costs.positionFraction ?? 1, liquidate_at_end: i.costs.liquidateAtEnd ?? true },
    bootstrap: { block_length: i.blockLength, resamples: DEFAULT_RESAMPLES, seed: BOOTSTRAP_SEED, levels: [...EDGE_LEVELS] },
    confidence: i.confidence,
    margin_pct: i.marginPct,
    recipe: i.recipe,
    duration_s: Math.round(i.durationS * 100) / 100,
    symbols,
  };
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isNum = (x: unknown): x is number => typeof x === 'number' && !Number.isNaN(x);
const SUBJECTS = new Set(['gru', 'gbdt', 'ppo', 'ensemble']);

/**
 * Check a metadata.json `edge` read from disk before anything trusts it (the registry's loader
 * calls this): the result names the first bad field, e.g. `edge.symbols["BTC/USDT"].strategies.ta.total_pct`.
 */
export function parseEdgeReport(raw: unknown): { edge: EdgeReport } | { error: string } {
  const bad = (path: string, want: string): { error: string } => ({ error: `edge${path}: expected ${want}` });
  if (!isObj(raw)) return bad('', 'an object');
  if (!isNum(raw.candles_per_30d) || raw.candles_per_30d <= 0) return bad('.candles_per_30d', 'a positive number');
  if (!isNum(raw.confidence) || !isNum(raw.margin_pct)) return bad('.confidence/.margin_pct', 'numbers');
  if (!isObj(raw.symbols)) return bad('.symbols', 'an object');
  for (const [sym, e] of Object.entries(raw.symbols)) {
    const at = `.symbols[${JSON.stringify(sym)}]`;
    if (!isObj(e)) return bad(at, 'an object');
    if (!isNum(e.rows)) return bad(`${at}.rows`, 'a number');
    if (!Array.isArray(e.folds) || !e.folds.every((f) => isObj(f) && isNum(f.from) && isNum(f.to) && isNum(f.rows))) return bad(`${at}.folds`, 'a list of {from, to, rows}');
    if (typeof e.subject !== 'string' || !SUBJECTS.has(e.subject)) return bad(`${at}.subject`, 'gru, gbdt, ppo or ensemble');
    if (e.verdict !== 'edge' && e.verdict !== 'no_edge') return bad(`${at}.verdict`, '"edge" or "no_edge"');
    if (!isObj(e.strategies)) return bad(`${at}.strategies`, 'an object');
    for (const [name, s] of Object.entries(e.strategies)) {
      const sp = `${at}.strategies.${name}`;
      if (!isObj(s)) return bad(sp, 'an object');
      for (const k of ['total_pct', 'mean_pct_30d', 'trades', 'exposure', 'fees_pct'] as const) if (!isNum(s[k])) return bad(`${sp}.${k}`, 'a number');
      if (!Array.isArray(s.fold_pnl_pct) || !s.fold_pnl_pct.every(isNum)) return bad(`${sp}.fold_pnl_pct`, 'a list of numbers');
      for (const k of ['lower_pct_30d', 'vs_ta_lower_pct_30d'] as const) {
        if (s[k] === undefined && k === 'vs_ta_lower_pct_30d') continue;
        if (!isObj(s[k]) || !Object.values(s[k] as object).every(isNum)) return bad(`${sp}.${k}`, 'an object of numbers by confidence level');
      }
    }
  }
  return { edge: raw as unknown as EdgeReport };
}

/**
 * The promotion gate's scorecard: was each call right, judged on the candles that came AFTER it?
 * For every gated decision whose next `days` days of candles exist, both versions' PnL after costs
 * over those days (per-candle PnL through the one judgement, src/evaluation/judge.ts, computed by
 * the caller), whether the gate picked the better one, and what two rival rules would have earned
 * on the same candles: "always promote the newest" (FreqAI's rule) and "never retrain" (the first
 * model a symbol got keeps serving it).
 *
 * Pure: decisions and window scores in, a scorecard with a typed verdict out. The scoring itself
 * (loading artifacts, predicting the window) lives in scorecard-run.ts.
 */
import { servingAfter, type DecisionKind, type PromotionDecision } from '../engine-api.js';

const DAY_MS = 86_400_000;

/** Kinds that are the gate's own call between a champion and a challenger. */
const GATED: readonly DecisionKind[] = ['promoted', 'kept', 'no_edge'];

export type WindowStatus = 'due' | 'pending' | 'skipped';

export interface ScorecardWindow {
  decision: PromotionDecision;
  status: WindowStatus;
  /** Why pending or skipped, in words. */
  note: string;
  /** [from, to) of the days after the decision (ms UTC). */
  from: number;
  to: number;
  /** The version "never retrain" would be serving: the symbol's first model. */
  firstVersion: string | null;
}

/**
 * Which decisions can be scored now. `dataEnd[symbol]` is the end (exclusive, ms) of the candles
 * that exist for the symbol; a decision is due once its whole window lies before it.
 */
export function scorecardWindows(decisions: readonly PromotionDecision[], days: number, dataEnd: Readonly<Record<string, number>>): ScorecardWindow[] {
  if (!(days > 0)) throw new RangeError(`scorecard days must be > 0, got ${days}`);
  const ordered = [...decisions].sort((a, b) => a.at - b.at);
  const first = new Map<string, string>();
  const out: ScorecardWindow[] = [];
  for (const d of ordered) {
    // The symbol's first model: the first version that served it (normally a promotion with no champion).
    if (!first.has(d.symbol)) {
      const v = d.championVersion ?? servingAfter(d);
      if (v) first.set(d.symbol, v);
    }
    const from = d.at;
    const to = d.at + days * DAY_MS;
    const w = { decision: d, from, to, firstVersion: first.get(d.symbol) ?? null };
    if (!GATED.includes(d.kind)) out.push({ ...w, status: 'skipped', note: `${d.kind}: not a gate call` });
    else if (d.championVersion === null) out.push({ ...w, status: 'skipped', note: 'first model: no champion to compare with' });
    else if (d.challengerVersion === null) out.push({ ...w, status: 'skipped', note: 'no challenger' });
    else if (!(to <= (dataEnd[d.symbol] ?? -Infinity))) out.push({ ...w, status: 'pending', note: `waits for candles up to ${new Date(to).toISOString().slice(0, 16)}Z` });
    else out.push({ ...w, status: 'due', note: '' });
  }
  return out;
}

/** Total PnL after costs (%) of each version over a window; null = could not be scored (why in `error`). */
export interface WindowScores {
  champion: number | null;
  challenger: number | null;
  first: number | null;
  /** Candles scored. */
  rows: number;
  error?: string;
}

export interface ScorecardEntry {
  at: number;
  symbol: string;
  kind: DecisionKind;
  champion_version: string | null;
  challenger_version: string | null;
  serving_version: string | null;
  first_version: string | null;
  status: 'scored' | WindowStatus | 'unscorable';
  note: string;
  window: [number, number];
  rows: number;
  champion_pct: number | null;
  challenger_pct: number | null;
  /** What the version the gate left serving earned, "always promote the newest", "never retrain". */
  gate_pct: number | null;
  newest_pct: number | null;
  never_pct: number | null;
  /** The gate kept the better version (a tie counts for keeping: it costs nothing). null when not scored. */
  right: boolean | null;
}

export type ScorecardVerdictKind = 'helps' | 'does_not_help' | 'no_evidence';

export interface Scorecard {
  days: number;
  entries: ScorecardEntry[];
  scored: number;
  pending: number;
  right: number;
  wrong: number;
  right_rate: number | null;
  promoted_right: number;
  promoted_wrong: number;
  kept_right: number;
  kept_wrong: number;
  /** Summed over the scored windows (windows of one symbol may overlap): % after costs. */
  totals: { gate_pct: number; newest_pct: number; never_pct: number };
  verdict: { kind: ScorecardVerdictKind; reason: string };
}

/** Window scores keyed by `scoreKey(decision)`. */
export const scoreKey = (d: Pick<PromotionDecision, 'symbol' | 'at'>): string => `${d.symbol}@${d.at}`;

export function buildScorecard(windows: readonly ScorecardWindow[], scores: ReadonlyMap<string, WindowScores>, days: number): Scorecard {
  const entries: ScorecardEntry[] = windows.map((w) => {
    const d = w.decision;
    const base: ScorecardEntry = {
      at: d.at,
      symbol: d.symbol,
      kind: d.kind,
      champion_version: d.championVersion,
      challenger_version: d.challengerVersion,
      serving_version: servingAfter(d),
      first_version: w.firstVersion,
      status: w.status,
      note: w.note,
      window: [w.from, w.to],
      rows: 0,
      champion_pct: null,
      challenger_pct: null,
      gate_pct: null,
      newest_pct: null,
      never_pct: null,
      right: null,
    };
    if (w.status !== 'due') return base;
    const s = scores.get(scoreKey(d));
    const champ = finite(s?.champion);
    const chal = finite(s?.challenger);
    if (!s || champ === null || chal === null) return { ...base, status: 'unscorable', note: s?.error ?? 'no scores for this window' };
    const promoted = d.kind === 'promoted';
    const gate = promoted ? chal : champ;
    // A first model that cannot be scored (removed) leaves "never retrain" on the champion's figure.
    const never = w.firstVersion === d.challengerVersion ? chal : w.firstVersion === d.championVersion ? champ : (finite(s.first) ?? champ);
    return {
      ...base,
      status: 'scored',
      note: '',
      rows: s.rows,
      champion_pct: champ,
      challenger_pct: chal,
      gate_pct: gate,
      newest_pct: chal,
      never_pct: never,
      right: promoted ? chal > champ : champ >= chal,
    };
  });
  const scored = entries.filter((e) => e.status === 'scored');
  const count = (f: (e: ScorecardEntry) => boolean): number => scored.filter(f).length;
  const sum = (f: (e: ScorecardEntry) => number | null): number => scored.reduce((a, e) => a + (f(e) ?? 0), 0);
  const right = count((e) => e.right === true);
  const totals = { gate_pct: sum((e) => e.gate_pct), newest_pct: sum((e) => e.newest_pct), never_pct: sum((e) => e.never_pct) };
  const card: Omit<Scorecard, 'verdict'> = {
    days,
    entries,
    scored: scored.length,
    pending: entries.filter((e) => e.status === 'pending').length,
    right,
    wrong: scored.length - right,
    right_rate: scored.length ? right / scored.length : null,
    promoted_right: count((e) => e.kind === 'promoted' && e.right === true),
    promoted_wrong: count((e) => e.kind === 'promoted' && e.right === false),
    kept_right: count((e) => e.kind !== 'promoted' && e.right === true),
    kept_wrong: count((e) => e.kind !== 'promoted' && e.right === false),
    totals,
  };
  return { ...card, verdict: scorecardVerdict(card) };
}

const finite = (x: number | null | undefined): number | null => (x !== null && x !== undefined && Number.isFinite(x) ? x : null);

const pct = (x: number): string => `${x > 0 ? '+' : x < 0 ? '-' : ''}${Math.abs(x).toFixed(2)} %`;

/** Plain words: the gate helps only when it earned more than BOTH rival rules on the same windows. */
export function scorecardVerdict(c: Omit<Scorecard, 'verdict'>): Scorecard['verdict'] {
  if (c.scored === 0) {
    const why = c.pending ? `${c.pending} decision(s) still wait for ${c.days} days of candles` : 'there were no gated decisions';
    return { kind: 'no_evidence', reason: `no evidence yet: ${why}` };
  }
  const { gate_pct: g, newest_pct: n, never_pct: v } = c.totals;
  const figures = `gate ${pct(g)}, always-promote-newest ${pct(n)}, never-retrain ${pct(v)} summed over ${c.scored} window(s) of ${c.days} days; calls right ${c.right}/${c.scored}`;
  const few = c.scored < 10 ? ' (fewer than 10 scored decisions: weak evidence either way)' : '';
  if (g > n && g > v) return { kind: 'helps', reason: `the gate helped: ${figures}${few}` };
  const better = n >= v ? 'always promoting the newest model' : 'never retraining';
  return { kind: 'does_not_help', reason: `the gate did NOT help: ${better} earned at least as much (${figures})${few}` };
}

const day = (t: number): string => new Date(t).toISOString().slice(0, 16).replace('T', ' ');
const cell = (x: number | null): string => (x === null ? '-' : pct(x));

/** The scorecard as text lines (kilo models, the replay report). */
export function formatScorecard(c: Scorecard, opts: { maxRows?: number } = {}): string {
  const lines = [`gate scorecard (${c.days} days after each decision, PnL after costs):`];
  const shown = c.entries.filter((e) => e.status === 'scored' || e.status === 'pending' || e.status === 'unscorable');
  const rows = opts.maxRows !== undefined ? shown.slice(-opts.maxRows) : shown;
  if (rows.length < shown.length) lines.push(`  (${shown.length - rows.length} older decision(s) not shown; --json has them all)`);
  if (rows.length) {
    lines.push(`  ${'decided'.padEnd(16)} ${'symbol'.padEnd(10)} ${'call'.padEnd(8)} ${'champion'.padStart(16)} ${'challenger'.padStart(16)} ${'right'.padStart(5)}`);
    for (const e of rows) {
      const champ = `${e.champion_version ?? '-'} ${cell(e.champion_pct)}`;
      const chal = `${e.challenger_version ?? '-'} ${cell(e.challenger_pct)}`;
      const right = e.status === 'scored' ? (e.right ? 'yes' : 'NO') : e.status;
      lines.push(`  ${day(e.at).padEnd(16)} ${e.symbol.padEnd(10)} ${e.kind.padEnd(8)} ${champ.padStart(16)} ${chal.padStart(16)} ${right.padStart(5)}${e.status === 'unscorable' ? ` ${e.note}` : ''}`);
    }
  }
  if (c.scored) {
    lines.push(
      `  calls right ${c.right}/${c.scored} (${((c.right_rate ?? 0) * 100).toFixed(0)} %): promotions ${c.promoted_right} right / ${c.promoted_wrong} wrong, keeps ${c.kept_right} right / ${c.kept_wrong} wrong`,
      `  summed over the windows: gate ${pct(c.totals.gate_pct)} | always promote newest (FreqAI) ${pct(c.totals.newest_pct)} | never retrain ${pct(c.totals.never_pct)}`,
    );
  }
  lines.push(`  ${c.verdict.reason}`);
  return lines.join('\n');
}

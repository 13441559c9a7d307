/**
 * Which symbols of the universe can trade and why not. Pure. Precedence per symbol:
 * unsupported tier > operator block > covered (live) > training now > short history (blocked, never
 * queued: training would fail) > queued > failed for good (blocked) > untrained (blocked, or on a
 * fallback when block_untrained_symbols is off; listed in `toQueue` when auto_train_new_symbols).
 */
import type { Config } from '../config/schema.js';
import type { AssetTier, SymbolState } from '../engine-api.js';
import { tierOf } from './tiers.js';

export interface CoverageQueueEntry {
  symbol: string;
  state: 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
  attempts?: number;
  last_error?: string | null;
}

export interface HistoryInfo {
  days: number;
  /** Share of expected candles present (0..1). */
  coverage?: number;
}

export interface CoverageInput {
  universe: readonly string[];
  covered: readonly string[];
  /** Overrides per symbol; others come from config.assets. */
  tiers?: Record<string, AssetTier>;
  queue: readonly CoverageQueueEntry[];
  /** symbol -> why the operator blocked it. */
  manualBlocks?: Record<string, string>;
  historyInfo?: Record<string, HistoryInfo>;
  /**
   * Unknown-tier symbols whose history has not been judged yet (stablecoin, liquidity, length):
   * the engine queues them only once judged trainable, so they are not "to be queued" yet.
   */
  unjudged?: ReadonlySet<string>;
  /** Configured symbols the source does not list: not in the universe, shown with the key naming them. */
  skipped?: readonly SkippedSymbol[];
  config: Config;
}

export interface SkippedSymbol {
  /** The config key that names it, e.g. "universe.symbols[2]". */
  key: string;
  symbol: string;
  reason: string;
}

export interface CoverageRow {
  symbol: string;
  tier: AssetTier;
  state: SymbolState;
  reason: string;
}

export interface CoverageReport {
  rows: CoverageRow[];
  trained: string[];
  untrained: string[];
  queued: string[];
  training: string[];
  blocked: { symbol: string; reason: string }[];
  /** Configured symbols left out of the universe (not listed on the source), with why. */
  skipped: SkippedSymbol[];
  /** Untrained symbols the engine should add to the training queue now. */
  toQueue: string[];
  /** The config switches that shaped this report, in words. */
  configStatus: string[];
}

const onOff = (b: boolean): string => (b ? 'on' : 'off');

export function computeCoverage(input: CoverageInput): CoverageReport {
  const { config } = input;
  const m = config.model;
  const covered = new Set(input.covered);
  const rows: CoverageRow[] = [];
  const toQueue: string[] = [];
  const latest = new Map<string, CoverageQueueEntry>();
  for (const e of input.queue) {
    const prev = latest.get(e.symbol);
    // An active entry speaks for the symbol over finished ones.
    if (!prev || e.state === 'running' || (e.state === 'queued' && prev.state !== 'running')) latest.set(e.symbol, e);
  }

  for (const symbol of input.universe) {
    const tier = input.tiers?.[symbol] ?? tierOf(symbol, config);
    const q = latest.get(symbol);
    const hist = input.historyInfo?.[symbol];
    const row = (state: SymbolState, reason: string): void => void rows.push({ symbol, tier, state, reason });
    const block = input.manualBlocks?.[symbol];
    if (tier === 'unsupported') row('unsupported', 'listed in assets.unsupported');
    else if (block !== undefined) row('blocked', `blocked by the operator${block ? `: ${block}` : ''}`);
    else if (covered.has(symbol)) row('live', 'model available');
    else if (q?.state === 'running') row('training', 'untrained; training now');
    else if (hist && m.block_short_history_symbols && hist.days < m.min_history_days_to_train) {
      row('blocked', `history ${hist.days.toFixed(0)} days < ${m.min_history_days_to_train} needed (model.min_history_days_to_train)`);
    } else if (hist && m.block_short_history_symbols && hist.coverage !== undefined && hist.coverage < m.min_history_coverage_pct) {
      row('blocked', `history has gaps: ${(hist.coverage * 100).toFixed(1)}% present < ${(m.min_history_coverage_pct * 100).toFixed(1)}% needed`);
    } else if (q?.state === 'queued') row('queued', `untrained; waiting in the training queue${q.attempts ? ` (attempt ${q.attempts + 1})` : ''}`);
    else if (q?.state === 'failed') row('blocked', `untrained; training failed ${q.attempts ?? 0} times${q.last_error ? `: ${q.last_error}` : ''}`);
    else {
      const judging = input.unjudged?.has(symbol) ?? false;
      const next = !m.auto_train_new_symbols
        ? 'auto_train_new_symbols is off: run `kilo train`'
        : judging
          ? 'its history is judged first (stablecoin, liquidity, length), then it is queued if trainable'
          : 'will be queued for training';
      if (m.auto_train_new_symbols && !judging) toQueue.push(symbol);
      if (m.block_untrained_symbols) row('blocked', `untrained; ${next}`);
      else row('fallback', `untrained; signals come from a fallback; ${next}`);
    }
  }

  const inState = (s: SymbolState): string[] => rows.filter((r) => r.state === s).map((r) => r.symbol);
  return {
    rows,
    trained: input.universe.filter((s) => covered.has(s)),
    untrained: input.universe.filter((s) => !covered.has(s)),
    queued: inState('queued'),
    training: inState('training'),
    blocked: rows.filter((r) => r.state === 'blocked').map((r) => ({ symbol: r.symbol, reason: r.reason })),
    skipped: (input.skipped ?? []).map((x) => ({ ...x })),
    toQueue,
    configStatus: [
      `block_untrained_symbols: ${onOff(m.block_untrained_symbols)}`,
      `auto_train_new_symbols: ${onOff(m.auto_train_new_symbols)}`,
      `block_short_history_symbols: ${onOff(m.block_short_history_symbols)} (min ${m.min_history_days_to_train} days, ${(m.min_history_coverage_pct * 100).toFixed(0)}% coverage)`,
      `training_mode: ${m.training_mode}${m.training_mode === 'multi_symbol' ? ` (${m.symbol_encoding})` : ''}`,
    ],
  };
}

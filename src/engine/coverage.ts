/**
 * The engine's universe and coverage: which symbols are traded, how each unknown-tier symbol was
 * judged from its history, which are covered by a model, blocked or queued, and the queueing of
 * untrained symbols. The facts (universe, judgements, blocks, short histories) are kept by
 * EngineState; the report is the pure coverageOf() of them. `kilo coverage` computes the same
 * report with the same functions: resolveUniverse() (the configured symbols the source lists, core
 * symbols included, the others skipped with their key) and judgeHistory() (the judgement of an
 * unknown-tier symbol from its candles), through assessUniverse() when no engine saved them.
 * Recomputed every round and after every change that can move it.
 */
import type { Clock } from '../clock.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { TIMEFRAME_MS, type MarketDataSource, type SymbolInfo, type Timeframe } from '../market/types.js';
import type { ModelRegistry } from '../registry/registry.js';
import type { TrainingQueue } from '../training/queue.js';
import type { PaperBroker } from '../trading/broker.js';
import { computeCoverage, type CoverageReport, type SkippedSymbol } from '../assets/coverage.js';
import { tierOf } from '../assets/tiers.js';
import { classifyUnknownAsset, type UnknownAssetJudgement } from '../policy/tier.js';
import { marketListOf, universeEntries, validateConfiguredSymbols, validateSymbol, type MarketList, type SymbolCheck } from '../market/symbols.js';
import type { QueueEntry } from '../training/queue.js';
import type { EngineState, ShortHistory } from './state.js';
import type { ConditionLog } from './condition-log.js';

const DAY_MS = 86_400_000;

/**
 * The universe the engine trades on this market list: the configured core symbols and (list mode)
 * symbols the source lists, or (top_volume) the core symbols plus the top_n listed by 24h quote
 * volume; configured symbols the source does not list are skipped, each with the key naming it.
 * `listed` is the source's symbol list with volumes (top_volume only).
 */
export function resolveUniverse(config: Config, list: MarketList, listed: readonly SymbolInfo[] | null): { symbols: string[]; skipped: SkippedSymbol[] } {
  const checked = validateConfiguredSymbols(universeEntries(config.universe, config.universe.mode), list);
  const top =
    config.universe.mode === 'top_volume' && listed
      ? [...listed]
          .filter((s) => s.quote === config.exchange.quote)
          .sort((a, b) => b.quoteVolume24h - a.quoteVolume24h)
          .slice(0, config.universe.top_n)
          .map((s) => s.symbol)
      : [];
  return { symbols: [...new Set([...checked.symbols, ...top])], skipped: checked.rejected };
}

/** Judge an unknown-tier symbol from the history the source has up to `marketNow`, as the engine does. */
export async function judgeHistory(source: MarketDataSource, symbol: string, config: Config, marketNow: number): Promise<UnknownAssetJudgement> {
  const tf = config.exchange.timeframe as Timeframe;
  const step = TIMEFRAME_MS[tf];
  const until = Math.floor(marketNow / step) * step;
  const candles = await source.fetchCandles(symbol, tf, until - config.model.target_history_days * DAY_MS, until);
  return classifyUnknownAsset(candles, tf, config);
}

/** The universe symbols of tier unknown with no judgement yet (not queued until judged trainable). */
export function unjudgedOf(config: Config, universe: readonly string[], judgements: ReadonlyMap<string, UnknownAssetJudgement>): Set<string> {
  return new Set(universe.filter((s) => tierOf(s, config) === 'unknown' && !judgements.has(s)));
}

/** Pure: the coverage report of these facts (the engine's and `kilo coverage`'s). */
export function coverageOf(f: {
  config: Config;
  universe: readonly string[];
  covered: readonly string[];
  judgements: ReadonlyMap<string, UnknownAssetJudgement>;
  shortHistory: ReadonlyMap<string, ShortHistory>;
  blocks: Readonly<Record<string, string>>;
  queue: readonly QueueEntry[];
  skipped?: readonly SkippedSymbol[];
}): CoverageReport {
  const tiers: Record<string, 'unsupported'> = {};
  const historyInfo: Record<string, { days: number; coverage?: number }> = {};
  const reasons: Record<string, string> = {};
  for (const [s, j] of f.judgements) {
    if (j.verdict === 'stablecoin' || j.verdict === 'illiquid') {
      tiers[s] = 'unsupported';
      reasons[s] = j.reason;
    }
    if (j.verdict === 'insufficient_data') historyInfo[s] = { days: j.historyDays, coverage: j.coverage };
  }
  for (const [s, h] of f.shortHistory) historyInfo[s] = { days: h.days, coverage: h.coverage };
  const report = computeCoverage({
    universe: f.universe,
    covered: f.covered,
    tiers,
    queue: f.queue.map((e) => ({ symbol: e.symbol, state: e.state, attempts: e.attempts, last_error: e.last_error })),
    manualBlocks: { ...f.blocks },
    historyInfo,
    unjudged: unjudgedOf(f.config, f.universe, f.judgements),
    skipped: f.skipped,
    config: f.config,
  });
  for (const row of report.rows) if (reasons[row.symbol] && row.state === 'unsupported') row.reason = reasons[row.symbol];
  return report;
}

export interface AssessedUniverse {
  universe: string[];
  skipped: SkippedSymbol[];
  /** The saved judgements, and those made now for unknown-tier symbols the engine never judged. */
  judgements: Map<string, UnknownAssetJudgement>;
  notes: string[];
}

/**
 * What the engine would make of the configured universe on `source` at `marketNow`, for a command
 * that answers without it (`kilo coverage`): the same resolveUniverse() and judgeHistory(). A
 * top_volume universe the engine saved is used as is (the top list moves; the engine's is the truth).
 */
export async function assessUniverse(o: {
  config: Config;
  source: MarketDataSource;
  marketNow: number;
  savedUniverse: readonly string[];
  savedJudgements: Readonly<Record<string, UnknownAssetJudgement>>;
}): Promise<AssessedUniverse> {
  const { config, source } = o;
  const notes: string[] = [];
  const list = await marketListOf(source);
  if (!list.symbols && list.unavailable) notes.push(`${list.unavailable}: configured symbols are not checked against it`);
  let listed: SymbolInfo[] | null = null;
  if (config.universe.mode === 'top_volume' && o.savedUniverse.length === 0) {
    listed = await source.listSymbols().catch((err: Error) => {
      notes.push(`top_volume universe unavailable (${err.message}): core symbols only`);
      return null;
    });
  }
  const r = resolveUniverse(config, list, listed);
  const universe = config.universe.mode === 'top_volume' && o.savedUniverse.length ? [...o.savedUniverse] : r.symbols;
  const judgements = new Map(Object.entries(o.savedJudgements));
  for (const symbol of unjudgedOf(config, universe, judgements)) {
    try {
      judgements.set(symbol, await judgeHistory(source, symbol, config, o.marketNow));
    } catch (err) {
      notes.push(`could not judge ${symbol} (the engine tries again later): ${(err as Error).message}`);
    }
  }
  return { universe, skipped: r.skipped, judgements, notes };
}

export interface CoverageDeps {
  config: Config;
  state: EngineState;
  clock: Clock;
  marketNow: () => number;
  timeframe: Timeframe;
  stepMs: number;
  source: MarketDataSource;
  registry: ModelRegistry;
  queue: TrainingQueue;
  broker: PaperBroker;
  logger: Logger;
  /** Repeating warnings (a symbol that cannot be judged) are logged when they start, change and end. */
  conditions: ConditionLog;
}

/** A failed judgement is tried again after this long, not every round. */
const JUDGE_RETRY_MS = 10 * 60_000;
/** An operator command reads the market list again after this long. */
const LIST_TTL_MS = 10 * 60_000;

export class CoverageKeeper {
  report: CoverageReport | null = null;
  private readonly judging = new Set<string>();
  private readonly judgeFailedAt = new Map<string, number>();
  private universeAt = -Infinity;
  /** Configured symbols already reported as skipped (warned once, not every refresh). */
  private readonly warnedSkipped = new Set<string>();
  /** Configured symbols the source does not list, shown in the coverage report. */
  private skipped: SkippedSymbol[] = [];
  /** The source's market list, read at most every LIST_TTL_MS for operator commands (`:train`). */
  private list: { at: number; list: MarketList } | null = null;

  constructor(private readonly d: CoverageDeps) {}

  get universe(): readonly string[] {
    return this.d.state.universe();
  }

  row(symbol: string) {
    return this.report?.rows.find((r) => r.symbol === symbol);
  }

  /** The listed symbols (list mode) or the top-N by quote volume, always with the core symbols. */
  async refreshUniverse(): Promise<void> {
    const { config, clock, source, logger, state } = this.d;
    const now = clock.now();
    // A failed top_volume refresh keeps the last universe (the saved one at start).
    if (this.universeAt > -Infinity && now - this.universeAt < config.universe.refresh_interval_h * 3_600_000) return;
    this.universeAt = now;
    const list = await this.marketList(true);
    let listed: SymbolInfo[] | null = null;
    if (config.universe.mode === 'top_volume') {
      try {
        listed = await source.listSymbols();
      } catch (err) {
        logger.warn(`universe refresh failed, keeping ${this.universe.length} symbols: ${(err as Error).message}`);
        return;
      }
    }
    const r = resolveUniverse(config, list, listed);
    this.skipped = r.skipped;
    this.reportSkipped(r.skipped);
    state.setUniverse(r.symbols);
  }

  /**
   * Configured symbols the source does not list are skipped, each named once with its key: one
   * line per reason listing them all, so 5,000 of them are a few lines, not 5,000 (or 5,000 a round).
   */
  private reportSkipped(skipped: readonly SkippedSymbol[]): void {
    const fresh = skipped.filter((x) => !this.warnedSkipped.has(`${x.key}=${x.symbol}`));
    for (const x of fresh) this.warnedSkipped.add(`${x.key}=${x.symbol}`);
    const byReason = new Map<string, SkippedSymbol[]>();
    for (const x of fresh) byReason.set(x.reason, [...(byReason.get(x.reason) ?? []), x]);
    // The first few are named with their keys; `kilo coverage` lists them all.
    const SHOWN = 10;
    for (const [reason, xs] of byReason) {
      if (xs.length === 1) this.d.logger.warn(`config ${xs[0].key}: ${xs[0].symbol} skipped: ${reason}`, xs[0].symbol);
      else {
        const named = xs.slice(0, SHOWN).map((x) => `${x.symbol} (${x.key})`).join(', ');
        const more = xs.length > SHOWN ? ` and ${xs.length - SHOWN} more (kilo coverage lists them)` : '';
        this.d.logger.warn(`config: ${xs.length} symbols skipped: ${reason}: ${named}${more}`);
      }
    }
  }

  /** The source's market list (cached for LIST_TTL_MS; `fresh` reads it again). */
  private async marketList(fresh = false): Promise<MarketList> {
    const now = this.d.clock.now();
    if (!fresh && this.list && this.list.list.symbols && now - this.list.at < LIST_TTL_MS) return this.list.list;
    const list = await marketListOf(this.d.source);
    this.list = { at: now, list };
    return list;
  }

  /** An operator-typed symbol (`:train`) checked like every other entry: syntax, then listed on the source. */
  async checkSymbol(input: string): Promise<SymbolCheck> {
    return validateSymbol(input, await this.marketList());
  }

  /** Unknown-tier symbols are judged once from their history (stablecoin, illiquid, too young). */
  judgeUnknown(symbol: string): void {
    const { config, source, logger, state, clock } = this.d;
    if (state.judgement(symbol) || this.judging.has(symbol) || tierOf(symbol, config) !== 'unknown') return;
    if (clock.now() - (this.judgeFailedAt.get(symbol) ?? -Infinity) < JUDGE_RETRY_MS) return;
    this.judging.add(symbol);
    judgeHistory(source, symbol, config, this.d.marketNow())
      .then((j) => {
        this.judgeFailedAt.delete(symbol);
        this.d.conditions.report(`judge ${symbol}`, null, symbol);
        logger.info(`${symbol} judged ${j.verdict}: ${j.reason}`, symbol);
        state.setJudgement(symbol, j);
      })
      .catch((err) => {
        this.judgeFailedAt.set(symbol, clock.now());
        this.d.conditions.report(`judge ${symbol}`, `could not judge ${symbol}: ${(err as Error).message}`, symbol);
      })
      .finally(() => this.judging.delete(symbol));
  }

  /** Coverage from the registry, tiers, judgements, queue and blocks; the broker follows it. */
  recompute(): void {
    const { state } = this.d;
    const cfg = state.effectiveConfig();
    this.report = coverageOf({
      config: cfg,
      universe: this.universe,
      covered: this.d.registry.coveredSymbols(cfg),
      judgements: state.judgements(),
      shortHistory: state.shortHistory(),
      blocks: state.blocks(),
      queue: this.d.queue.list(),
      skipped: this.skipped,
    });
    for (const row of this.report.rows) this.d.broker.setBlocked(row.symbol, row.state !== 'live' && row.state !== 'fallback');
  }

  /** Queue every uncovered symbol that may train (unknown ones only once judged trainable). */
  async queueUntrained(): Promise<void> {
    const { config, queue, logger } = this.d;
    if (!this.report || !config.model.auto_train_new_symbols) return;
    for (const symbol of this.report.toQueue) {
      const tier = tierOf(symbol, config);
      if (tier === 'unknown' && this.d.state.judgement(symbol)?.verdict !== 'trainable') continue;
      const { added } = await queue.add(symbol, {
        priority: tier === 'pre_trained' ? 10 : tier === 'quick_train' ? 5 : 1,
        trigger: 'new_symbol',
        reason: 'new symbol: no model covers it',
      });
      if (added) logger.info(`${symbol} queued for training (no model covers it; blocked until trained)`, symbol);
    }
  }
}

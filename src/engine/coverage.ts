/**
 * The engine's universe and coverage: which symbols are traded, how each unknown-tier symbol was
 * judged from its history, which are covered by a model, blocked or queued, and the queueing of
 * untrained symbols. The facts (universe, judgements, blocks, short histories) are kept by
 * EngineState; the report is the pure coverageOf() of them, which `kilo coverage` computes the same
 * way from the files. Recomputed every round and after every change that can move it.
 */
import type { Clock } from '../clock.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { MarketDataSource, Timeframe } from '../market/types.js';
import type { ModelRegistry } from '../registry/registry.js';
import type { TrainingQueue } from '../training/queue.js';
import type { PaperBroker } from '../trading/broker.js';
import { computeCoverage, type CoverageReport } from '../assets/coverage.js';
import { tierOf } from '../assets/tiers.js';
import { classifyUnknownAsset, type UnknownAssetJudgement } from '../policy/tier.js';
import { marketListOf, universeEntries, validateConfiguredSymbols } from '../market/symbols.js';
import type { QueueEntry } from '../training/queue.js';
import type { EngineState, ShortHistory } from './state.js';
import type { ConditionLog } from './condition-log.js';

const DAY_MS = 86_400_000;

/** Pure: the coverage report of these facts (the engine's and `kilo coverage`'s). */
export function coverageOf(f: {
  config: Config;
  universe: readonly string[];
  covered: readonly string[];
  judgements: ReadonlyMap<string, UnknownAssetJudgement>;
  shortHistory: ReadonlyMap<string, ShortHistory>;
  blocks: Readonly<Record<string, string>>;
  queue: readonly QueueEntry[];
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
    config: f.config,
  });
  for (const row of report.rows) if (reasons[row.symbol] && row.state === 'unsupported') row.reason = reasons[row.symbol];
  return report;
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

export class CoverageKeeper {
  report: CoverageReport | null = null;
  private readonly judging = new Set<string>();
  private readonly judgeFailedAt = new Map<string, number>();
  private universeAt = -Infinity;
  /** Configured symbols already reported as skipped (warned once, not every refresh). */
  private readonly skipped = new Set<string>();

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
    // data: configured symbols the source does not list are skipped, naming the key (once).
    const checked = validateConfiguredSymbols(universeEntries(config.universe, config.universe.mode), await marketListOf(source));
    for (const r of checked.rejected) if (!this.skipped.has(`${r.key}=${r.symbol}`) && this.skipped.add(`${r.key}=${r.symbol}`)) logger.warn(`config ${r.key}: ${r.symbol} skipped: ${r.reason}`, r.symbol);
    const withCore = (xs: string[]): string[] => [...new Set([...checked.symbols, ...xs])];
    if (config.universe.mode === 'list') {
      state.setUniverse(withCore([]));
      return;
    }
    try {
      const listed = await source.listSymbols();
      state.setUniverse(withCore(
        listed
          .filter((s) => s.quote === config.exchange.quote)
          .sort((a, b) => b.quoteVolume24h - a.quoteVolume24h)
          .slice(0, config.universe.top_n)
          .map((s) => s.symbol),
        ),
      );
    } catch (err) {
      logger.warn(`universe refresh failed, keeping ${this.universe.length} symbols: ${(err as Error).message}`);
    }
  }

  /** Unknown-tier symbols are judged once from their history (stablecoin, illiquid, too young). */
  judgeUnknown(symbol: string): void {
    const { config, source, logger, timeframe, stepMs, state, clock } = this.d;
    if (state.judgement(symbol) || this.judging.has(symbol) || tierOf(symbol, config) !== 'unknown') return;
    if (clock.now() - (this.judgeFailedAt.get(symbol) ?? -Infinity) < JUDGE_RETRY_MS) return;
    this.judging.add(symbol);
    const until = Math.floor(this.d.marketNow() / stepMs) * stepMs;
    source
      .fetchCandles(symbol, timeframe, until - config.model.target_history_days * DAY_MS, until)
      .then((candles) => {
        const j = classifyUnknownAsset(candles, timeframe, config);
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

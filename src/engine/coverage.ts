/**
 * The engine's universe and coverage: which symbols are traded, how each unknown-tier symbol was
 * judged from its history, which are covered by a model, blocked or queued, and the queueing of
 * untrained symbols. Owned by createEngine; recomputed every round and after every command that
 * can change it (a block, a pin, a finished training).
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

const DAY_MS = 86_400_000;

export interface CoverageDeps {
  config: Config;
  /** The config with the operator's current pin applied. */
  effectiveConfig: () => Config;
  clock: Clock;
  marketNow: () => number;
  timeframe: Timeframe;
  stepMs: number;
  source: MarketDataSource;
  registry: ModelRegistry;
  queue: TrainingQueue;
  broker: PaperBroker;
  logger: Logger;
  /** Operator blocks, shared with the engine state file. */
  manualBlocks: Record<string, string>;
  /** Symbols whose training found too little history (from the trainer). */
  shortHistory: () => ReadonlyMap<string, { days: number; coverage: number }>;
  /** A background judgement landed: coverage was recomputed, the snapshot should be republished. */
  onJudged: () => void;
}

export class CoverageKeeper {
  universe: string[] = [];
  report: CoverageReport | null = null;
  readonly judgements = new Map<string, UnknownAssetJudgement>();
  private readonly judging = new Set<string>();
  private universeAt = -Infinity;
  /** Configured symbols already reported as skipped (warned once, not every refresh). */
  private readonly skipped = new Set<string>();

  constructor(private readonly d: CoverageDeps) {}

  row(symbol: string) {
    return this.report?.rows.find((r) => r.symbol === symbol);
  }

  /** The listed symbols (list mode) or the top-N by quote volume, always with the core symbols. */
  async refreshUniverse(): Promise<void> {
    const { config, clock, source, logger } = this.d;
    const now = clock.now();
    if (this.universe.length && now - this.universeAt < config.universe.refresh_interval_h * 3_600_000) return;
    this.universeAt = now;
    // data: configured symbols the source does not list are skipped, naming the key (once).
    const checked = validateConfiguredSymbols(universeEntries(config.universe, config.universe.mode), await marketListOf(source));
    for (const r of checked.rejected) if (!this.skipped.has(`${r.key}=${r.symbol}`) && this.skipped.add(`${r.key}=${r.symbol}`)) logger.warn(`config ${r.key}: ${r.symbol} skipped: ${r.reason}`, r.symbol);
    const withCore = (xs: string[]): string[] => [...new Set([...checked.symbols, ...xs])];
    if (config.universe.mode === 'list') {
      this.universe = withCore([]);
      return;
    }
    try {
      const listed = await source.listSymbols();
      this.universe = withCore(
        listed
          .filter((s) => s.quote === config.exchange.quote)
          .sort((a, b) => b.quoteVolume24h - a.quoteVolume24h)
          .slice(0, config.universe.top_n)
          .map((s) => s.symbol),
      );
    } catch (err) {
      logger.warn(`universe refresh failed, keeping ${this.universe.length} symbols: ${(err as Error).message}`);
    }
  }

  /** Unknown-tier symbols are judged once from their history (stablecoin, illiquid, too young). */
  judgeUnknown(symbol: string): void {
    const { config, source, logger, timeframe, stepMs } = this.d;
    if (this.judgements.has(symbol) || this.judging.has(symbol) || tierOf(symbol, config) !== 'unknown') return;
    this.judging.add(symbol);
    const until = Math.floor(this.d.marketNow() / stepMs) * stepMs;
    source
      .fetchCandles(symbol, timeframe, until - config.model.target_history_days * DAY_MS, until)
      .then((candles) => {
        const j = classifyUnknownAsset(candles, timeframe, config);
        this.judgements.set(symbol, j);
        logger.info(`${symbol} judged ${j.verdict}: ${j.reason}`, symbol);
        this.recompute();
        this.d.onJudged();
      })
      .catch((err) => logger.warn(`could not judge ${symbol}: ${(err as Error).message}`, symbol))
      .finally(() => this.judging.delete(symbol));
  }

  /** Coverage from the registry, tiers, judgements, queue and blocks; the broker follows it. */
  recompute(): void {
    const cfg = this.d.effectiveConfig();
    const tiers: Record<string, 'unsupported'> = {};
    const historyInfo: Record<string, { days: number; coverage?: number }> = {};
    const reasons: Record<string, string> = {};
    for (const [s, j] of this.judgements) {
      if (j.verdict === 'stablecoin' || j.verdict === 'illiquid') {
        tiers[s] = 'unsupported';
        reasons[s] = j.reason;
      }
      if (j.verdict === 'insufficient_data') historyInfo[s] = { days: j.historyDays, coverage: j.coverage };
    }
    for (const [s, h] of this.d.shortHistory()) historyInfo[s] = { days: h.days, coverage: h.coverage };
    const entries = this.d.queue.list().map((e) => ({ symbol: e.symbol, state: e.state, attempts: e.attempts, last_error: e.last_error }));
    this.report = computeCoverage({
      universe: this.universe,
      covered: this.d.registry.coveredSymbols(cfg),
      tiers,
      queue: entries,
      manualBlocks: this.d.manualBlocks,
      historyInfo,
      config: cfg,
    });
    for (const row of this.report.rows) {
      if (reasons[row.symbol] && row.state === 'unsupported') row.reason = reasons[row.symbol];
      this.d.broker.setBlocked(row.symbol, row.state !== 'live' && row.state !== 'fallback');
    }
  }

  /** Queue every uncovered symbol that may train (unknown ones only once judged trainable). */
  async queueUntrained(): Promise<void> {
    const { config, queue, logger } = this.d;
    if (!this.report || !config.model.auto_train_new_symbols) return;
    for (const symbol of this.report.toQueue) {
      const tier = tierOf(symbol, config);
      if (tier === 'unknown' && this.judgements.get(symbol)?.verdict !== 'trainable') continue;
      const { added } = await queue.add(symbol, { priority: tier === 'pre_trained' ? 10 : tier === 'quick_train' ? 5 : 1, reason: 'new symbol: no model covers it' });
      if (added) logger.info(`${symbol} queued for training (no model covers it; blocked until trained)`, symbol);
    }
  }
}

/**
 * One round: feed -> signals -> broker -> outcomes -> retrain policy -> queue. For every symbol
 * with a newly closed candle: outcomes resolve, coverage (blocking, queueing), the signal (model,
 * fallback or TA), a paper trade unless blocked; then the retrain policy for every symbol, the
 * queue is pumped, a heartbeat when due, state persisted and the snapshot republished.
 */
import type { Clock } from '../clock.js';
import type { Config } from '../config/schema.js';
import type { EngineSnapshot, HeartbeatEvent } from '../engine-api.js';
import type { Logger } from '../log/logger.js';
import { formatHeartbeatLine } from '../log/heartbeat.js';
import type { ModelRegistry } from '../registry/registry.js';
import type { TrainingQueue } from '../training/queue.js';
import type { PaperBroker } from '../trading/broker.js';
import type { TradingDesk } from '../trading/desk.js';
import type { OutcomeTracker } from '../trading/outcomes.js';
import { decideRetrain } from '../policy/retrain.js';
import type { ConditionLog } from './condition-log.js';
import type { CoverageKeeper } from './coverage.js';
import type { MarketFeed } from './feed.js';
import { signalsFor, type SignalDeps } from './signals.js';
import type { EngineState } from './state.js';
import type { EngineStore } from './store.js';
import type { Trainer } from './trainer.js';

const DAY_MS = 86_400_000;
const STATS_SAVE_MS = 10_000;
const REGISTRY_SCAN_MS = 60_000;
const BENCHMARK_POINTS = 500;

export interface RoundDeps {
  config: Config;
  clock: Clock;
  stepMs: number;
  marketNow: () => number;
  /** Moves the simulated market one candle on before every round but the first (sim / CSV). */
  advanceMarket: (() => void) | null;
  /** Market time is persisted (sim / CSV) so a restart resumes where it stopped. */
  persistMarketTime: boolean;
  state: EngineState;
  coverage: CoverageKeeper;
  feed: MarketFeed;
  desk: TradingDesk;
  broker: PaperBroker;
  outcomes: OutcomeTracker;
  registry: ModelRegistry;
  queue: TrainingQueue;
  trainer: Trainer;
  signals: SignalDeps;
  logger: Logger;
  conditions: ConditionLog;
  store: EngineStore;
  /** Scores the challengers running in shadow and ends those whose days are over (ModelDecisions.checkShadows). */
  checkShadows?: () => Promise<void>;
  /** Project the state into the snapshot and store it; returns it. */
  publish: () => EngineSnapshot;
  /**
   * Engine state and stats are written every this many rounds (and always by persist(true) at
   * stop). 1 live; a replay, whose home is private and never resumed mid-way, writes far less often.
   * @default 1
   */
  persistEveryRounds?: number;
  /** Rescan models/ for versions trained by another process (off in a replay: nothing else writes its home). @default true */
  scanRegistry?: boolean;
}

/** Where a round's wall time goes, summed over the rounds (ms); the replay bench prints it. */
export type RoundPhase = 'universe' | 'feed' | 'coverage' | 'signals' | 'retrain' | 'queue' | 'persist' | 'publish';

export class RoundRunner {
  count = 0;
  private running: Promise<void> | null = null;
  private lastHeartbeat = -Infinity;
  private lastRegistryScan: number;
  private statsSavedAt = -Infinity;
  readonly phaseMs: Record<RoundPhase, number> = { universe: 0, feed: 0, coverage: 0, signals: 0, retrain: 0, queue: 0, persist: 0, publish: 0 };

  constructor(private readonly d: RoundDeps) {
    this.lastRegistryScan = d.clock.now();
  }

  /** The round in progress, if any (stop waits for it). */
  get current(): Promise<void> | null {
    return this.running;
  }

  run(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.round().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async round(): Promise<void> {
    const { d } = this;
    const { coverage: cov, state, logger } = d;
    if (this.count > 0) d.advanceMarket?.();
    this.count++;
    const now = d.marketNow();
    let t0 = performance.now();
    const lap = (phase: RoundPhase): void => {
      const t = performance.now();
      this.phaseMs[phase] += t - t0;
      t0 = t;
    };
    await cov.refreshUniverse();
    // Models trained outside this engine (`kilo train` in another terminal) are picked up here.
    if (d.scanRegistry !== false && d.clock.now() - this.lastRegistryScan >= REGISTRY_SCAN_MS) {
      this.lastRegistryScan = d.clock.now();
      if (await d.registry.refresh()) logger.info('model registry changed: selection and coverage updated');
    }
    lap('universe');
    const universe = [...cov.universe];
    const poll = await d.feed.poll(universe, now);
    // The feed reports a failure when it starts or changes, and says when data flows again.
    for (const f of poll.failures) logger.warn(`${f.symbol}: market data failed, skipped this round: ${f.error}`, f.symbol);
    lap('feed');
    for (const symbol of universe) cov.judgeUnknown(symbol);
    for (const [symbol, candles] of poll.fresh) for (const c of candles) d.desk.onCandle(symbol, c);
    cov.recompute();
    await cov.queueUntrained();
    cov.recompute();
    lap('coverage');
    // data gate: no signal on a stale, half-filled or unconfirmed-suspicious window.
    const signals = await signalsFor(d.signals, poll.signalable);
    for (const s of signals) {
      state.recordSignal(s);
      // A model without an edge is a fallback too (to the TA rule or a flat hold): kilo history shows when it started and ended.
      const via = s.fallback ? (s.modelVersion ?? 'ta') : s.traded ? s.traded.via : null;
      state.noteFallback(s.symbol, via, s.modelVersion, s.traded && s.edge ? `${s.edge.label}: ${s.edge.reason}` : (s.reason ?? 'own model'), s.at);
      d.store.emit('signal', s);
      const last = d.feed.last(s.symbol)!;
      // The model's own call is recorded (its outcomes drive the retrain policy); the broker gets `traded` when it has no edge.
      const r = d.desk.onSignal(s, last.close, last.timestamp, undefined, s.traded);
      if (r.trade) {
        const trade = s.traded ? { ...r.trade, reason: `${s.traded.via === 'ta' ? 'TA rule' : 'flat'} (model v${s.modelVersion} has no edge): ${r.trade.reason}` } : r.trade;
        state.recordTrade(trade);
        d.store.emit('trade', trade);
        logger.info(`paper ${trade.side} ${trade.qty.toPrecision(4)} ${s.symbol} @ ${trade.price.toFixed(4)} (${trade.reason})`, s.symbol);
      }
    }
    d.broker.recordEquity();
    const prices = new Map<string, number>();
    for (const row of cov.report?.rows ?? []) {
      const c = d.feed.last(row.symbol);
      if (c && row.state !== 'unsupported') prices.set(row.symbol, c.close);
    }
    state.recordBenchmark(prices, d.config.paper_trading.starting_cash, BENCHMARK_POINTS);
    lap('signals');
    await d.checkShadows?.().catch((err) => logger.error(`shadow: ${(err as Error).message}`));
    await this.retrainCheck(now);
    lap('retrain');
    await d.trainer.pump().catch((err) => logger.error(`queue: ${(err as Error).message}`));
    lap('queue');
    await this.persist();
    lap('persist');
    const snap = d.publish();
    // Heartbeats follow the engine clock: wall time live (even on the fast simulator), the
    // simulated clock in a replay (which passes it as the clock).
    if (d.clock.now() - this.lastHeartbeat >= d.config.heartbeat_interval_s * 1000) this.heartbeat(snap);
    lap('publish');
  }

  private async retrainCheck(now: number): Promise<void> {
    const { d } = this;
    const cfg = d.state.effectiveConfig();
    for (const symbol of d.coverage.universe) {
      const row = d.coverage.row(symbol);
      if (!row || row.state === 'unsupported') continue;
      const serving = d.registry.servingArtifactFor(cfg, symbol, now);
      const inputs = d.outcomes.retrainInputs(symbol);
      const trainedAt = serving?.artifact.metadata?.training_end_timestamp ?? null;
      const dec = decideRetrain(
        {
          hasModel: Boolean(serving),
          ...inputs,
          lastRetrainAt: inputs.lastRetrainAt ?? trainedAt,
          candles: Math.round((d.config.training.quick.data_days * DAY_MS) / d.stepMs),
        },
        d.config.auto_training,
        now,
      );
      const prev = d.state.setRetrainDecision(symbol, dec);
      if (!dec.retrain) continue;
      if (d.queue.list().some((e) => e.symbol === symbol && (e.state === 'queued' || e.state === 'running'))) continue;
      const { added } = await d.queue.add(symbol, { priority: 3, trigger: 'retrain', reason: `retrain: ${dec.reason}`, lastTrainedAt: trainedAt });
      if (added) d.logger.info(`retrain ${symbol} queued: ${dec.reason}`, symbol);
      else if (prev?.reason !== dec.reason) d.logger.debug(`retrain ${symbol}: ${dec.reason}`, symbol);
      // Reset the counters' window so one bad stretch does not queue the symbol over and over.
      d.outcomes.markRetrained(symbol, now, serving?.artifact.version ?? null);
    }
  }

  heartbeat(snap: EngineSnapshot): void {
    this.lastHeartbeat = this.d.clock.now();
    const p = snap.portfolio;
    const ev: HeartbeatEvent = {
      at: this.d.marketNow(),
      symbols: snap.symbols.map(({ symbol, price, candles, signals, winRate, needsRetrain, retrainReason, lastRetrain, state, edge }) => ({
        symbol,
        price,
        candles,
        signals,
        winRate,
        needsRetrain,
        retrainReason,
        lastRetrain,
        state,
        edge,
      })),
      portfolio: { cash: p.cash, equity: p.equity, pnl: p.pnl, pnlPct: p.pnlPct, exposure: p.exposure, equityCurve: [] },
    };
    this.d.logger.info(formatHeartbeatLine(ev));
    this.d.store.emit('heartbeat', ev);
  }

  /**
   * Stats are rewritten whole (with their .bak), so at 100 symbols a save is tens of MB: they are
   * committed at most every STATS_SAVE_MS of engine time, after every promotion, and at stop.
   * Engine state is small and is saved every round live. A replay (persistEveryRounds > 1) writes
   * both every persistEveryRounds rounds and at stop (force): four fsyncs a round were most of a
   * no-model replay's wall time, and its private home is never resumed from the middle.
   */
  async persist(force = false): Promise<void> {
    const { d } = this;
    const every = d.persistEveryRounds ?? 1;
    if (!force && every > 1 && this.count % every !== 0) return;
    if (force || d.clock.now() - this.statsSavedAt >= STATS_SAVE_MS) {
      this.statsSavedAt = d.clock.now();
      await d.outcomes.save();
    }
    d.state.setMarketTime(d.persistMarketTime ? d.marketNow() : null);
    d.state.setBrokerState(d.broker.toJSON());
    await d.state.flush();
  }
}

/**
 * createEngine(deps): the one place that wires market data, models, registry, queue, training
 * workers, paper trading and policies together. The console, the CLI and the tests drive it only
 * through EngineApi (commands + store + typed events).
 *
 * Per round, for every symbol with a newly closed candle: outcomes resolve -> coverage (blocking,
 * queueing) -> signal (model, fallback or TA) -> paper trade unless blocked -> retrain policy.
 * Training runs on worker threads in the background; a finished job goes through the
 * champion/challenger gate and the winner is hot-reloaded without a restart.
 */
import { join } from 'node:path';
import { ManualClock, systemClock, type Clock, type TimerHandle } from './clock.js';
import type { Config } from './config/schema.js';
import type {
  EngineApi,
  EngineEvents,
  EngineSnapshot,
  HeartbeatEvent,
  PromotionDecision,
  SignalView,
  SymbolRow,
} from './engine-api.js';
import { createMarketSource, type CreatedMarketSource } from './market/index.js';
import { TIMEFRAME_MS, type Timeframe } from './market/types.js';
import { ModelRegistry, registryPaths } from './registry/registry.js';
import { cleanupModels } from './registry/cleanup.js';
import { TrainingQueue, QUEUE_FILE_NAME } from './training/queue.js';
import { createTrainingBackend } from './distributed/index.js';
import { PaperBroker } from './trading/broker.js';
import { OutcomeTracker } from './trading/outcomes.js';
import { PromotionHistory } from './trading/promotion-history.js';
import { TradingDesk } from './trading/desk.js';
import { Logger, loggerOptionsFromConfig } from './log/logger.js';
import { formatHeartbeatLine } from './log/heartbeat.js';
import { tierOf } from './assets/tiers.js';
import { decideRetrain, type RetrainDecision } from './policy/retrain.js';
import { WARMUP_BARS } from './features/index.js';
import { loadCredentials } from './credentials/index.js';
import { MarketFeed } from './engine/feed.js';
import { MarketClockDriver } from './engine/market-clock.js';
import { EngineStore } from './engine/store.js';
import { Trainer, type ManualRequest } from './engine/trainer.js';
import { modelViews, emptyPortfolio } from './engine/views.js';
import { EngineStateFile } from './engine/state.js';
import { PredictorCache } from './engine/predictors.js';
import { StoredSource } from './engine/stored-source.js';
import { lockHome, type HomeLock } from './engine/home-lock.js';
import { CoverageKeeper } from './engine/coverage.js';
import { signalsFor, type SignalDeps } from './engine/signals.js';
import { engineCommands } from './engine/commands.js';
import type { TrainResult } from './training/protocol.js';

export interface EngineOptions {
  /** Folder holding config.yaml, models/ and data/. */
  home: string;
  config: Config;
  configPath: string;
  /** Wall clock: round pacing, heartbeats, queue times. */
  clock?: Clock;
  /** Market time for the simulator / CSV replay; advanced one candle per round. */
  marketClock?: ManualClock;
  /** Where simulated/replayed market time starts (ms); default: resume, else now. */
  marketStart?: number;
  /** Pause between rounds in live mode (sim/csv); exchange rounds follow candle closes. */
  roundIntervalMs?: number;
  /** Inject a ready market source (tests). */
  market?: CreatedMarketSource;
  env?: NodeJS.ProcessEnv;
  /** Worker entry override (tests). */
  workerEntry?: URL;
  /** Mirror log lines to this function (headless mode prints them). */
  onLogLine?: (line: string) => void;
}

export interface Engine extends EngineApi {
  /** loop=false: mark running but leave the rounds to the caller (runRound). */
  start(opts?: { loop?: boolean }): Promise<void>;
  /** One round now (headless --iterations, replay and tests drive rounds directly). */
  runRound(): Promise<void>;
  /** Settles when no training job is running. */
  idle(): Promise<void>;
  /** Start queued trainings now (the loop does this every round). */
  pumpQueue(): Promise<void>;
  marketNow(): number;
  readonly config: Config;
  readonly logger: Logger;
  readonly outcomes: OutcomeTracker;
  readonly broker: PaperBroker;
  readonly promotions: PromotionHistory;
  readonly registry: ModelRegistry;
  readonly queue: TrainingQueue;
  readonly source: CreatedMarketSource;
}

const DAY_MS = 86_400_000;
const SPARK = 40;
const LOG_TAIL = 300;
const STATS_SAVE_MS = 10_000;
const REGISTRY_SCAN_MS = 60_000;

export async function createEngine(opts: EngineOptions): Promise<Engine> {
  const { config, home } = opts;
  const clock = opts.clock ?? systemClock;
  const tf = config.exchange.timeframe as Timeframe;
  const step = TIMEFRAME_MS[tf];
  const dataDir = join(home, 'data');

  // An insecure credentials file is refused here (CredentialsError names the chmod to run).
  const creds = await loadCredentials(config, opts.env ?? process.env, home);
  const secrets = [creds.apiKey, creds.secret].filter((s): s is string => typeof s === 'string' && s.length > 0);
  const logger = new Logger({ ...loggerOptionsFromConfig(config.logging, home), secrets, clock });
  // Mirror from the first line: recovery warnings while opening the state files (a corrupt
  // performance.json restored from .bak, a crashed queue entry requeued) must reach headless stdout.
  const logLine = opts.onLogLine;
  if (logLine) logger.subscribe((e) => logLine(`${new Date(e.at).toISOString()} ${e.level.toUpperCase().padEnd(5)} ${e.message}`));

  // One engine per home; a lock left by a killed engine is taken over and its temp files swept.
  const lock = await lockHome(home);
  try {
    return await build(lock);
  } catch (err) {
    await lock.release();
    throw err;
  }

  async function build(lock: HomeLock): Promise<Engine> {
    if (lock.swept.length) logger.warn(`removed ${lock.swept.length} temp file(s) left by an interrupted write: ${lock.swept.slice(0, 3).join(', ')}${lock.swept.length > 3 ? ', ...' : ''}`);
    const state = await EngineStateFile.open(join(dataDir, 'engine-state.json'));
    const simulated = config.data.source !== 'exchange';
    // data (market clock): sim from where it stopped; a CSV folder replayed from inside its data.
    const marketDriver = await MarketClockDriver.create({ config, home, now: clock.now(), given: opts.marketClock, start: opts.marketStart, resumeAt: state.data.marketTime ?? null, log: (m) => logger.info(m) });
    const marketClock = marketDriver.clock;
    const marketNow = (): number => (marketClock ?? clock).now();

    const market =
      opts.market ??
      (await createMarketSource(config, {
        home,
        clock: marketClock ?? clock,
        env: opts.env,
        credentials: creds,
        log: (level, msg) => logger.log(level, msg),
      }));
    if (market.notice) logger.warn(market.notice);
    if (config.exchange.enable_live_trading) logger.warn('exchange.enable_live_trading is set, but kilo only paper trades: no real order is ever placed');
    // A live exchange goes through the validated on-disk candle store; sim and CSV are already local.
    const source =
      market.source.kind === 'exchange'
        ? StoredSource.create(market.source, join(home, config.data.cache_dir), market.storeName, clock, config.data.cache_expiry_h * 3_600_000)
        : market.source;
    if (source instanceof StoredSource) source.onStale = (symbol, msg) => logger.warn(msg, symbol);

    const registry = new ModelRegistry({ ...registryPaths(home), onWarn: (m) => logger.warn(m) });
    await registry.refresh();
    const queue = await TrainingQueue.open({
      file: join(dataDir, QUEUE_FILE_NAME),
      clock,
      maxAttempts: config.auto_training.max_attempts,
      recoverRunning: true,
    });
    for (const w of queue.warnings) logger.warn(`queue: ${w}`);
    const outcomes = await OutcomeTracker.open(join(dataDir, 'performance.json'), {
      feeRate: config.paper_trading.fee_rate,
      onWarn: (m) => logger.warn(m),
    });
    const promotions = await PromotionHistory.open(join(dataDir, 'promotions.json'), { onWarn: (m) => logger.warn(m) });
    const broker = state.data.broker ? PaperBroker.fromJSON(state.data.broker, config.paper_trading, {}, 'data/engine-state.json broker') : new PaperBroker(config.paper_trading);
    const desk = new TradingDesk({ broker, outcomes, config });
    // distributed.backend: local worker threads, or BullMQ jobs for `kilo worker` processes.
    const pool = await createTrainingBackend(config, { env: opts.env ?? process.env, home, modelsDir: registryPaths(home).modelsDir, queue, log: (l, m) => logger.log(l, m), workerEntry: opts.workerEntry });
    const predictors = new PredictorCache(logger);
    const modelsDir = registryPaths(home).modelsDir;

    const store = new EngineStore({
      status: 'stopped',
      startedAt: null,
      now: clock.now(),
      dataSource: source.description,
      backend: 'n/a',
      round: 0,
      portfolio: emptyPortfolio(config.paper_trading.starting_cash),
      overallWinRate: null,
      jobsRunning: 0,
      symbols: [],
      jobs: [],
      models: [],
      selectedVersion: null,
      pinnedVersion: config.model.pinned_version,
      logs: [],
      promotions: promotions.list().slice(0, 50),
    });
    logger.subscribe((e) => store.emit('log', e));

    // ----- mutable engine state -----
    const lastSignals = new Map<string, SignalView>();
    const retrainDecisions = new Map<string, RetrainDecision>();
    const manualBlocks: Record<string, string> = { ...state.data.manualBlocks };
    const requests = new Map<string, ManualRequest>();
    let round = 0;
    let status: EngineSnapshot['status'] = 'stopped';
    let startedAt: number | null = null;
    let timer: TimerHandle | null = null;
    let roundRunning: Promise<void> | null = null;
    let lastHeartbeat = -Infinity;
    let lastRegistryScan = clock.now();
    let pinned = config.model.pinned_version;
    let loop = true;

    // One object per pin state, so memoised selections keyed on the config object stay valid.
    let effective: Config = config;
    const effectiveConfig = (): Config => effective;

    const trainer = new Trainer({
      config,
      home,
      modelsDir,
      clock,
      marketNow,
      source,
      registry,
      queue,
      pool,
      log: logger,
      requests,
      // Progress only touches the job rows; a start or an end can change symbol states too.
      onJobChange: (what) => (what === 'progress' ? publishJobs(false) : publishJobs(true)),
      onModelDecision: async (d, result) => onModelDecision(d, result),
      onStorageFull: () => cleanupStorage(),
      universe: (): string[] => cov.universe,
    });

    const cov = new CoverageKeeper({
      config,
      effectiveConfig,
      clock,
      marketNow,
      timeframe: tf,
      stepMs: step,
      source,
      registry,
      queue,
      broker,
      logger,
      manualBlocks,
      shortHistory: (): ReadonlyMap<string, { days: number; coverage: number }> => trainer.shortHistory,
      onJudged: () => publish(),
    });

    /** Prediction counts per version since start: "most used" for the storage cleanup. */
    const usage: Record<string, number> = {};
    let lastCleanup = -Infinity;
    async function cleanupStorage(): Promise<boolean> {
      if (clock.now() - lastCleanup < 10 * 60_000) return false;
      lastCleanup = clock.now();
      const cfg = effectiveConfig();
      // The selected version matters only through the symbols it serves, which are protected here.
      const protect = registry.protectedVersions(cfg, cov.universe, marketNow());
      const report = await cleanupModels({
        modelsDir,
        versions: registry.list(),
        usage,
        protect,
        maxAgeDays: config.resources.cleanup_max_age_days,
        keepTopN: config.resources.cleanup_keep_top_n,
        now: clock.now(),
      });
      for (const r of report.removed) logger.info(`storage cleanup removed v${r.version} (${(r.bytes / 1048576).toFixed(1)} MB): ${r.reason}`);
      if (!report.removed.length) logger.warn(`model storage is at resources.storage_limit_mb (${config.resources.storage_limit_mb} MB) and nothing can be cleaned up (serving, pinned, recent or most used)`);
      await registry.refresh();
      return report.removed.length > 0;
    }

    async function onModelDecision(d: PromotionDecision, result: TrainResult | null): Promise<void> {
      await promotions.add(d);
      const servingVersion = d.promoted ? d.challengerVersion : d.championVersion;
      if (servingVersion && servingVersion !== '-') await registry.setServing(d.symbol, servingVersion);
      if (d.promoted) {
        outcomes.markRetrained(d.symbol, marketNow(), d.challengerVersion);
        await outcomes.save();
        logger.info(`model ${d.challengerVersion} now serves ${d.symbol}: ${d.reason}`, d.symbol);
      } else {
        logger.info(`${d.symbol} keeps model ${d.championVersion}: ${d.reason}`, d.symbol);
      }
      if (result?.notes.length) for (const n of result.notes) logger.debug(`${d.symbol}: ${n}`, d.symbol);
      store.emit('promotion', d);
      await registry.refresh();
      predictors.invalidate(d.symbol);
      cov.recompute();
      publish();
    }

    let jobStates = new Map<string, string>(queue.list().map((e) => [e.id, e.state]));
    function publishJobs(withSymbols = true): void {
      const entries = queue.list();
      const recent = entries.filter((e) => e.state === 'queued' || e.state === 'running').concat(
        entries
          .filter((e) => e.state !== 'queued' && e.state !== 'running')
          .sort((a, b) => (b.finished_at ?? b.added_at) - (a.finished_at ?? a.added_at))
          .slice(0, 20),
      );
      const jobs = recent.map((e) => trainer.jobView(e));
      // 'job' events: every progress of a running job, and every state change (queued -> running ->
      // done/failed/cancelled) seen since the engine started. Listeners such as the wizard's initial
      // training step wait for the terminal state; jobs already finished at start are not replayed.
      // Every job that can still change is in `jobs` (all queued and running ones), so remembering
      // only this list's states is enough.
      for (const j of jobs) if (j.state === 'running' || jobStates.get(j.id) !== j.state) store.emit('job', j);
      jobStates = new Map(jobs.map((j) => [j.id, j.state]));
      store.update({ jobs, jobsRunning: trainer.running });
      if (withSymbols) refreshSymbolStates();
    }

    // ----- the round -----
    const feed = new MarketFeed(source, tf, WARMUP_BARS + config.model.window + 400, {
      maxStaleCandles: config.data.max_staleness_candles,
      windowCandles: WARMUP_BARS + config.model.window,
      suspect: { factor: config.data.suspect_move_factor, minMove: config.data.suspect_min_move },
      log: (level, msg, symbol) => logger.log(level, msg, symbol),
      statusFile: join(dataDir, 'market-status.json'),
      clockNote: () => marketDriver.note(),
    });
    const signalDeps: SignalDeps = {
      effectiveConfig,
      registry,
      feed,
      predictors,
      broker,
      judgements: cov.judgements,
      marketNow,
      logger,
      usage,
      onBackend: (backend) => store.update({ backend }),
    };

    async function runRound(): Promise<void> {
      if (roundRunning) return roundRunning;
      roundRunning = (async () => {
        if (round > 0 && marketClock && !opts.marketClock) marketDriver.advance();
        round++;
        const now = marketNow();
        await cov.refreshUniverse();
        // Models trained outside this engine (`kilo train` in another terminal) are picked up here.
        if (clock.now() - lastRegistryScan >= REGISTRY_SCAN_MS) {
          lastRegistryScan = clock.now();
          if (await registry.refresh()) logger.info('model registry changed: selection and coverage updated');
        }
        const poll = await feed.poll(cov.universe, now);
        for (const f of poll.failures) logger.warn(`${f.symbol}: market data failed, skipped this round: ${f.error}`, f.symbol);
        for (const symbol of cov.universe) cov.judgeUnknown(symbol);
        for (const [symbol, candles] of poll.fresh) for (const c of candles) desk.onCandle(symbol, c);
        cov.recompute();
        await cov.queueUntrained();
        cov.recompute();
        // data gate: no signal on a stale, half-filled or unconfirmed-suspicious window.
        const signals = await signalsFor(signalDeps, poll.signalable);
        for (const s of signals) {
          lastSignals.set(s.symbol, s);
          store.emit('signal', s);
          const last = feed.last(s.symbol)!;
          const r = desk.onSignal(s, last.close, last.timestamp);
          if (r.trade) {
            store.emit('trade', r.trade);
            logger.info(`paper ${r.trade.side} ${r.trade.qty.toPrecision(4)} ${s.symbol} @ ${r.trade.price.toFixed(4)} (${r.trade.reason})`, s.symbol);
          }
        }
        broker.recordEquity();
        await retrainCheck(now);
        await trainer.pump().catch((err) => logger.error(`queue: ${(err as Error).message}`));
        // Heartbeats follow the engine clock: wall time live (even on the fast simulator), the
        // simulated clock in a replay (which passes it as the clock).
        if (clock.now() - lastHeartbeat >= config.heartbeat_interval_s * 1000) heartbeat();
        await persist();
        publish();
      })().finally(() => {
        roundRunning = null;
      });
      return roundRunning;
    }

    async function retrainCheck(now: number): Promise<void> {
      const cfg = effectiveConfig();
      for (const symbol of cov.universe) {
        const row = cov.row(symbol);
        if (!row || row.state === 'unsupported') continue;
        const serving = registry.servingArtifactFor(cfg, symbol, now);
        const inputs = outcomes.retrainInputs(symbol);
        const trainedAt = serving?.artifact.metadata?.training_end_timestamp ?? null;
        const d = decideRetrain(
          {
            hasModel: Boolean(serving),
            ...inputs,
            lastRetrainAt: inputs.lastRetrainAt ?? trainedAt,
            candles: Math.round((config.training.quick.data_days * DAY_MS) / step),
          },
          config.auto_training,
          now,
        );
        const prev = retrainDecisions.get(symbol);
        retrainDecisions.set(symbol, d);
        if (!d.retrain) continue;
        if (queue.list().some((e) => e.symbol === symbol && (e.state === 'queued' || e.state === 'running'))) continue;
        const { added } = await queue.add(symbol, { priority: 3, reason: `retrain: ${d.reason}`, lastTrainedAt: trainedAt });
        if (added) logger.info(`retrain ${symbol} queued: ${d.reason}`, symbol);
        else if (prev?.reason !== d.reason) logger.debug(`retrain ${symbol}: ${d.reason}`, symbol);
        // Reset the counters' window so one bad stretch does not queue the symbol over and over.
        outcomes.markRetrained(symbol, now, serving?.artifact.version ?? null);
      }
    }

    function heartbeat(): void {
      lastHeartbeat = clock.now();
      const snap = buildRows();
      const ev: HeartbeatEvent = {
        at: marketNow(),
        symbols: snap.map(({ symbol, price, candles, signals, winRate, needsRetrain, retrainReason, lastRetrain, state }) => ({
          symbol,
          price,
          candles,
          signals,
          winRate,
          needsRetrain,
          retrainReason,
          lastRetrain,
          state,
        })),
        portfolio: broker.view(),
      };
      logger.info(formatHeartbeatLine(ev));
      store.emit('heartbeat', ev);
    }

    function buildRows(): SymbolRow[] {
      const cfg = effectiveConfig();
      return cov.universe.map((symbol) => {
        const row = cov.row(symbol);
        const candles = feed.candles(symbol);
        const stats = outcomes.symbolStats(symbol);
        const d = retrainDecisions.get(symbol);
        const serving = registry.servingArtifactFor(cfg, symbol, marketNow());
        const running = trainer.runningSymbols().includes(symbol);
        return {
          symbol,
          tier: row?.tier ?? tierOf(symbol, cfg),
          // A live symbol being retrained keeps trading on its champion; show that it trains.
          state: running && row?.state === 'live' ? 'training' : (row?.state ?? 'blocked'),
          stateReason: [feed.holdReason(symbol), row?.reason].filter(Boolean).join('; '),
          price: candles.length ? candles[candles.length - 1].close : null,
          sparkline: candles.slice(-SPARK).map((c) => c.close),
          candles: candles.length,
          lastSignal: lastSignals.get(symbol) ?? null,
          signals: stats.signals,
          winRate: stats.winRate,
          needsRetrain: d?.retrain ?? false,
          retrainReason: d?.reason ?? '',
          lastRetrain: stats.lastRetrainAt ?? serving?.artifact.metadata?.training_end_timestamp ?? null,
          modelVersion: serving?.artifact.version ?? null,
          position: broker.positionQty(symbol),
        };
      });
    }

    function refreshSymbolStates(): void {
      store.update({ symbols: buildRows() });
    }

    function publish(): void {
      const cfg = effectiveConfig();
      const sel = registry.selection(cfg, marketNow());
      store.update({
        status,
        startedAt,
        now: clock.now(),
        marketNow: marketNow(),
        round,
        dataSource: feed.describe(),
        portfolio: broker.view(),
        overallWinRate: outcomes.overall().winRate,
        jobsRunning: trainer.running,
        symbols: buildRows(),
        models: modelViews(registry.list(), sel, cfg),
        selectedVersion: sel.winner,
        pinnedVersion: pinned,
        logs: logger.entries().slice(-LOG_TAIL),
        promotions: promotions.list().slice(0, 50),
      });
      publishJobs(false);
    }

    /**
     * Stats are rewritten whole (with their .bak), so at 100 symbols a save is tens of MB: they are
     * committed at most every STATS_SAVE_MS of engine time (every round in a replay), after every
     * promotion, and at stop. Engine state is small and is saved every round.
     */
    let statsSavedAt = -Infinity;
    async function persist(force = false): Promise<void> {
      if (force || clock.now() - statsSavedAt >= STATS_SAVE_MS) {
        statsSavedAt = clock.now();
        await outcomes.save();
      }
      await state.save({ marketTime: marketClock ? marketNow() : null, manualBlocks, broker: broker.toJSON() });
    }

    // ----- pacing -----
    function nextDelay(): number {
      if (opts.roundIntervalMs !== undefined) return opts.roundIntervalMs;
      if (simulated) return config.data.round_interval_s * 1000;
      // Live exchange: just after the next candle closes (a few seconds for the exchange to settle).
      const now = clock.now();
      return Math.max(1000, Math.ceil(now / step) * step + 3000 - now);
    }

    function schedule(): void {
      if (status !== 'running' || !loop) return;
      timer = clock.setTimeout(() => {
        timer = null;
        runRound()
          .catch((err) => logger.error(`round failed: ${(err as Error).message}`))
          .finally(schedule);
      }, nextDelay());
    }

    const engine: Engine = {
      config,
      logger,
      outcomes,
      broker,
      promotions,
      registry,
      queue,
      source: market,
      marketNow,
      runRound,
      idle: () => trainer.idle(),
      pumpQueue: () => trainer.pump(),
      async start(o: { loop?: boolean } = {}) {
        if (status === 'running') return;
        status = 'running';
        startedAt = clock.now();
        loop = o.loop !== false;
        logger.info(`kilo engine started: ${source.description}, ${config.universe.mode === 'list' ? config.universe.symbols.length : `top ${config.universe.top_n}`} symbols, timeframe ${tf}`);
        publish();
        if (!loop) return;
        await runRound();
        schedule();
      },
      async stop(o = {}) {
        if (status === 'stopped') return;
        status = 'stopping';
        publish();
        if (timer) clock.clearTimeout(timer);
        timer = null;
        await roundRunning;
        // A remote job keeps running through an engine restart; the next start re-attaches to it.
        pool.detachOnAbort?.();
        trainer.shutdown(!o.finishJobs);
        await trainer.idle().catch(() => undefined);
        await pool.close();
        await persist(true);
        predictors.clear();
        status = 'stopped';
        logger.info('kilo engine stopped; state flushed');
        publish();
        logger.close();
        await source.close?.();
        await lock.release();
      },
      subscribe: store.subscribe,
      getSnapshot: store.getSnapshot,
      on<K extends keyof EngineEvents>(event: K, handler: (...args: EngineEvents[K]) => void) {
        return store.on(event, handler);
      },
      ...engineCommands({
        config,
        effectiveConfig,
        queue,
        trainer,
        registry,
        predictors,
        coverage: cov,
        logger,
        requests,
        manualBlocks,
        marketNow,
        setPin: (version) => {
          pinned = version;
          effective = pinned === config.model.pinned_version ? config : { ...config, model: { ...config.model, pinned_version: pinned } };
        },
        persist: () => persist(),
        publish,
      }),
    };

    // Only predictors whose folder left models/ are dropped; a new serving choice reloads on its own.
    registry.on('changed', (versions) => predictors.retain(new Set(versions.flatMap((v) => v.artifacts.map((a) => a.dir)))));
    // Show the tfjs backend before any model loads (the header reads it); detection does not train.
    void import('./models/tf-backend.js')
      .then((m) => m.detectBackend())
      .then((d) => {
        if (store.getSnapshot().backend === 'n/a') store.update({ backend: d.backend });
      })
      .catch(() => undefined);
    await cov.refreshUniverse();
    cov.recompute();
    publish();
    return engine;
  }
}

/**
 * createEngine(deps): wiring only. It builds the parts - market source, registry, queue, worker
 * pool, broker, outcomes, EngineState (the one owner of what the engine remembers), the trainer,
 * coverage, the round, the commands - hands them EngineState, and exposes them through EngineApi.
 * Views come from one place: project() in src/engine/project.ts, republished whenever EngineState
 * announces a change. See src/engine/round.ts for what one round does.
 */
import { join } from 'node:path';
import { systemClock, type Clock, type ManualClock, type TimerHandle } from './clock.js';
import type { Config } from './config/schema.js';
import type { EngineApi, EngineEvents, EngineSnapshot } from './engine-api.js';
import { createMarketSource, type CreatedMarketSource } from './market/index.js';
import { TIMEFRAME_MS, type Timeframe } from './market/types.js';
import { ModelRegistry, registryPaths } from './registry/registry.js';
import { TrainingQueue, QUEUE_FILE_NAME } from './training/queue.js';
import { createTrainingBackend } from './distributed/index.js';
import { PaperBroker } from './trading/broker.js';
import { OutcomeTracker } from './trading/outcomes.js';
import { PromotionHistory } from './trading/promotion-history.js';
import { TradingDesk } from './trading/desk.js';
import { Logger, loggerOptionsFromConfig } from './log/logger.js';
import { WARMUP_BARS } from './features/index.js';
import { loadCredentials } from './credentials/index.js';
import { MarketFeed } from './engine/feed.js';
import { MarketClockDriver } from './engine/market-clock.js';
import { EngineStore } from './engine/store.js';
import { Trainer } from './engine/trainer.js';
import { EngineState } from './engine/state.js';
import { PredictorCache } from './engine/predictors.js';
import { StoredSource } from './engine/stored-source.js';
import { lockHome, type HomeLock } from './engine/home-lock.js';
import { CoverageKeeper } from './engine/coverage.js';
import { engineCommands } from './engine/commands.js';
import { ModelDecisions } from './engine/decisions.js';
import { StorageCleaner } from './engine/storage.js';
import { ConditionLog } from './engine/condition-log.js';
import { RoundRunner, type RoundPhase } from './engine/round.js';
import { project, type MarketView, type ProjectionSources } from './engine/project.js';
import { typicalTrainingSeconds } from './engine/offline.js';
import { ApiServer } from './api/server.js';
import { packageVersion } from './util/package-version.js';

/** How long a replay keeps a training worker warm after a clean job (src/training/pool.ts). */
const REPLAY_WARM_WORKER_MS = 30_000;

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
  /** Serve the control API on the home's socket while running (src/api/server.ts). @default true */
  api?: boolean;
  /**
   * `kilo replay`: a private home driven round by round over history. Engine state and stats are
   * written every `persistEveryRounds` rounds and at stop (not every round), and models/ is not
   * rescanned for other processes' versions (each training refreshes the registry itself); the
   * queue file is not re-read at every pump (nothing else writes it).
   */
  replay?: { persistEveryRounds: number };
}

export interface Engine extends EngineApi {
  /** loop=false: mark running but leave the rounds to the caller (runRound). */
  start(opts?: { loop?: boolean }): Promise<void>;
  /** One round now (headless --iterations, replay and tests drive rounds directly). */
  runRound(): Promise<void>;
  /** Settles when no training job is running. */
  idle(): Promise<void>;
  /** Training jobs running right now. */
  trainingsRunning(): number;
  /** The step stop() is waiting on (null when not stopping or done): names a stop that never settles. */
  stopStage(): string | null;
  /** Start queued trainings now (the loop does this every round). */
  pumpQueue(): Promise<void>;
  /** Wall time of the rounds so far, per phase (ms). */
  roundPhases(): Readonly<Record<RoundPhase, number>>;
  marketNow(): number;
  readonly home: string;
  readonly config: Config;
  readonly logger: Logger;
  readonly outcomes: OutcomeTracker;
  readonly broker: PaperBroker;
  readonly promotions: PromotionHistory;
  /** Where gate decisions are applied (a challenger in shadow included). */
  readonly decisions: ModelDecisions;
  readonly registry: ModelRegistry;
  readonly queue: TrainingQueue;
  readonly state: EngineState;
  readonly source: CreatedMarketSource;
}

const SPARK = 40;
const LOG_TAIL = 300;

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
    const state = await EngineState.open(join(dataDir, 'engine-state.json'), config, (m) => logger.warn(m));
    const simulated = config.data.source !== 'exchange';
    // data (market clock): sim from where it stopped; a CSV folder replayed from inside its data.
    const marketDriver = await MarketClockDriver.create({ config, home, now: clock.now(), given: opts.marketClock, start: opts.marketStart, resumeAt: state.marketTime, log: (m) => logger.info(m) });
    const marketClock = marketDriver.clock;
    const marketNow = (): number => (marketClock ?? clock).now();

    const market =
      opts.market ??
      (await createMarketSource(config, { home, clock: marketClock ?? clock, env: opts.env, credentials: creds, log: (level, msg) => logger.log(level, msg) }));
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
    // What open() found is in queue.warnings (logged here once); what the queue finds later while
    // running (a corrupt file recovered, a bad entry written in) reaches the log through onWarn.
    let queueOpen = false;
    const queue = await TrainingQueue.open({ file: join(dataDir, QUEUE_FILE_NAME), clock, maxAttempts: config.auto_training.max_attempts, recoverRunning: true, privateFile: Boolean(opts.replay), onWarn: (m) => queueOpen && logger.warn(`queue: ${m}`) });
    queueOpen = true;
    for (const w of queue.warnings) logger.warn(`queue: ${w}`);
    const outcomes = await OutcomeTracker.open(join(dataDir, 'performance.json'), { feeRate: config.paper_trading.fee_rate, onWarn: (m) => logger.warn(m) });
    const promotions = await PromotionHistory.open(join(dataDir, 'promotions.json'), { onWarn: (m) => logger.warn(m) });
    const broker = state.brokerState ? PaperBroker.fromJSON(state.brokerState, config.paper_trading, {}, 'data/engine-state.json broker') : new PaperBroker(config.paper_trading);
    const desk = new TradingDesk({ broker, outcomes, config });
    // distributed.backend: local worker threads, or BullMQ jobs for `kilo worker` processes.
    const pool = await createTrainingBackend(config, { env: opts.env ?? process.env, home, modelsDir: registryPaths(home).modelsDir, queue, log: (l, m) => logger.log(l, m), workerEntry: opts.workerEntry,
      // A replay's trainings come back to back: a warm worker skips loading tfjs and the kernels for
      // each (about a second). A live engine trains now and then and keeps its memory for serving:
      // each worker goes with its job (a warm one holds ~100 MB of tfjs in the process).
      warmMs: opts.replay ? REPLAY_WARM_WORKER_MS : 0 });
    // A replay serves a new model once all of it is loaded: its results must not depend on load speed.
    const predictors = new PredictorCache(logger, { progressive: !opts.replay });
    const modelsDir = registryPaths(home).modelsDir;
    const conditions = new ConditionLog(logger);
    const feed = new MarketFeed(source, tf, WARMUP_BARS + config.model.window + 400, {
      maxStaleCandles: config.data.max_staleness_candles,
      windowCandles: WARMUP_BARS + config.model.window,
      suspect: { factor: config.data.suspect_move_factor, minMove: config.data.suspect_min_move },
      log: (level, msg, symbol) => logger.log(level, msg, symbol),
      statusFile: join(dataDir, 'market-status.json'),
      clockNote: () => marketDriver.note(),
    });

    let status: EngineSnapshot['status'] = 'stopped';
    let startedAt: number | null = null;
    let backend = 'n/a';
    let timer: TimerHandle | null = null;
    let stopStage: string | null = null;
    let loop = true;
    let api: ApiServer | null = null;

    function marketView(symbol: string): MarketView {
      const candles = feed.candles(symbol);
      return { price: candles.at(-1)?.close ?? null, sparkline: candles.slice(-SPARK).map((c) => c.close), candles: candles.length, hold: feed.holdReason(symbol) };
    }
    /** What the projection reads that exists before the trainer, coverage and rounds do. */
    const sources = (): Omit<ProjectionSources, 'round' | 'coverage' | 'live'> => ({
      origin: 'engine',
      config: state.effectiveConfig(),
      status,
      startedAt,
      now: clock.now(),
      marketNow: marketNow(),
      dataSource: feed.describe(),
      backend,
      state: state.data,
      registry,
      universe: state.universe(),
      queue: queue.list(),
      stats: outcomes,
      broker,
      market: marketView,
      promotions: promotions.list(),
      logs: logger.tail(LOG_TAIL),
      typicalTrainingS: typicalTrainingSeconds(registry, config),
    });
    const store = new EngineStore(project({ ...sources(), round: 0, coverage: null, live: new Map() }));
    logger.subscribe((e) => store.emit('log', e));
    const decisions = new ModelDecisions({ state, registry, promotions, outcomes, store, logger, marketNow, candles: (symbol, since, until) => source.fetchCandles(symbol, tf, since, until) });
    const storage = new StorageCleaner({ config, state, registry, modelsDir, clock, marketNow, logger });
    const trainer = new Trainer({ config, home, modelsDir, clock, marketNow, source, registry, queue, pool, log: logger, state, decisions, storage, waiting: () => feed.waiting() });
    const cov = new CoverageKeeper({ config, state, clock, marketNow, timeframe: tf, stepMs: step, source, registry, queue, broker, logger, conditions });
    const signals = { registry, feed, predictors, broker, state, marketNow, logger, onBackend: (b: string) => (backend = b) };
    const rounds = new RoundRunner({
      config,
      clock,
      stepMs: step,
      marketNow,
      advanceMarket: marketClock && !opts.marketClock ? () => void marketDriver.advance() : null,
      persistMarketTime: marketClock !== null,
      state,
      coverage: cov,
      feed,
      desk,
      broker,
      outcomes,
      registry,
      queue,
      trainer,
      signals,
      logger,
      conditions,
      store,
      publish,
      checkShadows: () => decisions.checkShadows(),
      persistEveryRounds: opts.replay?.persistEveryRounds,
      scanRegistry: !opts.replay,
    });

    let publishQueued = false;
    function publish(): EngineSnapshot {
      // This projection holds every change announced so far: a publishSoon still pending is moot.
      publishQueued = false;
      return store.replace(project({ ...sources(), round: rounds.count, coverage: cov.report, live: trainer.liveJobs() }));
    }

    // Every change EngineState announces is republished; some move other parts first.
    state.on('changed', (topic, symbol) => {
      if (topic === 'pin') predictors.clear();
      // A 'serving' event does not drop the symbol's predictor: a new serving choice (promotion,
      // rollback) is picked up by the cache itself, whose next load sees another folder and
      // replaces the entry, while most 'serving' events are fallback and edge notes on the same
      // model (dropping on those loaded every model without an edge twice right after it first served).
      if (topic === 'pin' || topic === 'serving' || topic === 'coverage' || topic === 'blocks') cov.recompute();
      publishSoon();
    });
    // Job progress arrives many times a second: one projection per tick is plenty.
    function publishSoon(): void {
      if (publishQueued) return;
      publishQueued = true;
      setImmediate(() => {
        if (publishQueued) publish();
      });
    }
    let jobStates = new Map<string, string>(queue.list().map((e) => [e.id, e.state]));
    // 'job' events: every progress of a running job, and every state change (queued -> running ->
    // done/failed/cancelled) seen since the engine started; listeners such as the wizard's
    // initial-training step wait for the terminal state. Jobs already finished at start are not replayed.
    store.subscribe(() => {
      const jobs = store.getSnapshot().jobs;
      for (const j of jobs) if (j.state === 'running' || jobStates.get(j.id) !== j.state) store.emit('job', j);
      jobStates = new Map(jobs.map((j) => [j.id, j.state]));
    });

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
        rounds
          .run()
          .catch((err) => logger.error(`round failed: ${(err as Error).message}`))
          .finally(schedule);
      }, nextDelay());
    }

    const engine: Engine = {
      home,
      config,
      logger,
      outcomes,
      broker,
      promotions,
      decisions,
      registry,
      queue,
      state,
      source: market,
      marketNow,
      runRound: () => rounds.run(),
      idle: () => trainer.idle(),
      trainingsRunning: () => trainer.running,
      pumpQueue: () => trainer.pump(),
      roundPhases: () => rounds.phaseMs,
      async start(o: { loop?: boolean } = {}) {
        if (status === 'running') return;
        status = 'running';
        startedAt = clock.now();
        loop = o.loop !== false;
        logger.info(`kilo engine started: ${source.description}, ${config.universe.mode === 'list' ? config.universe.symbols.length : `top ${config.universe.top_n}`} symbols, timeframe ${tf}`);
        if (opts.api !== false) await serveApi();
        publish();
        if (!loop) return;
        await rounds.run();
        schedule();
      },
      async stop(o = {}) {
        if (status === 'stopped' || status === 'stopping') return;
        status = 'stopping';
        publish();
        // Clients hear 'bye' first; nothing reaches the engine through the API while it stops.
        stopStage = 'closing the control API';
        await api?.close().catch(() => undefined);
        api = null;
        if (timer) clock.clearTimeout(timer);
        timer = null;
        stopStage = 'waiting for the running round';
        await rounds.current;
        // A remote job keeps running through an engine restart; the next start re-attaches to it.
        pool.detachOnAbort?.();
        trainer.shutdown(!o.finishJobs);
        stopStage = 'waiting for running trainings';
        await trainer.idle().catch(() => undefined);
        stopStage = 'closing the worker pool';
        await pool.close();
        stopStage = 'saving state';
        await rounds.persist(true);
        predictors.clear();
        status = 'stopped';
        logger.info('kilo engine stopped; state flushed');
        publish();
        logger.close();
        stopStage = 'closing the market source';
        await source.close?.();
        stopStage = 'releasing the lock';
        await lock.release();
        stopStage = null;
      },
      stopStage: () => stopStage,
      subscribe: store.subscribe,
      getSnapshot: store.getSnapshot,
      on<K extends keyof EngineEvents>(event: K, handler: (...args: EngineEvents[K]) => void) {
        return store.on(event, handler);
      },
      ...engineCommands({ config, state, queue, trainer, registry, coverage: cov, decisions, logger, marketNow }),
    };

    async function serveApi(): Promise<void> {
      try {
        api = await ApiServer.listen({
          engine,
          logs: (since, limit, tail) => (tail ? logger.entries().slice(-Math.min(limit, tail)) : logger.entries(since).slice(0, limit)),
          trades: (since, limit) => state.trades(since).slice(0, limit),
          requestStop: (why) => {
            logger.info(`stop requested: ${why}`);
            if (store.listenerCount('stopRequest')) store.emit('stopRequest', why);
            else void engine.stop();
          },
          info: { home, pid: process.pid, version: packageVersion() },
          warn: (m) => logger.warn(m),
        });
        logger.info(`control API on ${api.path} (kilo status, kilo attach)`);
      } catch (err) {
        // The engine trades without it; the CLI then answers from the files and says so.
        logger.warn(`control API not started: ${(err as Error).message}`);
      }
    }

    // Only predictors whose folder left models/ are dropped; a new serving choice reloads on its own.
    registry.on('changed', (versions) => predictors.retain(new Set(versions.flatMap((v) => v.artifacts.map((a) => a.dir)))));
    // Show the tfjs backend before any model loads (the header reads it); detection does not train.
    void import('./models/tf-backend.js')
      .then((m) => m.detectBackend())
      .then((d) => {
        if (backend === 'n/a') {
          backend = d.backend;
          publish();
        }
      })
      .catch(() => undefined);
    await cov.refreshUniverse();
    cov.recompute();
    publish();
    return engine;
  }
}

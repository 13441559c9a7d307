/**
 * Works the training queue: takes the next entry the resource gate allows and runs it through the
 * one training path (src/engine/training-run.ts: recipe, history policy, training and the paired
 * gate on a worker), then hands the decision to ModelDecisions, which records it and puts the
 * version it leaves in service. Nothing here blocks the main thread for long: candles are fetched
 * async, training and scoring run in the worker.
 */
import { freemem } from 'node:os';
import type { Config } from '../config/schema.js';
import type { Clock } from '../clock.js';
import type { JobProgress } from '../engine-api.js';
import { TIMEFRAME_MS, type MarketDataSource, type Timeframe } from '../market/types.js';
import type { ModelRegistry } from '../registry/registry.js';
import { modelsDirSizeBytes } from '../registry/cleanup.js';
import { QueueEntryNotFoundError, QueueEntryNotQueuedError, type TrainingQueue, type QueueEntry } from '../training/queue.js';
import type { TrainingBackend } from '../distributed/backend.js';
import { canStartTraining } from '../policy/resources.js';
import type { Logger } from '../log/logger.js';
import type { EngineState } from './state.js';
import type { ModelDecisions } from './decisions.js';
import { runTraining, trainingSymbols, type TrainingRunDeps } from './training-run.js';
import type { StorageCleaner } from './storage.js';
import { chartCurve, type LiveJob } from './project.js';

const DAY_MS = 86_400_000;

export interface TrainerDeps {
  config: Config;
  home: string;
  modelsDir: string;
  clock: Clock;
  /** Market time (the simulator/replay clock; the wall clock for a live exchange). */
  marketNow: () => number;
  source: MarketDataSource;
  registry: ModelRegistry;
  queue: TrainingQueue;
  /** Local worker threads or remote BullMQ workers (distributed.backend); same contract. */
  pool: TrainingBackend;
  log: Logger;
  /** Manual requests, short-history verdicts, the universe, job curves; job changes are announced through it. */
  state: EngineState;
  /** Where a finished training's verdict goes (recorded, served, announced). */
  decisions: ModelDecisions;
  /** Frees model storage when the resource gate says it is full. */
  storage?: StorageCleaner;
  /** Why the market source cannot serve right now (exchange unreachable), else null: no job starts then. */
  waiting?: () => string | null;
}

interface Live {
  entry: QueueEntry;
  /** Every symbol the job trains (several for a multi_symbol model). */
  symbols: string[];
  controller: AbortController;
  progress: JobProgress | null;
  curves: Record<string, { loss: number[]; val: number[] }>;
  promise: Promise<void>;
}

export class Trainer {
  private readonly live = new Map<string, Live>();
  /** Jobs picked from the queue whose start is being written, by queue id. */
  private readonly starting = new Map<string, AbortController>();
  /** The pump in progress, if any (a finished job's pump may be about to start the next one). */
  private pumpRun: Promise<void> | null = null;
  private stopping = false;

  constructor(private readonly d: TrainerDeps) {}

  get running(): number {
    return this.live.size;
  }

  runningSymbols(): string[] {
    return [...this.live.values()].map((l) => l.entry.symbol);
  }

  /** Symbols inside running jobs, a multi_symbol job's whole set included. */
  private busySymbols(): Set<string> {
    return new Set([...this.live.values()].flatMap((l) => l.symbols));
  }

  /** What a job for `symbol` trains: itself, or in multi_symbol mode the shared set with it first. */
  private jobSymbols(symbol: string): string[] {
    return trainingSymbols(this.d.state.effectiveConfig(), symbol, this.d.state.universe());
  }

  /**
   * Settles when every running job has finished and no pump is about to start another (replay
   * waits on this between rounds: a job queued behind a finished one is started and waited for too).
   */
  async idle(): Promise<void> {
    while (this.live.size || this.pumpRun) {
      await Promise.all([...this.live.values()].map((l) => l.promise));
      await this.pumpRun?.catch(() => undefined);
    }
  }

  cancel(id: string): boolean {
    const controller = this.live.get(id)?.controller ?? this.starting.get(id);
    if (!controller) return false;
    controller.abort(new Error('cancelled by the operator'));
    return true;
  }

  /**
   * Engine shutdown: stop starting jobs and cancel the running ones. Their queue entries stay
   * `running` on disk, so the next start requeues them (recoverRunning) without counting a failure.
   */
  shutdown(cancelRunning: boolean): void {
    this.stopping = true;
    if (cancelRunning) for (const c of [...this.live.values()].map((l) => l.controller).concat([...this.starting.values()])) c.abort(new Error('engine stopping'));
  }

  /** Live figures of the running jobs, by queue id (the projection reads them). */
  liveJobs(): ReadonlyMap<string, LiveJob> {
    return this.live;
  }

  /** Start as many queued jobs as the resource gate allows. */
  pump(): Promise<void> {
    if (this.pumpRun || this.stopping) return Promise.resolve();
    const run = this.pumpOnce().finally(() => {
      this.pumpRun = null;
    });
    this.pumpRun = run;
    return run;
  }

  private async pumpOnce(): Promise<void> {
    for (;;) {
      // Shutdown began while this pump awaited: start nothing more (stop() waits for this pump).
      if (this.stopping) return;
      const entry = await this.d.queue.next(this.d.clock.now());
      if (!entry) return;
      // A job started now would fail to fetch its history and burn an attempt: it waits instead.
      const waiting = this.d.waiting?.();
      if (waiting) {
        this.d.log.debug(`training of ${entry.symbol} waits: ${waiting}`, entry.symbol);
        return;
      }
      // Inside a running multi_symbol job already: wait for it (it may cover this symbol).
      if (this.busySymbols().has(entry.symbol)) return;
      let gate = await this.resourceGate(entry.symbol);
      // Out of model storage: clean up old, unused, unprotected versions once, then ask again.
      if (!gate.ok && gate.kind === 'storage' && this.d.storage && (await this.d.storage.freeSpace())) {
        gate = await this.resourceGate(entry.symbol);
      }
      if (!gate.ok) {
        this.d.log.debug(`training of ${entry.symbol} waits: ${gate.reason}`, entry.symbol);
        return;
      }
      if (this.stopping) return;
      await this.start(entry);
    }
  }

  private async resourceGate(symbol: string) {
    const { resources } = this.d.config;
    const sizes = this.d.registry
      .list()
      .flatMap((v) => v.artifacts.map((a) => a.sizeBytes))
      .filter((b) => b > 0)
      .sort((a, b) => a - b);
    return canStartTraining({
      running: this.runningSymbols(),
      symbol,
      maxConcurrent: resources.max_concurrent_trainings,
      storageUsedBytes: await modelsDirSizeBytes(this.d.modelsDir),
      storageLimitMb: resources.storage_limit_mb,
      expectedArtifactBytes: sizes.length ? sizes[Math.floor(sizes.length / 2)] : 2 * 1024 * 1024,
      freeMemBytes: freemem(),
      minFreeMemMb: resources.min_free_memory_mb,
    });
  }

  private async start(entry0: QueueEntry): Promise<void> {
    const { queue, clock, log } = this.d;
    // Registered before the queue write: a cancel arriving while the job starts reaches it.
    const controller = new AbortController();
    this.starting.set(entry0.id, controller);
    let entry: QueueEntry;
    try {
      entry = await queue.markRunning(entry0.id, clock.now());
    } catch (err) {
      // Cancelled (or removed) after it was picked: nothing to start.
      if (err instanceof QueueEntryNotQueuedError || err instanceof QueueEntryNotFoundError) return void log.debug(`${entry0.symbol}: ${(err as Error).message}`, entry0.symbol);
      throw err;
    } finally {
      this.starting.delete(entry0.id);
    }
    const live: Live = { entry, symbols: this.jobSymbols(entry.symbol), controller, progress: null, curves: {}, promise: Promise.resolve() };
    this.live.set(entry.id, live);
    log.info(`training ${entry.symbol} started (${entry.reason})`, entry.symbol);
    this.d.state.touch('jobs', entry.symbol);
    live.promise = this.execute(live).finally(() => {
      // The curves outlive the job: the queue panel still shows them once it is done or failed.
      const chart = chartCurve(live.curves);
      if (chart) this.d.state.recordJobCurve(entry.id, chart.curve.loss, chart.curve.val, chart.phase);
      this.live.delete(entry.id);
      this.d.state.touch('jobs', entry.symbol);
      // A slot freed: the next queued job may start.
      void this.pump().catch((err) => log.error(`queue: ${(err as Error).message}`));
    });
  }

  private async execute(live: Live): Promise<void> {
    const { queue, clock, log, state } = this.d;
    // The effective config: a console pin picks the champion the gate scores, as it picks what serves.
    const config = state.effectiveConfig();
    const { entry, controller } = live;
    const symbol = entry.symbol;
    const req = state.requestFor(symbol);
    try {
      const out = await runTraining(this.runDeps(config), {
        symbol,
        trigger: entry.trigger,
        quick: req.quick,
        models: req.models,
        force: req.force,
        version: req.version,
        signal: controller.signal,
        // A remote backend names its job after this entry's attempt and re-attaches after a restart.
        queueEntry: entry,
        onPlan: (p) => log.info(`${symbol}: ${p.recipe.reason}; ${p.reason}`, symbol),
        onProgress: (p) => {
          live.progress = p;
          // One point per epoch (or boosting round) of each stage: its loss and its validation figure.
          const c = (live.curves[p.phase] ??= { loss: [], val: [] });
          if (p.loss !== null && p.epoch > c.loss.length) {
            c.loss.push(p.loss);
            if (p.valMetric !== null) c.val.push(p.valMetric);
          }
          state.touch('jobs', symbol);
        },
        onLog: (level, message) => log.log(level, `${symbol}: ${message}`, symbol),
      });
      if (out.kind === 'skipped') {
        log.info(`${symbol}: ${out.reason}`, symbol);
        await queue.markDone(entry.id, clock.now());
        return;
      }
      if (out.kind === 'short_history') {
        state.setShortHistory(symbol, out.history);
        await queue.markFailed(entry.id, out.history.reason, clock.now());
        // No retry will help a short history: fail it for good.
        await queue.cancel(entry.id).catch(() => undefined);
        log.warn(`${symbol} stays blocked: ${out.history.reason}`, symbol);
        return;
      }
      state.setShortHistory(symbol, null);
      await queue.markDone(entry.id, clock.now());
      state.clearRequest(symbol);
      await this.d.decisions.applyGate(out.decision, out.result.notes);
    } catch (err) {
      const msg = (err as Error).message;
      if (controller.signal.aborted && this.stopping) {
        log.warn(`training ${symbol} interrupted by shutdown; it resumes at the next start`, symbol);
      } else if (controller.signal.aborted) {
        log.warn(`training ${symbol} cancelled`, symbol);
        await queue.cancel(entry.id).catch(() => undefined);
      } else {
        const e = await queue.markFailed(entry.id, msg, clock.now());
        const champion = this.d.registry.servingArtifactFor(config, symbol, this.d.marketNow());
        // A failed retrain is not retried by the queue: the champion keeps serving and the retrain
        // policy decides again at its next trigger. A new symbol's training retries with backoff.
        if (champion && e.state === 'queued') await queue.cancel(entry.id).catch(() => undefined);
        const retry = !champion && e.state === 'queued';
        log.error(`training ${symbol} failed (attempt ${e.attempts}): ${msg}${retry ? '; will retry with backoff' : champion ? '; champion kept' : ' - giving up'}`, symbol);
        if (champion) {
          await this.d.decisions.apply({
            at: this.d.marketNow(),
            symbol,
            kind: 'failed',
            championVersion: champion.artifact.version,
            challengerVersion: null,
            championScore: null,
            challengerScore: null,
            reason: `retrain failed, champion kept: ${msg}`,
          });
        }
      }
    }
  }

  /** What a run needs from the engine: candles up to market time, its universe, its pool. */
  private runDeps(config: Config): TrainingRunDeps {
    const tf = config.exchange.timeframe as Timeframe;
    return {
      config,
      registry: this.d.registry,
      pool: this.d.pool,
      modelsDir: this.d.modelsDir,
      marketNow: this.d.marketNow,
      universe: this.d.state.universe(),
      fetchHistory: (symbol, days) => {
        const until = Math.floor(this.d.marketNow() / TIMEFRAME_MS[tf]) * TIMEFRAME_MS[tf];
        return this.d.source.fetchCandles(symbol, tf, until - days * DAY_MS, until);
      },
      provenance: async (symbols) => this.d.source.provenance?.(symbols, tf),
    };
  }
}

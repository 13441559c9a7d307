/**
 * Works the training queue: takes the next entry the resource gate allows, fetches its history,
 * applies the history policy, trains on a worker thread, runs the champion/challenger gate on the
 * shared window, records the decision, and tells the engine to hot-reload. Nothing here blocks the
 * main thread for long: candles are fetched async, training and scoring run in the worker.
 */
import { freemem } from 'node:os';
import type { Config } from '../config/schema.js';
import type { Clock } from '../clock.js';
import type { JobProgress, PromotionDecision } from '../engine-api.js';
import { TIMEFRAME_MS, type Candle, type MarketDataSource, type Timeframe } from '../market/types.js';
import { historyStats } from '../market/validate.js';
import type { ModelRegistry } from '../registry/registry.js';
import { modelsDirSizeBytes } from '../registry/cleanup.js';
import type { TrainingQueue, QueueEntry } from '../training/queue.js';
import type { TrainingBackend } from '../distributed/backend.js';
import { buildJobSpec, jobSymbolsFor } from '../training/pipeline-spec.js';
import type { PipelineJobSpec } from '../training/protocol.js';
import { canStartTraining } from '../policy/resources.js';
import { decidePromotion } from '../policy/promotion.js';
import type { Logger } from '../log/logger.js';
import type { EngineState } from './state.js';
import { decisionKind, type ModelDecisions } from './decisions.js';
import type { StorageCleaner } from './storage.js';
import type { LiveJob } from './project.js';

const DAY_MS = 86_400_000;
/** Candles scored by the champion/challenger gate: the most recent ~2 weeks of hourly bars. */
export const GATE_ROWS = 336;

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
  lossHistory: number[];
  valHistory: number[];
  promise: Promise<void>;
}

export class Trainer {
  private readonly live = new Map<string, Live>();
  private pumping = false;
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
    const { config } = this.d;
    if (config.model.training_mode !== 'multi_symbol') return [symbol];
    // model.multi_symbol_symbols empty means the whole universe.
    const set = config.model.multi_symbol_symbols.length ? jobSymbolsFor(config, symbol) : [...this.d.state.universe(), symbol];
    return [symbol, ...new Set(set.filter((s) => s !== symbol))];
  }

  /** Settles when every running job has finished (replay waits on this between rounds). */
  async idle(): Promise<void> {
    while (this.live.size) await Promise.all([...this.live.values()].map((l) => l.promise));
  }

  cancel(id: string): boolean {
    const l = this.live.get(id);
    if (!l) return false;
    l.controller.abort(new Error('cancelled by the operator'));
    return true;
  }

  /**
   * Engine shutdown: stop starting jobs and cancel the running ones. Their queue entries stay
   * `running` on disk, so the next start requeues them (recoverRunning) without counting a failure.
   */
  shutdown(cancelRunning: boolean): void {
    this.stopping = true;
    if (cancelRunning) for (const l of this.live.values()) l.controller.abort(new Error('engine stopping'));
  }

  /** Live figures of the running jobs, by queue id (the projection reads them). */
  liveJobs(): ReadonlyMap<string, LiveJob> {
    return this.live;
  }

  /** Start as many queued jobs as the resource gate allows. */
  async pump(): Promise<void> {
    if (this.pumping || this.stopping) return;
    this.pumping = true;
    try {
      for (;;) {
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
        await this.start(entry);
      }
    } finally {
      this.pumping = false;
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
    const entry = await queue.markRunning(entry0.id, clock.now());
    const controller = new AbortController();
    const live: Live = { entry, symbols: this.jobSymbols(entry.symbol), controller, progress: null, lossHistory: [], valHistory: [], promise: Promise.resolve() };
    this.live.set(entry.id, live);
    log.info(`training ${entry.symbol} started (${entry.reason})`, entry.symbol);
    this.d.state.touch('jobs', entry.symbol);
    live.promise = this.execute(live).finally(() => {
      // The curves outlive the job: the queue panel still shows them once it is done or failed.
      if (live.lossHistory.length || live.valHistory.length) this.d.state.recordJobCurve(entry.id, live.lossHistory, live.valHistory);
      this.live.delete(entry.id);
      this.d.state.touch('jobs', entry.symbol);
      // A slot freed: the next queued job may start.
      void this.pump().catch((err) => log.error(`queue: ${(err as Error).message}`));
    });
  }

  private async execute(live: Live): Promise<void> {
    const { queue, clock, log, registry, state } = this.d;
    const config = state.effectiveConfig();
    const { entry, controller } = live;
    const symbol = entry.symbol;
    const req = state.requestFor(symbol);
    try {
      // multi_symbol mode trains the shared model over its symbol set, this symbol first (the gate scores it).
      const symbols = live.symbols;
      const candles = await this.history(symbol, req.quick !== false);
      const others: Record<string, Candle[]> = {};
      for (const s of symbols.slice(1)) others[s] = await this.history(s, req.quick !== false);
      if (controller.signal.aborted) throw new Error('cancelled');
      const hs = this.checkHistory(symbol, candles);
      if (hs) {
        state.setShortHistory(symbol, hs);
        await queue.markFailed(entry.id, hs.reason, clock.now());
        // No retry will help a short history: fail it for good.
        await queue.cancel(entry.id).catch(() => undefined);
        log.warn(`${symbol} stays blocked: ${hs.reason}`, symbol);
        return;
      }
      state.setShortHistory(symbol, null);
      await registry.refresh();
      const champion = registry.servingArtifactFor(config, symbol, this.d.marketNow());
      const decision = registry.resolveTrainVersion(config, { symbol, force: (Boolean(champion) && entry.trigger === 'retrain') || req.force, version: req.version });
      if (decision.skip) {
        log.info(`${symbol}: ${decision.reason}`, symbol);
        await queue.markDone(entry.id, clock.now());
        return;
      }
      const spec: PipelineJobSpec = {
        ...buildJobSpec(config, {
          symbols,
          candles: { ...others, [symbol]: candles },
          dataSource: await this.d.source.provenance?.(symbols, config.exchange.timeframe), // data: provenance
          models: req.models,
          quick: req.quick !== false,
          version: decision.version,
          modelsDir: this.d.modelsDir,
        }),
        gate: champion ? { championDir: champion.artifact.dir, rows: GATE_ROWS } : undefined,
      };
      const result = await this.d.pool.run(spec, {
        signal: controller.signal,
        // A remote backend names its job after this entry's attempt and re-attaches after a restart.
        queueEntry: entry,
        onProgress: (p) => {
          live.progress = p;
          if (p.loss !== null && p.phase === 'gru' && live.lossHistory.length < p.epoch) {
            live.lossHistory.push(p.loss);
            if (p.valMetric !== null) live.valHistory.push(p.valMetric);
          }
          state.touch('jobs', symbol);
        },
        onLog: (level, message) => log.log(level, `${symbol}: ${message}`, symbol),
      });
      await queue.markDone(entry.id, clock.now());
      state.clearRequest(symbol);
      await registry.refresh();
      const gate = result.gate;
      const champ = champion ? { version: champion.artifact.version, score: gate?.scores.champion ?? Number.NaN } : null;
      const chall = gate?.errors.challenger
        ? { version: decision.version, error: gate.errors.challenger }
        : { version: decision.version, score: gate ? gate.scores.challenger : Number.NaN };
      const verdict = champion
        ? decidePromotion({ champion: champ, challenger: chall, margin: config.auto_training.promotion_margin, metric: gate?.metric ?? 'accuracy' })
        : { promote: true, reason: `first model for ${symbol}` };
      const d: PromotionDecision = {
        at: this.d.marketNow(),
        symbol,
        kind: decisionKind(verdict),
        championVersion: champion?.artifact.version ?? null,
        challengerVersion: decision.version,
        championScore: champ && Number.isFinite(champ.score) ? champ.score : null,
        challengerScore: 'score' in chall && typeof chall.score === 'number' && Number.isFinite(chall.score) ? chall.score : null,
        reason: gate ? `${verdict.reason} (${gate.rows} shared candles)` : verdict.reason,
      };
      await this.d.decisions.apply(d, result.notes);
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
            kind: decisionKind({ promote: false }, true),
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

  /** History for training: target_history_days (quick profile: its data_days) up to market now. */
  private async history(symbol: string, quick: boolean): Promise<Candle[]> {
    const { config } = this.d;
    const tf = config.exchange.timeframe as Timeframe;
    const days = Math.min(config.model.target_history_days, (quick ? config.training.quick : config.training.full).data_days);
    const now = this.d.marketNow();
    const until = Math.floor(now / TIMEFRAME_MS[tf]) * TIMEFRAME_MS[tf];
    return this.d.source.fetchCandles(symbol, tf, until - days * DAY_MS, until);
  }

  private checkHistory(symbol: string, candles: Candle[]): { days: number; coverage: number; reason: string } | null {
    const { model } = this.d.config;
    const tf = this.d.config.exchange.timeframe as Timeframe;
    const hs = historyStats(candles, tf, model.target_history_days, this.d.marketNow());
    const days = hs.historyDays;
    if (days < model.min_history_days_to_train) {
      return { days, coverage: hs.coveragePct, reason: `only ${days.toFixed(1)} days of history (< ${model.min_history_days_to_train}, model.min_history_days_to_train)` };
    }
    // Coverage over the span the symbol has existed: a young coin is not penalised for its age.
    const expected = candles.length ? (candles[candles.length - 1].timestamp - candles[0].timestamp) / TIMEFRAME_MS[tf] + 1 : 0;
    const coverage = expected ? candles.length / expected : 0;
    if (coverage < model.min_history_coverage_pct) {
      return { days, coverage, reason: `history coverage ${(coverage * 100).toFixed(1)}% < ${(model.min_history_coverage_pct * 100).toFixed(0)}% (model.min_history_coverage_pct)` };
    }
    return null;
  }
}

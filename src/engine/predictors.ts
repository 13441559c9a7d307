/**
 * Loaded predictors per symbol, keyed by the artifact folder that serves it. A new serving
 * artifact (promotion, pin, rescan) invalidates the entry and the next signal loads the new one:
 * that is the hot reload, no restart. An artifact is verified (sha256 of every file) once, when it
 * loads, never per prediction; one that fails is taken out of service by the registry (moved to
 * models/.quarantine when its bytes are damaged) and the next choice is loaded at once.
 *
 * Ownership: a loaded model is disposed exactly once, by whoever removes its entry from the map,
 * and the entry is removed BEFORE anything is awaited. (Disposing an entry that stayed in the map
 * while a new load was awaited let a promotion's invalidate() or a rescan's clear() dispose the
 * same tfjs model again: "Container 'sequential_1' is already disposed." thrown out of the registry
 * refresh after a finished training, which failed that retrain.) A predictor handed out stays
 * usable until the caller's next await: the dispose of an invalidated one waits for the next turn
 * of the event loop, and a load invalidated while in flight is never handed out.
 *
 * Expiry: a predictor not asked for during resources.model_cache_ttl_min (wall time; 0: never) is
 * dropped like an invalidated one, so symbols that left the universe, stay blocked or stale, or were
 * served once by a fallback do not keep their tfjs models in memory; the next request loads it again.
 * The sweep runs inside the cache's own calls (every round asks for each served symbol), no timer.
 *
 * Progressive load: a predictor is handed out as soon as its artifact is verified and its trees are
 * loaded; the networks (GRU/LSTM, PPO) keep loading and join its predictions when they land.
 * Meanwhile its predictions carry `partial` ("trees only, rnn loading") and the edge gate judges them
 * by the trees' own verdict (src/engine/edge-gate.ts). An artifact without trees is handed out once
 * complete. Networks that fail to load take the artifact out of service at the next request, like
 * a failed load.
 *
 * Memory: a released predictor's tfjs models are disposed, then the C allocator is asked to return
 * the freed pages (src/native/memory.ts), so a promotion or an expiry does not leave RSS behind.
 */
import { loadArtifactStaged, type LoadArtifactOptions } from '../models/artifact-load.js';
import { trimMallocEvery, trimMallocSoon, tuneMalloc } from '../native/memory.js';
import { SymbolPredictor } from '../models/predictor.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { ModelRegistry, ServingArtifact } from '../registry/registry.js';

interface Entry {
  dir: string;
  /** Settles once; rejects when the artifact cannot be used. */
  loading: Promise<SymbolPredictor>;
  /** Set when the entry left the map: its models are (about to be) disposed. */
  dropped: boolean;
  /** Wall time (ms) of the last request for it. */
  usedAt: number;
}

export interface PredictorCacheOptions {
  /** Wall clock (ms) for expiry. @default Date.now */
  now?: () => number;
  /** Minutes unused before a predictor is dropped (0: never); serving() takes it from the config. @default 0 */
  ttlMin?: number;
  /** Passed to every artifact load (tests hold the networks back with beforeNetworks). */
  load?: LoadArtifactOptions;
  /**
   * Hand a predictor out once its trees are loaded, while its networks load (live: the console
   * stays responsive). false: only once complete - a replay, whose simulated time waits for
   * trainings, must not have its signals depend on how fast this machine loads a network.
   * @default true
   */
  progressive?: boolean;
}

export class PredictorCache {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private ttlMs: number;
  private nextSweep = 0;
  private readonly loadOpts: LoadArtifactOptions;
  private readonly progressive: boolean;

  constructor(
    private readonly log: Pick<Logger, 'info' | 'warn' | 'error'>,
    opts: PredictorCacheOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.ttlMs = ttlMs(opts.ttlMin ?? 0);
    this.loadOpts = opts.load ?? {};
    this.progressive = opts.progressive ?? true;
    // Process-wide and once (the worker pool does the same): every engine has a predictor cache,
    // also one whose trainings run in other processes (distributed.backend: bullmq).
    tuneMalloc();
  }

  /** Symbols with a predictor loaded or loading (what the cache holds in memory). */
  loaded(): string[] {
    return [...this.entries.keys()];
  }

  /** The predictor of `dir` for `symbol`, or null (logged) when that artifact cannot be used. */
  async get(symbol: string, dir: string): Promise<SymbolPredictor | null> {
    try {
      return await this.load(symbol, dir);
    } catch (err) {
      this.log.error(`${symbol}: model at ${dir} not used: ${(err as Error).message}`, symbol);
      return null;
    }
  }

  /**
   * The predictor serving `symbol` now: the registry's choice, loaded and verified; a choice that
   * fails is taken out of service and the next one loaded in the same call. null when none can serve.
   */
  async serving(registry: ModelRegistry, config: Config, symbol: string, now: number): Promise<{ predictor: SymbolPredictor; serving: ServingArtifact } | null> {
    // The config can be reloaded while the engine runs: the current value applies from this call on.
    this.setTtl(config.resources.model_cache_ttl_min);
    // Every round asks here: hand the arenas' free pages (the previous rounds' garbage) back now and then.
    trimMallocEvery(SERVING_TRIM_MS);
    const got = await registry.loadServing(config, symbol, now, (a) => this.load(symbol, a.dir));
    return got ? { predictor: got.value, serving: got.serving } : null;
  }

  /** Like get, but a failure is thrown. Concurrent callers for the same symbol and folder share one load. */
  async load(symbol: string, dir: string): Promise<SymbolPredictor> {
    const at = this.now();
    this.expire(at, symbol);
    for (;;) {
      let e = this.entries.get(symbol);
      if (e && e.dir !== dir) this.invalidate(symbol);
      if (!e || e.dir !== dir) {
        e = { dir, loading: loadPredictor(dir, (m) => this.log.warn(`${symbol}: ${m}`, symbol), this.loadOpts, this.progressive), dropped: false, usedAt: at };
        const entry = e;
        this.entries.set(symbol, entry);
        // A failed load is not kept: the registry takes the artifact out of service instead.
        entry.loading.then(
          (p) => {
            if (p.complete) return this.log.info(`${symbol}: loaded model ${p.version} (${dir})`, symbol);
            this.log.info(`${symbol}: loaded model ${p.version}'s trees, serving from them while its ${p.artifact.pending.join(' and ')} load${p.artifact.pending.length > 1 ? '' : 's'} (${dir})`, symbol);
            p.artifact.networks.then(
              () => !entry.dropped && this.log.info(`${symbol}: loaded model ${p.version} (${dir})`, symbol),
              () => undefined, // reported by the next load() of this entry
            );
          },
          () => this.entries.get(symbol) === entry && this.entries.delete(symbol),
        );
      }
      e.usedAt = Math.max(e.usedAt, at);
      const p = await e.loading;
      if (!e.dropped && p.artifact.networkError) {
        // Its networks failed after its trees served: the artifact is not usable, as if its load had failed.
        if (this.entries.get(symbol) === e) this.invalidate(symbol);
        throw p.artifact.networkError;
      }
      if (!e.dropped) return p;
      // Invalidated while it loaded (a promotion, a rescan): its models are being disposed; load again.
    }
  }

  setTtl(minutes: number): void {
    const ms = ttlMs(minutes);
    if (ms !== this.ttlMs) this.nextSweep = 0;
    this.ttlMs = ms;
  }

  /**
   * Drop the predictors unused for longer than the TTL (not `keep`, the one being asked for). Runs at
   * most every TTL/4 (and at least every minute): a predictor lives between TTL and 1.25 x TTL unused.
   */
  expire(at = this.now(), keep?: string): string[] {
    if (this.ttlMs <= 0 || at < this.nextSweep) return [];
    this.nextSweep = at + Math.min(60_000, this.ttlMs / 4);
    const gone: string[] = [];
    for (const [s, e] of [...this.entries]) {
      if (s === keep || at - e.usedAt <= this.ttlMs) continue;
      gone.push(s);
      this.invalidate(s);
      this.log.info(`${s}: model at ${e.dir} unloaded after ${Math.round((at - e.usedAt) / 60_000)} min unused (resources.model_cache_ttl_min ${this.ttlMs / 60_000})`, s);
    }
    return gone;
  }

  invalidate(symbol: string): void {
    const e = this.entries.get(symbol);
    if (!e) return;
    this.entries.delete(symbol);
    e.dropped = true;
    e.loading.then(
      (p) =>
        setImmediate(() => {
          p.artifact.dispose();
          trimMallocSoon();
        }),
      () => undefined,
    );
  }

  /** Drop the predictors whose artifact folder is not in `dirs` (a rescan: moved, removed). */
  retain(dirs: ReadonlySet<string>): void {
    for (const [s, e] of [...this.entries]) if (!dirs.has(e.dir)) this.invalidate(s);
  }

  clear(): void {
    for (const s of [...this.entries.keys()]) this.invalidate(s);
  }
}

/** How often the serving path trims the allocator (src/native/memory.ts trimMallocEvery). */
const SERVING_TRIM_MS = 10_000;

const ttlMs = (minutes: number): number => (Number.isFinite(minutes) && minutes > 0 ? minutes * 60_000 : 0);

/** Handed out once it can predict: with its trees loaded (progressive), or once complete. */
async function loadPredictor(dir: string, warn: (m: string) => void, opts: LoadArtifactOptions, progressive: boolean): Promise<SymbolPredictor> {
  const artifact = await loadArtifactStaged(dir, opts);
  for (const w of artifact.warnings) warn(w);
  try {
    const p = new SymbolPredictor(artifact);
    if (!artifact.gbdt || !progressive) await artifact.networks;
    return p;
  } catch (err) {
    artifact.dispose();
    throw err;
  }
}

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
 */
import { loadArtifact } from '../models/artifact.js';
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
}

export class PredictorCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly log: Pick<Logger, 'info' | 'warn' | 'error'>) {}

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
    const got = await registry.loadServing(config, symbol, now, (a) => this.load(symbol, a.dir));
    return got ? { predictor: got.value, serving: got.serving } : null;
  }

  /** Like get, but a failure is thrown. Concurrent callers for the same symbol and folder share one load. */
  async load(symbol: string, dir: string): Promise<SymbolPredictor> {
    for (;;) {
      let e = this.entries.get(symbol);
      if (e && e.dir !== dir) this.invalidate(symbol);
      if (!e || e.dir !== dir) {
        e = { dir, loading: loadPredictor(dir, (m) => this.log.warn(`${symbol}: ${m}`, symbol)), dropped: false };
        const entry = e;
        this.entries.set(symbol, entry);
        // A failed load is not kept: the registry takes the artifact out of service instead.
        entry.loading.then(
          (p) => this.log.info(`${symbol}: loaded model ${p.version} (${dir})`, symbol),
          () => this.entries.get(symbol) === entry && this.entries.delete(symbol),
        );
      }
      const p = await e.loading;
      if (!e.dropped) return p;
      // Invalidated while it loaded (a promotion, a rescan): its models are being disposed; load again.
    }
  }

  invalidate(symbol: string): void {
    const e = this.entries.get(symbol);
    if (!e) return;
    this.entries.delete(symbol);
    e.dropped = true;
    e.loading.then(
      (p) => setImmediate(() => p.artifact.dispose()),
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

async function loadPredictor(dir: string, warn: (m: string) => void): Promise<SymbolPredictor> {
  const artifact = await loadArtifact(dir);
  for (const w of artifact.warnings) warn(w);
  try {
    return new SymbolPredictor(artifact);
  } catch (err) {
    artifact.dispose();
    throw err;
  }
}

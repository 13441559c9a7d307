/**
 * Loaded predictors per symbol, keyed by the artifact folder that serves it. A new serving
 * artifact (promotion, pin, rescan) invalidates the entry and the next signal loads the new one:
 * that is the hot reload, no restart. A predictor that fails to load (corrupt artifact, feature
 * schema mismatch) is remembered as failed so it is not retried every round; the reason is logged.
 */
import { loadArtifact } from '../models/artifact.js';
import { SymbolPredictor } from '../models/predictor.js';
import type { Logger } from '../log/logger.js';

interface Entry {
  dir: string;
  predictor: SymbolPredictor | null;
}

export class PredictorCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly log: Logger) {}

  async get(symbol: string, dir: string): Promise<SymbolPredictor | null> {
    const e = this.entries.get(symbol);
    if (e && e.dir === dir) return e.predictor;
    if (e) e.predictor?.artifact.dispose();
    let predictor: SymbolPredictor | null = null;
    try {
      predictor = new SymbolPredictor(await loadArtifact(dir));
      this.log.info(`${symbol}: loaded model ${predictor.version} (${dir})`, symbol);
    } catch (err) {
      this.log.error(`${symbol}: model at ${dir} not used: ${(err as Error).message}`, symbol);
    }
    this.entries.set(symbol, { dir, predictor });
    return predictor;
  }

  invalidate(symbol: string): void {
    this.entries.get(symbol)?.predictor?.artifact.dispose();
    this.entries.delete(symbol);
  }

  clear(): void {
    for (const s of [...this.entries.keys()]) this.invalidate(s);
  }
}

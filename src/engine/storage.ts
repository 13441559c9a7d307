/**
 * Model storage at its limit: remove old, unused versions (never one serving a symbol of the
 * universe, nor the pinned one), at most once every ten minutes, so a training can start.
 */
import type { Clock } from '../clock.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { ModelRegistry } from '../registry/registry.js';
import { cleanupModels } from '../registry/cleanup.js';
import type { EngineState } from './state.js';

const MIN_INTERVAL_MS = 10 * 60_000;

export interface StorageDeps {
  config: Config;
  state: EngineState;
  registry: ModelRegistry;
  modelsDir: string;
  clock: Clock;
  marketNow: () => number;
  logger: Logger;
}

export class StorageCleaner {
  private last = -Infinity;

  constructor(private readonly d: StorageDeps) {}

  /** True when something was removed (the caller asks the resource gate again). */
  async freeSpace(): Promise<boolean> {
    const { clock, state, registry, config, logger } = this.d;
    if (clock.now() - this.last < MIN_INTERVAL_MS) return false;
    this.last = clock.now();
    const cfg = state.effectiveConfig();
    // Serving, pinned, promoted and set-aside versions; the selected one matters only through the symbols it serves.
    const protect = registry.protectedVersions(cfg, state.universe(), this.d.marketNow());
    const report = await cleanupModels({
      modelsDir: this.d.modelsDir,
      versions: registry.list(),
      usage: { ...state.usage() },
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
}

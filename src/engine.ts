/**
 * createEngine(deps): the one place that wires market data, models, registry, queue, training
 * workers, paper trading and policies together. (Being built: issue 5.)
 */
import type { EngineApi } from './engine-api.js';
import type { Config } from './config/schema.js';
import type { Clock } from './clock.js';

export interface EngineOptions {
  /** Folder holding config.yaml, models/ and data/. */
  home: string;
  config: Config;
  configPath: string;
  clock?: Clock;
}

export async function createEngine(_opts: EngineOptions): Promise<EngineApi> {
  throw new Error('the engine is not built yet (issue 5)');
}

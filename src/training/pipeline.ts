import type { JobProgress, LogLevel } from '../engine-api.js';
import type { PipelineJobSpec, TrainResult } from './protocol.js';

export interface PipelineHooks {
  signal?: AbortSignal;
  onProgress?: (p: JobProgress) => void;
  onLog?: (level: LogLevel, message: string) => void;
}

export async function trainSymbolModels(spec: PipelineJobSpec, hooks: PipelineHooks = {}): Promise<TrainResult> {
  void spec;
  void hooks;
  throw new Error('training pipeline not built yet');
}

/**
 * The progress a worker publishes through BullMQ's job.updateProgress: the pipeline's own
 * JobProgress, the log lines since the last update, and who sent it. `run` names one processing
 * of the job (a job recovered after a stall is processed again, by another worker), `seq` orders
 * updates inside a run so a late event never overwrites a newer poll.
 */
import type { JobProgress, LogLevel } from '../engine-api.js';
import { parseWorkerMessage } from '../training/protocol.js';

export interface RemoteProgress {
  run: string;
  seq: number;
  worker: string;
  progress: JobProgress | null;
  logs: { level: LogLevel; message: string }[];
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Validate what came out of Redis; null for anything that is not a kilo progress update. */
export function parseRemoteProgress(x: unknown): RemoteProgress | null {
  if (!isObj(x) || typeof x.run !== 'string' || typeof x.worker !== 'string' || typeof x.seq !== 'number') return null;
  try {
    const progress = x.progress === null || x.progress === undefined ? null : (parseWorkerMessage({ type: 'progress', progress: x.progress }) as { progress: JobProgress }).progress;
    const logs = Array.isArray(x.logs)
      ? x.logs.map((l) => {
          const m = parseWorkerMessage({ type: 'log', ...(isObj(l) ? l : {}) });
          return m.type === 'log' ? { level: m.level, message: m.message } : null;
        })
      : [];
    return { run: x.run, seq: x.seq, worker: x.worker, progress, logs: logs.filter((l): l is NonNullable<typeof l> => l !== null) };
  } catch {
    return null;
  }
}

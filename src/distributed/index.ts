/**
 * Picks the training backend from config: `local` (worker threads in this process, unchanged) or
 * `bullmq` (jobs on Redis for `kilo worker` processes). BullMQ is imported only when chosen.
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import type { LogLevel } from '../engine-api.js';
import { WorkerPool } from '../training/pool.js';
import type { TrainingQueue } from '../training/queue.js';
import type { TrainingBackend } from './backend.js';

export type { TrainingBackend, BackendRunOptions } from './backend.js';

/** kilo's package version (recorded in jobs; a worker warns when the engine's differs). */
export function kiloVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'kilo' && pkg.version) return pkg.version;
    } catch {
      // try the next layout (sources vs dist/)
    }
  }
  return 'unknown';
}

export interface BackendDeps {
  env: NodeJS.ProcessEnv;
  home: string;
  modelsDir: string;
  queue: TrainingQueue;
  log: (level: LogLevel, message: string) => void;
  /** Worker-thread entry override for the local pool (tests). */
  workerEntry?: URL;
  /** Keep a local worker warm this long after a clean job (WorkerPoolOptions.warmMs). @default 0 */
  warmMs?: number;
}

export async function createTrainingBackend(config: Config, deps: BackendDeps): Promise<TrainingBackend> {
  const timeoutMs = config.resources.training_timeout_s * 1000;
  if (config.distributed.backend === 'local') {
    return new WorkerPool({ maxConcurrent: config.resources.max_concurrent_trainings, timeoutMs, entry: deps.workerEntry, warmMs: deps.warmMs ?? 0 });
  }
  const [{ BullmqPool, engineJobPrefix }, { resolveRedisUrl, maskRedisUrl, probeRedis }] = await Promise.all([import('./bullmq-pool.js'), import('./redis.js')]);
  const url = resolveRedisUrl(config.distributed, deps.env);
  const pool = new BullmqPool({
    url,
    engineId: engineJobPrefix(deps.home),
    prefix: config.distributed.queue_prefix,
    modelsDir: deps.modelsDir,
    timeoutMs,
    attempts: config.distributed.job_attempts,
    backoffMs: config.distributed.retry_backoff_s * 1000,
    kiloVersion: kiloVersion(),
    log: deps.log,
    recordJobId: async (entryId, jobId) => {
      await deps.queue.setRemoteJobId(entryId, jobId);
    },
  });
  deps.log('info', `training runs as BullMQ jobs on ${maskRedisUrl(url)} (queue prefix ${config.distributed.queue_prefix}); start workers with kilo worker`);
  // In the background: the engine starts even while Redis is down (jobs wait and retry).
  void probeRedis(url).then(
    (p) => {
      if (p.maxmemoryPolicy !== null && p.maxmemoryPolicy !== 'noeviction') deps.log('warn', `Redis maxmemory-policy is ${p.maxmemoryPolicy}; BullMQ needs noeviction`);
    },
    (err: Error) => deps.log('warn', err.message),
  );
  return pool;
}

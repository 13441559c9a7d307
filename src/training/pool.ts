/**
 * Runs training jobs, each on its own worker thread, so training never blocks the main thread.
 * Cancellation is cooperative first ({type:'cancel'} aborts the worker's AbortController; training
 * loops check it each batch/round) and forced after a grace period (terminate). A worker that
 * throws, exits or sends garbage fails its job; the pool and the process keep going.
 *
 * Memory: when a worker has exited, the C allocator is asked to give the freed pages of every
 * malloc arena back to the kernel (src/native/memory.ts): what the worker's thread freed in its
 * arena (tfjs/wasm, trees, V8's off-heap buffers) otherwise stays in the process's RSS. While any
 * worker runs, the allocator is in its training mode (mallocForTraining): big per-batch buffers come
 * from the arenas, fast; the last worker's exit puts it back to serving and trims.
 */
import type { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { startWorker, siblingEntry } from '../util/worker.js';
import { mallocForTraining, trimMallocSoon, tuneMalloc } from '../native/memory.js';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import type { JobProgress, LogLevel } from '../engine-api.js';
import { MAX_JOB_THREADS, jobSymbols, parseWorkerMessage, transferList, type MainToWorker, type TrainJobSpec, type TrainResult } from './protocol.js';

export class JobRejectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobRejectedError';
  }
}
export class JobCancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'JobCancelledError';
  }
}
export class JobTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${Number((timeoutMs / 1000).toFixed(1))}s`);
    this.name = 'JobTimeoutError';
  }
}
export class JobFailedError extends Error {
  constructor(
    message: string,
    readonly workerStack?: string,
  ) {
    super(message);
    this.name = 'JobFailedError';
  }
}

export interface WorkerPoolOptions {
  maxConcurrent: number;
  /** Wall time per job before it is cancelled with a 'timed out after Ns' error (0 = none). */
  timeoutMs: number;
  clock?: Clock;
  /** How long a cancelled worker may take to stop on its own before terminate(). */
  graceMs?: number;
  /** Override the worker entry (tests); defaults to worker-entry next to this file. */
  entry?: URL;
  /**
   * Threads a training job may use. Default: the cores the running jobs leave, shared evenly when
   * the job starts (2 cores, one job: 2; two jobs: 1 each), at most MAX_JOB_THREADS.
   */
  jobThreads?: number;
}

export interface RunOptions {
  onProgress?: (p: JobProgress) => void;
  onLog?: (level: LogLevel, message: string) => void;
  signal?: AbortSignal;
}

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
  signal?: AbortSignal;
}

export class WorkerPool {
  private running = 0;
  private readonly busy = new Set<string>();
  private readonly waiting: Waiter[] = [];
  private readonly workers = new Set<Worker>();
  private readonly clock: Clock;
  private readonly graceMs: number;
  private closed = false;

  constructor(private readonly opts: WorkerPoolOptions) {
    if (!Number.isInteger(opts.maxConcurrent) || opts.maxConcurrent < 1) throw new RangeError('maxConcurrent must be a positive integer');
    this.clock = opts.clock ?? systemClock;
    this.graceMs = opts.graceMs ?? 2000;
    // Process-wide and once: the allocator settings must be in force before the first worker mallocs.
    tuneMalloc();
  }

  get activeJobs(): number {
    return this.running;
  }

  /** Symbols with a job running or waiting for a slot. */
  get activeSymbols(): string[] {
    return [...this.busy];
  }

  /** Run one job on a fresh worker; resolves with its result or rejects with a named error. */
  async run(job: TrainJobSpec, ro: RunOptions = {}): Promise<TrainResult> {
    if (this.closed) throw new JobRejectedError('the worker pool is closed');
    const symbols = jobSymbols(job);
    const clash = symbols.find((s) => this.busy.has(s));
    if (clash) throw new JobRejectedError(`${clash} is already training; one job per symbol at a time`);
    if (ro.signal?.aborted) throw new JobCancelledError();
    for (const s of symbols) this.busy.add(s);
    try {
      await this.acquire(ro.signal);
      try {
        return await this.runOnWorker(job, ro);
      } finally {
        this.release();
      }
    } finally {
      for (const s of symbols) this.busy.delete(s);
    }
  }

  /** Terminate every worker (pending waiters are rejected). */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.reject(new JobCancelledError('the worker pool closed'));
    await Promise.all([...this.workers].map((w) => w.terminate()));
  }

  private acquire(signal?: AbortSignal): Promise<void> {
    if (this.running < this.opts.maxConcurrent) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal };
      const onAbort = (): void => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new JobCancelledError('cancelled while waiting for a worker'));
      };
      waiter.resolve = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  /** Threads for a job starting now (this.running counts it). */
  private threadsForJob(): number {
    if (this.opts.jobThreads !== undefined) return Math.max(1, Math.floor(this.opts.jobThreads));
    return Math.max(1, Math.min(MAX_JOB_THREADS, Math.floor(availableParallelism() / Math.max(1, this.running))));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next.resolve();
    else this.running--;
  }

  private runOnWorker(job: TrainJobSpec, ro: RunOptions): Promise<TrainResult> {
    return new Promise<TrainResult>((resolve, reject) => {
      const worker = startWorker(this.opts.entry ?? siblingEntry(import.meta.url, 'worker-entry'));
      // The allocator's training mode lasts while any worker is alive (started and not yet exited).
      if (this.workers.size === 0) mallocForTraining(true);
      this.workers.add(worker);
      let settled = false;
      let stopReason: Error | null = null;
      let timeoutTimer: TimerHandle | null = null;
      let graceTimer: TimerHandle | null = null;

      const finish = (err: Error | null, result?: TrainResult): void => {
        if (settled) return;
        settled = true;
        if (timeoutTimer) this.clock.clearTimeout(timeoutTimer);
        if (graceTimer) this.clock.clearTimeout(graceTimer);
        ro.signal?.removeEventListener('abort', onAbort);
        worker.removeAllListeners('message');
        // The worker's job is over either way; terminate so a lingering handle cannot keep it alive.
        void worker.terminate().finally(() => {
          this.workers.delete(worker);
          if (this.workers.size === 0) mallocForTraining(false);
          trimMallocSoon();
        });
        if (err) reject(err);
        else resolve(result as TrainResult);
      };
      const stop = (reason: Error): void => {
        if (settled || stopReason) return;
        stopReason = reason;
        const msg: MainToWorker = { type: 'cancel' };
        worker.postMessage(msg);
        graceTimer = this.clock.setTimeout(() => finish(reason), this.graceMs);
      };
      const onAbort = (): void => stop(new JobCancelledError());

      worker.on('message', (raw: unknown) => {
        let msg;
        try {
          msg = parseWorkerMessage(raw);
        } catch (err) {
          finish(new JobFailedError(`worker protocol error: ${(err as Error).message}`));
          return;
        }
        switch (msg.type) {
          case 'progress':
            if (!stopReason) ro.onProgress?.(msg.progress);
            break;
          case 'log':
            ro.onLog?.(msg.level, msg.message);
            break;
          case 'done':
            finish(stopReason, msg.result);
            break;
          case 'failed':
            finish(stopReason ?? new JobFailedError(msg.error, msg.stack));
            break;
        }
      });
      worker.on('error', (err: Error) => finish(stopReason ?? new JobFailedError(`worker crashed: ${err.message}`, err.stack)));
      worker.on('exit', (code: number) => {
        finish(stopReason ?? new JobFailedError(code === 0 ? 'worker exited without a result' : `worker exited with code ${code}`));
      });

      if (ro.signal) ro.signal.addEventListener('abort', onAbort, { once: true });
      if (this.opts.timeoutMs > 0) {
        timeoutTimer = this.clock.setTimeout(() => stop(new JobTimeoutError(this.opts.timeoutMs)), this.opts.timeoutMs);
      }
      const start: MainToWorker = { type: 'start', job: job.kind === 'train' ? { ...job, threads: this.threadsForJob() } : job };
      worker.postMessage(start, transferList(job));
    });
  }
}

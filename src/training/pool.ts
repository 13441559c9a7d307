/**
 * Runs training jobs on worker threads, one job per worker at a time, so training never blocks the
 * main thread. With warmMs, a worker whose job ended cleanly stays warm and takes the next job (tfjs
 * and the native kernels load once); one whose job failed, was cancelled or timed out is terminated.
 * A job is granted threads: the cores the running jobs leave (src/training/pipeline-units.ts).
 * Cancellation is cooperative first ({type:'cancel'} aborts the worker's AbortController; training
 * loops check it each batch/round) and forced after a grace period (terminate). A worker that
 * throws, exits or sends garbage fails its job; the pool and the process keep going.
 *
 * Memory: when a worker has been terminated (a warm one when its warmMs ran out), the C allocator is asked to give the freed pages of every
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
  /**
   * A worker whose job ended cleanly stays warm this long (ms) for the next job: tfjs and the
   * native kernels are loaded once, not per job (about a second of every retrain), at the price of
   * the worker's memory (~100 MB with tfjs) while it waits. It is unref'd while it waits, so it
   * never keeps the process alive. 0 (the default): a fresh worker per job. A replay keeps its
   * workers warm (src/engine.ts); a live engine does not.
   */
  warmMs?: number;
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

/** How long a worker stays warm after a clean job, unless WorkerPoolOptions.warmMs says otherwise. */
export const DEFAULT_WARM_MS = 0;

export class WorkerPool {
  private running = 0;
  private readonly busy = new Set<string>();
  private readonly waiting: Waiter[] = [];
  private readonly workers = new Set<Worker>();
  /** Warm workers waiting for a job, newest last, each with the timer that ends it. */
  private readonly warm: { worker: Worker; timer: NodeJS.Timeout }[] = [];
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
    const warm = this.warm.splice(0);
    for (const w of warm) {
      clearTimeout(w.timer);
      w.worker.removeAllListeners('exit');
      w.worker.removeAllListeners('error');
    }
    for (const w of this.waiting.splice(0)) w.reject(new JobCancelledError('the worker pool closed'));
    // Warm workers go the way every worker goes (the allocator back to serving, a trim).
    for (const w of warm) this.retire(w.worker);
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

  private startNew(): Worker {
    const worker = startWorker(this.opts.entry ?? siblingEntry(import.meta.url, 'worker-entry'));
    // The allocator's training mode lasts while any worker is alive (started and not yet exited).
    if (this.workers.size === 0) mallocForTraining(true);
    this.workers.add(worker);
    return worker;
  }

  private takeWarm(): Worker | null {
    const w = this.warm.pop();
    if (!w) return null;
    clearTimeout(w.timer);
    w.worker.removeAllListeners('exit');
    w.worker.removeAllListeners('error');
    w.worker.ref();
    return w.worker;
  }

  /** Keep a worker whose job ended cleanly for the next job, for warmMs. */
  private park(worker: Worker): void {
    worker.unref();
    const drop = (): void => {
      const i = this.warm.findIndex((w) => w.worker === worker);
      if (i >= 0) {
        clearTimeout(this.warm[i].timer);
        this.warm.splice(i, 1);
      }
      this.retire(worker);
    };
    // A warm worker that dies is simply dropped.
    worker.once('exit', drop);
    worker.once('error', drop);
    const timer = setTimeout(drop, this.opts.warmMs ?? DEFAULT_WARM_MS);
    timer.unref();
    this.warm.push({ worker, timer });
  }

  /** Terminate a worker; the last one gone puts the allocator back to serving and trims. */
  private retire(worker: Worker): void {
    if (!this.workers.has(worker)) return;
    void worker.terminate().finally(() => {
      if (!this.workers.delete(worker)) return;
      if (this.workers.size === 0) mallocForTraining(false);
      trimMallocSoon();
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
      const worker = this.takeWarm() ?? this.startNew();
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
        worker.removeAllListeners('error');
        worker.removeAllListeners('exit');
        // A clean end: the worker stays warm for the next job. Otherwise (failed, cancelled, timed
        // out, crashed) it is terminated so nothing of that job lingers.
        if (!err && !this.closed && (this.opts.warmMs ?? DEFAULT_WARM_MS) > 0) this.park(worker);
        else this.retire(worker);
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

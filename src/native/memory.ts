/**
 * The C allocator's side of the process's memory (glibc malloc, through kilo's native addon).
 *
 * Why: trainings run on worker threads, and glibc gives a thread that allocates its own malloc
 * arena (up to 8 per core). What a training frees there (tfjs/wasm scratch, tree histograms, V8's
 * off-heap buffers) stays mapped after the worker is gone, and the main thread's arena keeps what a
 * released predictor freed: RSS that no JS heap figure shows. trimMalloc() (glibc malloc_trim(0))
 * hands the free pages of every arena back to the kernel; the worker pool calls it after a
 * worker has exited, the predictor cache after a model was released. It cannot shrink the top of a
 * thread's arena: a low trim threshold while serving and a sweep of the exited workers' arenas
 * (sweepThreadArenas) do that.
 *
 * Fallback: without the addon (not built, not x64, KILO_NATIVE_MEMORY=0) or off glibc nothing is
 * trimmed and mallocStats() is null; kilo works the same, with the larger RSS.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { NATIVE_MODULE_PATH } from './module-path.js';

export interface MallocStats {
  /** Bytes the allocator took from the system for its arenas (sbrk heap + thread arena heaps). */
  arena: number;
  /** Bytes in chunks it mmapped directly (large allocations). */
  mmapped: number;
  /** Bytes handed out and not freed. */
  inUse: number;
  /** Bytes freed but still held in the arenas (what a trim can give back, page-aligned parts of it). */
  free: number;
  /** Free bytes at the top of the main arena. */
  releasable: number;
}

interface MemoryAddon {
  mallocStats?: () => MallocStats | null;
  mallocTrim?: () => boolean;
  mallopt?: (name: 'mmap_threshold' | 'trim_threshold' | 'arena_max', value: number) => boolean;
}

let addon: MemoryAddon | null | undefined;
let why = '';

function load(): MemoryAddon | null {
  if (addon !== undefined) return addon;
  if (process.env.KILO_NATIVE_MEMORY === '0') return ((why = 'KILO_NATIVE_MEMORY=0'), (addon = null));
  if (!existsSync(NATIVE_MODULE_PATH)) return ((why = `${NATIVE_MODULE_PATH} not built`), (addon = null));
  try {
    const m = createRequire(import.meta.url)(NATIVE_MODULE_PATH) as MemoryAddon;
    if (typeof m.mallocTrim !== 'function' || typeof m.mallocStats !== 'function') {
      return ((why = `${NATIVE_MODULE_PATH} predates the allocator calls: run npm run build:native`), (addon = null));
    }
    return (addon = m);
  } catch (err) {
    return ((why = `${NATIVE_MODULE_PATH} failed to load: ${(err as Error).message.split('\n')[0]}`), (addon = null));
  }
}

/** Whether trimMalloc() can do anything here, and why not. */
export function mallocTrimStatus(): { available: boolean; reason: string } {
  const m = load();
  return m ? { available: true, reason: NATIVE_MODULE_PATH } : { available: false, reason: why };
}

/** glibc's own figures (null without the addon or off glibc). */
export function mallocStats(): MallocStats | null {
  return load()?.mallocStats?.() ?? null;
}

let trims = 0;

/** Give the allocator's free pages back to the kernel (all arenas). true: something was released. */
export function trimMalloc(): boolean {
  const m = load();
  if (!m?.mallocTrim) return false;
  trims++;
  return m.mallocTrim();
}

/** How many times trimMalloc() reached the allocator in this thread (for the tests). */
export function mallocTrimCount(): number {
  return trims;
}

let lastTrim = -Infinity;

/**
 * trimMalloc() at most once per `intervalMs` (of `now`): for callers on the serving path, where each
 * round's garbage is freed into the arenas by the GC and nothing else would hand it back. A trim with
 * ~100 MB free takes milliseconds; the interval keeps it off a replay's tight loop.
 */
export function trimMallocEvery(intervalMs: number, now: number = Date.now()): boolean {
  if (now - lastTrim < intervalMs || !load()) return false;
  lastTrim = now;
  trimMallocSoon();
  return true;
}

let scheduled = false;

/**
 * trimMalloc() once the current turn's work is done (after setImmediate callbacks queued before it,
 * such as a released predictor's dispose); many requests in one turn make one trim.
 */
export function trimMallocSoon(): void {
  if (scheduled || !load()) return;
  scheduled = true;
  setImmediate(() => {
    scheduled = false;
    trimMalloc();
  });
}

/** Allocator settings kilo applies to its own process (tuneMalloc); KILO_MALLOC_* override them (0: leave glibc's). */
export const MALLOC_TUNING = {
  /** Buffers from this size up get their own mapping, returned to the kernel when freed. */
  mmap_threshold: 'KILO_MALLOC_MMAP_THRESHOLD',
  /** Free memory at the top of an arena beyond this size goes back to the kernel as it is freed. */
  trim_threshold: 'KILO_MALLOC_TRIM_THRESHOLD',
  /** How many arenas the threads share (glibc's default: 8 per core). */
  arena_max: 'KILO_MALLOC_ARENA_MAX',
} as const;

/**
 * mmap_threshold 128 KiB, fixed, while no training runs: glibc starts there but raises it (up to
 * 32 MB) each time a large mapped buffer is freed, process-wide. After the training workers' big
 * buffers had been freed, the main thread's buffers of up to tens of MB went into the arenas, where a
 * free keeps the memory: measured (bench/rss.bench.ts, 20 symbols served after retrains) 393 MB with
 * glibc's moving threshold, 324 MB with it fixed at 128 KiB (main arena 126 -> 29 MB), 350 MB at
 * 1 MiB (main arena 126 MB). While a training runs, the threshold is TRAINING_MMAP_THRESHOLD
 * instead (mallocForTraining): at 128 KiB the trainings' per-batch buffers each cost an mmap and
 * fresh pages, +35-45 % CPU seconds on bench/train.bench.ts; what they leave in the arenas is trimmed
 * when the worker exits. arena_max: glibc's default (8 per core) kept.
 *
 * trim_threshold 128 KiB (glibc's initial value) while serving: glibc raises it with the mmap
 * threshold (to twice the largest mapped buffer freed) before kilo's setting stops the moving
 * threshold, and nothing brought it down again, so the free memory at the top of an arena stayed
 * resident up to that size (malloc_trim() shrinks only the main arena's top; a thread's arena gives
 * its top back on free, past this threshold). While a training runs it is TRAINING_TRIM_THRESHOLD:
 * at 128 KiB the trainings' per-batch buffers were handed back and faulted in again, bench/train
 * 8.3 -> 11.8 CPU s (170k -> 322k minor faults).
 */
export const MALLOC_DEFAULTS: Record<keyof typeof MALLOC_TUNING, number> = { mmap_threshold: 128 * 1024, trim_threshold: 128 * 1024, arena_max: 0 };

/** glibc's ceiling for its moving threshold on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX): where it ends up under training anyway. */
export const TRAINING_MMAP_THRESHOLD = 32 * 1024 * 1024;
/** What glibc's moving thresholds pair with that mmap threshold (twice it). */
export const TRAINING_TRIM_THRESHOLD = 2 * TRAINING_MMAP_THRESHOLD;

let training = false;

/**
 * Switch the allocator between serving (the tuned thresholds) and training (buffers up to 32 MB
 * from the arenas and up to 64 MB kept free at their tops, as glibc would after a few large frees;
 * trimmed after the job, then the exited workers' arenas swept). The worker pool calls it when its
 * first job starts (true) and when its last one has exited (false). No-op when kilo does not tune
 * the threshold.
 */
export function mallocForTraining(on: boolean): void {
  const m = load();
  const serving = tuned?.mmap_threshold;
  if (!m?.mallopt || serving === undefined) return;
  const trim = tuned?.trim_threshold;
  if (on && !training) {
    training = true;
    m.mallopt('mmap_threshold', TRAINING_MMAP_THRESHOLD);
    if (trim !== undefined) m.mallopt('trim_threshold', TRAINING_TRIM_THRESHOLD);
  } else if (!on && training) {
    training = false;
    m.mallopt('mmap_threshold', serving);
    if (trim !== undefined) m.mallopt('trim_threshold', trim);
    trimMallocSoon();
    if (trim !== undefined) sweepThreadArenasLater();
  }
}

/** Threads started at once by a sweep: the training pool's workers (2 by default) and a margin. */
const SWEEP_THREADS = 4;
/** Serving for this long (no training started again) before the sweep: a queue's next job often follows at once. */
const SWEEP_DELAY_MS = 2_000;
let sweepTimer: NodeJS.Timeout | null = null;
let sweeps = 0;

/**
 * A training worker's thread arena keeps the free memory at its top after the worker has exited
 * (up to the training trim threshold, 64 MB): malloc_trim() never shrinks a thread arena's top, only
 * a free into that arena does. glibc hands the arenas of exited threads to the next threads that
 * start, so a few empty threads started at once, in serving mode, each take one of them, and their
 * own frees there (V8's isolate setup and teardown) shrink its top to the serving trim threshold.
 * Measured (rss probe, 20 served after 2 retrains): thread arenas 36 -> 14 MB, RSS 251 -> 213 MB;
 * the sweep took ~0.5 s of wall time at load average 9. Runs once the allocator has been in
 * serving mode for SWEEP_DELAY_MS; a training starting meanwhile cancels it.
 */
function sweepThreadArenasLater(): void {
  if (sweepTimer) clearTimeout(sweepTimer);
  sweepTimer = setTimeout(() => {
    sweepTimer = null;
    if (!training) void sweepThreadArenas();
  }, SWEEP_DELAY_MS);
  sweepTimer.unref();
}

/** Start SWEEP_THREADS empty worker threads at once, wait for them to exit, then trim. Never throws. */
export async function sweepThreadArenas(threads = SWEEP_THREADS): Promise<void> {
  if (!load()) return;
  sweeps++;
  await Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise<void>((done) => {
          try {
            const w = new Worker('', { eval: true, stdout: true, stderr: true });
            w.unref();
            w.once('exit', () => done());
            w.once('error', () => done());
          } catch {
            done();
          }
        }),
    ),
  );
  trimMalloc();
}

/** How many arena sweeps have started in this process (for the tests). */
export function threadArenaSweeps(): number {
  return sweeps;
}

/** 'training' while mallocForTraining(true) is in force, else 'serving' (for the tests and the bench). */
export function mallocMode(): 'training' | 'serving' {
  return training ? 'training' : 'serving';
}

let tuned: Record<string, number> | null = null;

/**
 * Apply the allocator settings once per process (the engine does at start, before any training):
 * what was set, by name. Settings glibc refuses, or without the addon, are left out.
 */
export function tuneMalloc(env: NodeJS.ProcessEnv = process.env): Record<string, number> {
  if (tuned) return tuned;
  tuned = {};
  const m = load();
  if (!m?.mallopt) return tuned;
  for (const [name, key] of Object.entries(MALLOC_TUNING) as [keyof typeof MALLOC_TUNING, string][]) {
    const raw = env[key];
    const value = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : MALLOC_DEFAULTS[name];
    if (value > 0 && m.mallopt(name, value)) tuned[name] = value;
  }
  return tuned;
}

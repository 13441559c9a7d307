/**
 * The C allocator's side of kilo's memory (src/native/memory.ts over native/kilo_rnn.c): glibc's
 * figures, malloc_trim handing freed pages back (RSS falls by most of what was freed), the worker
 * pool trimming once a training worker has exited, the predictor cache trimming after a released
 * model's dispose, and the fallback without the addon (KILO_NATIVE_MEMORY=0: nothing trimmed,
 * nothing thrown).
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { mallocMode, mallocStats, mallocTrimCount, mallocTrimStatus, threadArenaSweeps, trimMalloc, trimMallocEvery } from '../../src/native/memory.js';
import { NATIVE_MODULE_PATH } from '../../src/native/module-path.js';
import { WorkerPool } from '../../src/training/pool.js';
import { PredictorCache } from '../../src/engine/predictors.js';
import type { SymbolPredictor } from '../../src/models/predictor.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const MB = 1024 * 1024;
const glibc = process.platform === 'linux' && !!(process.report?.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime;
const built = existsSync(NATIVE_MODULE_PATH);
const rssNow = (): number => Number(/^Rss:\s+(\d+)/m.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'))![1]) * 1024;
const turns = async (n = 3) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe.skipIf(!glibc || !built)('malloc trims through the native addon', () => {
  it('reports glibc figures and gives freed arena pages back to the kernel', async () => {
    expect(mallocTrimStatus()).toEqual({ available: true, reason: NATIVE_MODULE_PATH });
    const s0 = mallocStats()!;
    for (const k of ['arena', 'mmapped', 'inUse', 'free', 'releasable'] as const) expect(s0[k]).toBeGreaterThanOrEqual(0);
    // 96 MB in 64 KB buffers: below the mmap threshold, so they live in the arena, written so they are resident.
    let bufs: Buffer[] = [];
    for (let i = 0; i < 1536; i++) bufs.push(Buffer.allocUnsafeSlow(64 * 1024).fill(i & 0xff));
    const held = mallocStats()!;
    expect(held.inUse - s0.inUse).toBeGreaterThan(90 * MB);
    bufs = [];
    gc();
    gc();
    await turns();
    const freed = mallocStats()!;
    expect(freed.free).toBeGreaterThan(80 * MB);
    const before = rssNow();
    trimMalloc();
    const after = rssNow();
    // Most of the freed 96 MB leaves the RSS (the chunks stay free in the arena, their pages go back).
    expect(before - after).toBeGreaterThan(48 * MB);
  });

  it('the worker pool trims once a training worker has exited, then sweeps the thread arenas', async () => {
    // No warm worker: the worker goes as soon as its job is done.
    const pool = new WorkerPool({ maxConcurrent: 1, timeoutMs: 60_000, warmMs: 0 });
    try {
      const before = mallocTrimCount();
      const sweepsBefore = threadArenaSweeps();
      expect(mallocMode()).toBe('serving');
      const modes: string[] = [];
      const r = await pool.run({ kind: 'selftest', symbol: 'BTC/USDT', behaviour: 'progress', steps: 2, stepMs: 1 }, { onProgress: () => modes.push(mallocMode()) });
      expect(r.kind).toBe('selftest');
      // Training mode while the worker runs (buffers from the arenas), serving mode once it has exited.
      expect(modes).toEqual(['training', 'training']);
      // terminate() settles after the job's promise: wait for the exit, then the trim's turn.
      for (let i = 0; i < 200 && mallocTrimCount() === before; i++) await new Promise((res) => setTimeout(res, 10));
      expect(mallocTrimCount()).toBeGreaterThanOrEqual(before + 1);
      expect(mallocMode()).toBe('serving');
      // Then, still serving, the exited worker's arena is swept (empty threads take it over and shrink its top) and trimmed.
      const trims = mallocTrimCount();
      for (let i = 0; i < 500 && threadArenaSweeps() === sweepsBefore; i++) await new Promise((res) => setTimeout(res, 20));
      expect(threadArenaSweeps()).toBe(sweepsBefore + 1);
      for (let i = 0; i < 500 && mallocTrimCount() === trims; i++) await new Promise((res) => setTimeout(res, 20));
      expect(mallocTrimCount()).toBeGreaterThan(trims);
    } finally {
      await pool.close();
    }
  });

  /** Wait for the arena sweep that follows the switch to serving, and its trim (so no later test sees them). */
  const sweepDone = async (): Promise<void> => {
    const sweeps = threadArenaSweeps();
    for (let i = 0; i < 500 && threadArenaSweeps() === sweeps; i++) await new Promise((res) => setTimeout(res, 20));
    const trims = mallocTrimCount();
    for (let i = 0; i < 500 && mallocTrimCount() === trims; i++) await new Promise((res) => setTimeout(res, 20));
  };

  it('a warm worker keeps training mode until its warmMs runs out, then the pool trims', async () => {
    const pool = new WorkerPool({ maxConcurrent: 1, timeoutMs: 60_000, warmMs: 300 });
    try {
      const before = mallocTrimCount();
      await pool.run({ kind: 'selftest', symbol: 'BTC/USDT', behaviour: 'progress', steps: 1, stepMs: 1 });
      // Warm: still alive, still training mode, no trim yet.
      expect(mallocMode()).toBe('training');
      for (let i = 0; i < 300 && mallocMode() === 'training'; i++) await new Promise((res) => setTimeout(res, 10));
      expect(mallocMode()).toBe('serving');
      for (let i = 0; i < 200 && mallocTrimCount() === before; i++) await new Promise((res) => setTimeout(res, 10));
      expect(mallocTrimCount()).toBeGreaterThanOrEqual(before + 1);
      await sweepDone();
    } finally {
      await pool.close();
    }
  });

  it('closing a pool with a warm worker puts the allocator back to serving', async () => {
    const pool = new WorkerPool({ maxConcurrent: 1, timeoutMs: 60_000, warmMs: 60_000 });
    await pool.run({ kind: 'selftest', symbol: 'BTC/USDT', behaviour: 'progress', steps: 1, stepMs: 1 });
    expect(mallocMode()).toBe('training');
    const before = mallocTrimCount();
    await pool.close();
    for (let i = 0; i < 200 && (mallocMode() === 'training' || mallocTrimCount() === before); i++) await new Promise((res) => setTimeout(res, 10));
    expect(mallocMode()).toBe('serving');
    expect(mallocTrimCount()).toBeGreaterThanOrEqual(before + 1);
    await sweepDone();
  });

  it("the predictor cache trims after a released model's dispose", async () => {
    const cache = new PredictorCache({ info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as ConstructorParameters<typeof PredictorCache>[0]);
    const order: string[] = [];
    const fake = { artifact: { dispose: () => order.push(`dispose@${mallocTrimCount()}`), networks: Promise.resolve(), pending: [] }, complete: true, version: '1.0' } as unknown as SymbolPredictor;
    // An entry as load() leaves it, without reading an artifact from disk.
    (cache as unknown as { entries: Map<string, unknown> }).entries.set('BTC/USDT', { dir: '/nowhere', loading: Promise.resolve(fake), dropped: false, usedAt: 0 });
    const before = mallocTrimCount();
    cache.invalidate('BTC/USDT');
    await turns(4);
    expect(order).toEqual([`dispose@${before}`]);
    expect(mallocTrimCount()).toBe(before + 1);
  });

  it('trimMallocEvery trims at most once per interval (the serving path calls it every round)', async () => {
    const t0 = 1e12;
    const before = mallocTrimCount();
    expect(trimMallocEvery(10_000, t0)).toBe(true);
    expect(trimMallocEvery(10_000, t0 + 9_999)).toBe(false);
    await turns();
    expect(mallocTrimCount()).toBe(before + 1);
    expect(trimMallocEvery(10_000, t0 + 10_000)).toBe(true);
    await turns();
    expect(mallocTrimCount()).toBe(before + 2);
  });

  it('applies the allocator settings kilo tunes, once per process (a fresh process: the first pool applies them)', () => {
    const r = runMemory('m.tuneMalloc(), m.tuneMalloc({ KILO_MALLOC_MMAP_THRESHOLD: "1" })', { KILO_MALLOC_MMAP_THRESHOLD: '262144', KILO_MALLOC_ARENA_MAX: '0' });
    expect(r).toEqual([
      { mmap_threshold: 262144, trim_threshold: 131072 },
      { mmap_threshold: 262144, trim_threshold: 131072 },
    ]);
    // 0: glibc's own value is left (here: whatever its moving threshold made of it).
    expect(runMemory('m.tuneMalloc()', { KILO_MALLOC_TRIM_THRESHOLD: '0' })).toEqual([{ mmap_threshold: 131072 }]);
  });
});

/** Evaluate `expr` (a list, with `m` = src/native/memory.ts) in a fresh Node process with `env` added. */
function runMemory(expr: string, env: Record<string, string>): unknown {
  const code = `
    const m = await import(${JSON.stringify(new URL('../../src/native/memory.ts', import.meta.url).href)});
    console.log(JSON.stringify([${expr}]));
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { env: { ...process.env, ...env }, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

describe('without the addon', () => {
  it('KILO_NATIVE_MEMORY=0: no trims, no figures, no error', () => {
    expect(runMemory('m.mallocTrimStatus(), m.mallocStats(), m.trimMalloc(), m.tuneMalloc(), m.mallocTrimCount()', { KILO_NATIVE_MEMORY: '0' })).toEqual([
      { available: false, reason: 'KILO_NATIVE_MEMORY=0' },
      null,
      false,
      {},
      0,
    ]);
  });
});

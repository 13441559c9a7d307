import { describe, it, expect, afterEach } from 'vitest';
import { WorkerPool, JobCancelledError, JobFailedError, JobRejectedError, JobTimeoutError } from '../../src/training/pool.js';
import { parseWorkerMessage, WorkerProtocolError } from '../../src/training/protocol.js';
import type { JobProgress } from '../../src/engine-api.js';

const pools: WorkerPool[] = [];
const mk = (o: Partial<ConstructorParameters<typeof WorkerPool>[0]> = {}): WorkerPool => {
  const p = new WorkerPool({ maxConcurrent: 2, timeoutMs: 0, graceMs: 500, ...o });
  pools.push(p);
  return p;
};
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

describe('parseWorkerMessage', () => {
  it('accepts a well-formed progress message and rejects malformed ones', () => {
    const m = parseWorkerMessage({ type: 'progress', progress: { phase: 'gru', epoch: 1, epochs: 3, loss: 0.5, valMetric: null, fraction: 0.2, etaS: 4 } });
    expect(m).toEqual({ type: 'progress', progress: { phase: 'gru', epoch: 1, epochs: 3, loss: 0.5, valMetric: null, fraction: 0.2, etaS: 4 } });
    expect(() => parseWorkerMessage({ type: 'progress', progress: { phase: 'gru', epoch: 1, epochs: 3, loss: 0.5, valMetric: null, fraction: 2, etaS: 4 } })).toThrow(/fraction/);
    expect(() => parseWorkerMessage({ type: 'nope' })).toThrow(WorkerProtocolError);
    expect(() => parseWorkerMessage('x')).toThrow(/non-object/);
    expect(() => parseWorkerMessage({ type: 'log', level: 'loud', message: 'x' })).toThrow(/level/);
    expect(() => parseWorkerMessage({ type: 'done', result: { kind: 'train', artifactDir: null, metadata: null, durationS: 1, notes: [] } })).toThrow(/artifactDir/);
  });
});

describe('WorkerPool with real worker threads', () => {
  it('streams progress messages and logs, then resolves with the result', async () => {
    const pool = mk();
    const seen: JobProgress[] = [];
    const logs: string[] = [];
    const res = await pool.run(
      { kind: 'selftest', symbol: 'BTC/USDT', behaviour: 'progress', steps: 4, stepMs: 5 },
      { onProgress: (p) => seen.push(p), onLog: (_l, m) => logs.push(m) },
    );
    expect(seen.map((p) => p.epoch)).toEqual([1, 2, 3, 4]);
    expect(seen[3].fraction).toBe(1);
    expect(logs).toEqual(['step 1', 'step 2', 'step 3', 'step 4']);
    expect(res.kind).toBe('selftest');
    expect(res.notes[0]).toBe('4 steps');
    // The training thread runs at a lower priority than the console's main thread (Linux).
    if (process.platform === 'linux') expect(res.notes).toContain('nice 10');
    expect(pool.activeJobs).toBe(0);
  });

  it('cancel stops a cooperative job quickly', async () => {
    const pool = mk({ graceMs: 30_000 });
    const ac = new AbortController();
    const started = Date.now();
    const p = pool.run({ kind: 'selftest', symbol: 'ETH/USDT', behaviour: 'hang' }, { signal: ac.signal, onProgress: () => ac.abort() });
    await expect(p).rejects.toBeInstanceOf(JobCancelledError);
    // grace is 30 s: finishing well before means the worker stopped on its own after {type:'cancel'}
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(pool.activeSymbols).toEqual([]);
  });

  it('terminates a worker that ignores cancel after the grace period', async () => {
    const pool = mk({ graceMs: 200 });
    const ac = new AbortController();
    const p = pool.run({ kind: 'selftest', symbol: 'SOL/USDT', behaviour: 'block' }, { signal: ac.signal, onProgress: () => ac.abort() });
    await expect(p).rejects.toBeInstanceOf(JobCancelledError);
  });

  it('a worker that throws or exits(1) fails its job and the pool keeps working', async () => {
    const pool = mk();
    await expect(pool.run({ kind: 'selftest', symbol: 'A/USDT', behaviour: 'throw' })).rejects.toThrow(/selftest failure for A\/USDT/);
    const exit = pool.run({ kind: 'selftest', symbol: 'B/USDT', behaviour: 'exit' });
    await expect(exit).rejects.toBeInstanceOf(JobFailedError);
    await expect(exit).rejects.toThrow(/exited with code 1/);
    await expect(pool.run({ kind: 'selftest', symbol: 'C/USDT', behaviour: 'garbage' })).rejects.toThrow(/protocol error: progress.phase/);
    const ok = await pool.run({ kind: 'selftest', symbol: 'A/USDT', behaviour: 'progress', steps: 2, stepMs: 1 });
    expect(ok.notes[0]).toBe('2 steps');
  });

  it('times out a job with a clear error', async () => {
    const pool = mk({ timeoutMs: 300, graceMs: 200 });
    const p = pool.run({ kind: 'selftest', symbol: 'D/USDT', behaviour: 'hang' });
    await expect(p).rejects.toBeInstanceOf(JobTimeoutError);
    await expect(p).rejects.toThrow('timed out after 0.3s');
  });

  it('never runs two jobs for the same symbol and queues beyond maxConcurrent', async () => {
    const pool = mk({ maxConcurrent: 1 });
    const ac = new AbortController();
    const first = pool.run({ kind: 'selftest', symbol: 'BTC/USDT', behaviour: 'hang' }, { signal: ac.signal });
    await expect(pool.run({ kind: 'selftest', symbol: 'BTC/USDT', behaviour: 'progress' })).rejects.toBeInstanceOf(JobRejectedError);
    const order: string[] = [];
    const second = pool.run({ kind: 'selftest', symbol: 'ETH/USDT', behaviour: 'progress', steps: 1, stepMs: 1 }).then(() => order.push('second'));
    expect(pool.activeSymbols.sort()).toEqual(['BTC/USDT', 'ETH/USDT']);
    expect(pool.activeJobs).toBe(1);
    first.catch(() => order.push('first'));
    ac.abort();
    await second;
    expect(order).toEqual(['first', 'second']);
  });

  it('a worker whose job ended cleanly takes the next job warm; one whose job failed or was cancelled never does', async () => {
    const pool = mk({ maxConcurrent: 1, warmMs: 60_000 });
    const thread = (r: { notes: string[] }): string => r.notes.find((n) => n.startsWith('thread '))!;
    const ok = (symbol: string) => pool.run({ kind: 'selftest', symbol, behaviour: 'progress', steps: 1, stepMs: 1 });
    const a = await ok('A/USDT');
    const b = await ok('B/USDT');
    expect(thread(b)).toBe(thread(a));
    // A failed job's worker is terminated: the next job gets a fresh one.
    await expect(pool.run({ kind: 'selftest', symbol: 'C/USDT', behaviour: 'throw' })).rejects.toThrow(/selftest failure/);
    const c = await ok('D/USDT');
    expect(thread(c)).not.toBe(thread(b));
    // So is a cancelled job's.
    const ac = new AbortController();
    await expect(pool.run({ kind: 'selftest', symbol: 'E/USDT', behaviour: 'hang' }, { signal: ac.signal, onProgress: () => ac.abort() })).rejects.toBeInstanceOf(JobCancelledError);
    const d = await ok('F/USDT');
    expect([thread(b), thread(c)]).not.toContain(thread(d));
  });

  it('by default (a live engine) a fresh worker for every job: no warm worker holds memory while serving', async () => {
    const pool = mk({ maxConcurrent: 1 });
    const thread = (r: { notes: string[] }): string => r.notes.find((n) => n.startsWith('thread '))!;
    const a = await pool.run({ kind: 'selftest', symbol: 'A/USDT', behaviour: 'progress', steps: 1, stepMs: 1 });
    const b = await pool.run({ kind: 'selftest', symbol: 'A/USDT', behaviour: 'progress', steps: 1, stepMs: 1 });
    expect(thread(b)).not.toBe(thread(a));
  });
});

/**
 * Entry of a training worker thread. One job at a time: wait for {type:'start'}, run it with an
 * AbortController that {type:'cancel'} aborts, report progress/logs, end with done or failed.
 * After a job that ended cleanly the pool may keep the worker warm (tfjs loaded, native kernels
 * open) and send it the next job; a worker whose job failed or was cancelled is terminated.
 * The pipeline (tfjs, trees) is imported lazily so selftest jobs start fast.
 */
import { parentPort, threadId } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { lowerThreadPriority } from '../util/worker.js';
import { parseMainMessage, type SelftestJobSpec, type TrainResult, type WorkerToMain } from './protocol.js';
import type { JobProgress } from '../engine-api.js';

if (!parentPort) throw new Error('worker-entry must run inside a worker thread');
const port = parentPort;
lowerThreadPriority();

/** The job running now (null between jobs). */
let current: AbortController | null = null;

const post = (m: WorkerToMain): void => port.postMessage(m);

port.on('message', (raw: unknown) => {
  let msg;
  try {
    msg = parseMainMessage(raw);
  } catch (err) {
    post({ type: 'log', level: 'error', message: (err as Error).message });
    return;
  }
  if (msg.type === 'cancel') {
    current?.abort(new Error('cancelled'));
    return;
  }
  if (current) {
    post({ type: 'log', level: 'warn', message: 'ignored a second start: one job at a time per worker' });
    return;
  }
  const controller = new AbortController();
  current = controller;
  const job = msg.job;
  const run = async (): Promise<TrainResult> => {
    if (job.kind === 'selftest') return runSelftest(job, controller.signal);
    const { trainSymbolModels } = await import('./pipeline.js');
    const result = await trainSymbolModels(job, {
      signal: controller.signal,
      onProgress: (progress) => post({ type: 'progress', progress }),
      onLog: (level, message) => post({ type: 'log', level, message }),
    });
    if (!job.gate || !result.artifactDir) return result;
    // Champion/challenger on the same most recent candles, here off the main thread.
    const { scoreOnSharedWindow } = await import('./gate.js');
    const { columnsToCandles } = await import('./pipeline-data.js');
    const gate = await scoreOnSharedWindow({
      symbol: job.symbols[0],
      candles: columnsToCandles(job.candles[0]),
      artifacts: { champion: job.gate.championDir, challenger: result.artifactDir },
      rows: job.gate.rows,
      horizon: job.horizon,
      labelThreshold: job.labelThreshold,
    });
    return { ...result, gate };
  };
  run().then(
    (result) => {
      current = null;
      post({ type: 'done', result });
    },
    (err: unknown) => {
      current = null;
      const e = err instanceof Error ? err : new Error(String(err));
      post({ type: 'failed', error: e.message, stack: e.stack, cancelled: controller.signal.aborted });
    },
  );
});

const wait = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error('cancelled'));
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new Error('cancelled'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });

/** This thread's nice value from /proc (null off Linux). */
function threadNice(): number | null {
  try {
    return Number(readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1].split(' ')[16]);
  } catch {
    return null;
  }
}

/** Test-only behaviours that exercise the real worker path (crash, hang, stream progress). */
async function runSelftest(job: SelftestJobSpec, signal: AbortSignal): Promise<TrainResult> {
  const t0 = Date.now();
  const steps = job.steps ?? 5;
  const stepMs = job.stepMs ?? 10;
  const progress = (epoch: number): JobProgress => ({
    phase: 'selftest',
    epoch,
    epochs: steps,
    loss: 1 / epoch,
    valMetric: epoch / steps,
    fraction: epoch / steps,
    etaS: ((steps - epoch) * stepMs) / 1000,
  });
  switch (job.behaviour) {
    case 'throw':
      await wait(stepMs, signal);
      throw new Error(`selftest failure for ${job.symbol}`);
    case 'exit':
      await wait(stepMs, signal);
      process.exit(1);
      break;
    case 'garbage':
      port.postMessage({ type: 'progress', progress: { phase: 42 } });
      await wait(60_000, signal);
      break;
    case 'block': {
      // A loop that never yields: only terminate() can stop it (the pool's grace period path).
      post({ type: 'progress', progress: progress(1) });
      for (;;) {
        /* spin */
      }
    }
    case 'hang':
      post({ type: 'progress', progress: progress(1) });
      await wait(3_600_000, signal);
      break;
    case 'progress':
      for (let i = 1; i <= steps; i++) {
        await wait(stepMs, signal);
        post({ type: 'progress', progress: progress(i) });
        post({ type: 'log', level: 'debug', message: `step ${i}` });
      }
      break;
  }
  const notes = [`${steps} steps`, `thread ${threadId}`];
  const nice = threadNice();
  if (nice !== null) notes.push(`nice ${nice}`);
  return { kind: 'selftest', artifactDir: null, metadata: null, durationS: (Date.now() - t0) / 1000, notes };
}

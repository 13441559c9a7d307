/**
 * A training job's models as units of work that can run on more than one thread. The units of a
 * job are its own model stages (gbdt, gru, ppo) and the verdict's earlier walk-forward folds (each
 * fold model trained and judged): none needs another's result, and each is seeded, so a unit gives
 * the same numbers on whichever thread runs it.
 *
 * The job's worker runs units itself and, when the pool granted the job more than one thread
 * (spec.threads), starts helper threads (src/training/unit-worker.ts) that build the same training
 * data from the same candles and take units too. Units are claimed from a shared counter (Atomics),
 * so a thread that finishes early takes the next one without a round trip through the job's event
 * loop. A helper that dies leaves its claimed unit without a result: the job's thread runs it. Measured on the default retrain recipe (bench/phase-profile.ts): one thread
 * 8.5 s, two threads in the notes of issue 16.
 */
import type { Worker } from 'node:worker_threads';
import type { Candle } from '../market/types.js';
import type { ModelKind } from '../models/metadata.js';
import type { ArtifactFileInput } from '../models/artifact.js';
import type { FoldJudgement } from '../evaluation/edge.js';
import { startWorker, siblingEntry } from '../util/worker.js';
import { buildTrainingData, type TrainingData } from './pipeline-data.js';
import { stageFor, type TrainedStage } from './pipeline-stage.js';
import { jobDataOptions, judgeFold, verdictPlans, type FoldPlan } from './pipeline-verdict.js';
import type { PipelineJobSpec } from './protocol.js';
import { MAX_JOB_THREADS } from './protocol.js';
export { MAX_JOB_THREADS };

export type Unit = { kind: 'stage'; model: ModelKind } | { kind: 'fold'; index: number };

export type UnitResult = { kind: 'stage'; stage: TrainedStage } | { kind: 'fold'; judgement: Record<string, FoldJudgement>; rows: string; seconds: number };

export interface JobContext {
  spec: PipelineJobSpec;
  symbols: { symbol: string; candles: Candle[] }[];
  data: TrainingData;
  plans: FoldPlan[];
}

/** The job's training data from its candles: the same on the job's thread and on every helper. */
export function jobTrainingData(spec: PipelineJobSpec, symbols: { symbol: string; candles: Candle[] }[], testRows: number[] | undefined): TrainingData {
  return buildTrainingData(symbols, jobDataOptions(spec, testRows));
}

export function jobContext(spec: PipelineJobSpec, symbols: JobContext['symbols'], data: TrainingData): JobContext {
  return { spec, symbols, data, plans: verdictPlans(spec, data) };
}

/**
 * The job's units in the order they are taken. One thread: the models in the pipeline's order, then
 * the folds, as a job has always run. Several: the longest first (the recurrent net, PPO, the trees,
 * then the folds, the latest and largest first), so no thread is left with a long unit at the end.
 */
export function jobUnits(models: readonly ModelKind[], folds: number, threads: number): Unit[] {
  const stages = (threads > 1 ? (['gru', 'ppo', 'gbdt'] as const) : (['gbdt', 'gru', 'ppo'] as const)).filter((k) => models.includes(k));
  const idx = Array.from({ length: folds }, (_, i) => i);
  if (threads > 1) idx.reverse();
  return [...stages.map((model): Unit => ({ kind: 'stage', model })), ...idx.map((index): Unit => ({ kind: 'fold', index }))];
}

export interface UnitHooks {
  signal?: AbortSignal;
  report(fraction: number, epoch: number, epochs: number, loss: number | null, valMetric: number | null): void;
  log(message: string): void;
}

/** Run one unit on this thread. */
export async function runUnit(ctx: JobContext, unit: Unit, hooks: UnitHooks): Promise<UnitResult> {
  if (unit.kind === 'stage') {
    const run = await stageFor(unit.model);
    const stage = await run(ctx.data, ctx.spec, { signal: hooks.signal, report: (f, e, es, l, v) => hooks.report(f, e, es, l, v), log: hooks.log });
    return { kind: 'stage', stage };
  }
  const t0 = performance.now();
  const f = await judgeFold(ctx.spec, ctx.symbols, ctx.plans[unit.index], { signal: hooks.signal }, (x) => hooks.report(x, 0, 0, null, null));
  return { kind: 'fold', judgement: f.judgement, rows: f.rows, seconds: (performance.now() - t0) / 1000 };
}

// --- moving a result between threads --------------------------------------------------------

/** Stand-ins for the artifact key and timestamp, known only when the job saves. */
const KEY = '\u0000key\u0000';
const TS = '\u0000ts\u0000';

export type PortableResult =
  | { kind: 'stage'; stage: { kind: ModelKind; valProbs: Float32Array; testProbs: Float32Array; notes: string[]; files: ArtifactFileInput[] } }
  | Extract<UnitResult, { kind: 'fold' }>;

export function toPortable(r: UnitResult): PortableResult {
  if (r.kind === 'fold') return r;
  const s = r.stage;
  return { kind: 'stage', stage: { kind: s.kind, valProbs: s.valProbs, testProbs: s.testProbs, notes: s.notes, files: s.files(KEY, TS) } };
}

export function fromPortable(r: PortableResult): UnitResult {
  if (r.kind === 'fold') return r;
  const s = r.stage;
  return {
    kind: 'stage',
    stage: {
      kind: s.kind,
      valProbs: s.valProbs,
      testProbs: s.testProbs,
      notes: s.notes,
      files: (key, ts) => s.files.map((f) => ({ ...f, file: f.file.split(KEY).join(key).split(TS).join(ts) })),
    },
  };
}

/** Buffers of a portable result that can move without a copy. */
export function portableTransfer(r: PortableResult): ArrayBuffer[] {
  if (r.kind !== 'stage') return [];
  const out: ArrayBuffer[] = [];
  const add = (b: ArrayBufferLike): void => {
    if (b instanceof ArrayBuffer && !out.includes(b)) out.push(b);
  };
  add(r.stage.valProbs.buffer);
  add(r.stage.testProbs.buffer);
  for (const f of r.stage.files) if (typeof f.data !== 'string') add(f.data.buffer);
  return out;
}

// --- the messages between a job's thread and its helpers --------------------------------------

export type ToHelper =
  | { type: 'init'; spec: PipelineJobSpec }
  | { type: 'units'; units: Unit[]; counter: SharedArrayBuffer }
  | { type: 'cancel' };

export type FromHelper =
  | { type: 'progress'; unit: number; fraction: number; epoch: number; epochs: number; loss: number | null; valMetric: number | null }
  | { type: 'log'; unit: number; message: string }
  | { type: 'result'; unit: number; result: PortableResult }
  | { type: 'failed'; unit: number | null; error: string; stack?: string }
  | { type: 'idle' };

/** Claim the next unit index from the shared counter (every thread of the job uses the same one). */
export const claim = (counter: Int32Array): number => Atomics.add(counter, 0, 1);

// --- the scheduler on the job's thread --------------------------------------------------------

export interface Helper {
  /** Hand the helper the units; it claims from the counter until none is left. */
  start(units: Unit[], counter: SharedArrayBuffer): void;
  /** Resolves when the helper has no more units to take, or has died. */
  readonly done: Promise<void>;
  /**
   * The job is over: a helper that finished cleanly waits (unref'd) for this thread's next job,
   * with its tfjs loaded; any other is terminated. Idempotent.
   */
  stop(reuse?: boolean): Promise<void>;
}

/** Helper threads that finished a job cleanly and wait for the next job of this thread. */
const spare: Worker[] = [];

export interface SchedulerHooks {
  signal?: AbortSignal;
  /** Progress of unit `i` (from this thread or a helper). */
  onProgress(unit: number, fraction: number, epoch: number, epochs: number, loss: number | null, valMetric: number | null): void;
  onLog(unit: number, message: string): void;
  /** Something the operator should know (a helper died and its units ran here). */
  onWarn(message: string): void;
}

/**
 * Start `n` helper threads for a job: each builds the job's data from the candles in `spec` while
 * the job's thread does the same, then waits for the units. A helper that cannot start is simply
 * absent (its units run on the job's thread).
 */
export function startHelpers(spec: PipelineJobSpec, n: number, hooks: Pick<SchedulerHooks, 'onProgress' | 'onLog' | 'onWarn'>, results: (PortableResult | undefined)[], failures: string[]): Helper[] {
  const helpers: Helper[] = [];
  for (let h = 0; h < n; h++) {
    let worker: Worker;
    try {
      worker = spare.pop() ?? startWorker(siblingEntry(import.meta.url, 'unit-worker'));
      worker.ref();
    } catch (err) {
      hooks.onWarn(`could not start a training helper thread (${(err as Error).message}); the job runs on one thread`);
      break;
    }
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    let finished = false;
    let clean = false;
    let stopped = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      resolveDone();
    };
    worker.on('message', (m: FromHelper) => {
      switch (m.type) {
        case 'progress':
          hooks.onProgress(m.unit, m.fraction, m.epoch, m.epochs, m.loss, m.valMetric);
          break;
        case 'log':
          hooks.onLog(m.unit, m.message);
          break;
        case 'result':
          results[m.unit] = m.result;
          break;
        case 'failed':
          failures.push(m.error);
          finish();
          break;
        case 'idle':
          clean = true;
          finish();
          break;
      }
    });
    worker.on('error', (err) => {
      hooks.onWarn(`a training helper thread failed (${err.message}); the job's own thread takes its units`);
      finish();
    });
    worker.on('exit', () => {
      clean = false;
      finish();
    });
    worker.postMessage({ type: 'init', spec } satisfies ToHelper);
    helpers.push({
      start: (units, counter) => worker.postMessage({ type: 'units', units, counter } satisfies ToHelper),
      done,
      stop: async (reuse = false) => {
        if (stopped) return;
        stopped = true;
        worker.removeAllListeners('message');
        worker.removeAllListeners('error');
        worker.removeAllListeners('exit');
        if (reuse && clean && finished && spare.length < MAX_JOB_THREADS) {
          worker.unref();
          spare.push(worker);
        } else {
          worker.postMessage({ type: 'cancel' } satisfies ToHelper);
          await worker.terminate();
        }
        finish();
      },
    });
  }
  return helpers;
}

/**
 * Run the units on this thread and on the helpers; results in unit order. A unit that failed on a
 * helper fails the job with the helper's error (as it would have here); a unit a dead helper left
 * unfinished runs here.
 */
export async function runUnits(ctx: JobContext, units: Unit[], helpers: Helper[], hooks: SchedulerHooks, helperResults: (PortableResult | undefined)[], failures: string[]): Promise<UnitResult[]> {
  const counter = new SharedArrayBuffer(4);
  const next = new Int32Array(counter);
  for (const h of helpers) h.start(units, counter);
  const local: (UnitResult | undefined)[] = new Array(units.length);
  const runHere = async (i: number): Promise<void> => {
    local[i] = await runUnit(ctx, units[i], {
      signal: hooks.signal,
      report: (f, e, es, l, v) => hooks.onProgress(i, f, e, es, l, v),
      log: (m) => hooks.onLog(i, m),
    });
  };
  for (let i = claim(next); i < units.length; i = claim(next)) {
    if (failures.length) break;
    await runHere(i);
    if (hooks.signal?.aborted) throw new Error('cancelled');
  }
  await Promise.all(helpers.map((h) => h.done));
  if (failures.length) throw new Error(failures[0]);
  if (hooks.signal?.aborted) throw new Error('cancelled');
  for (let i = 0; i < units.length; i++) {
    if (local[i] || helperResults[i]) continue;
    hooks.onWarn(`unit ${describeUnit(units[i])} was left unfinished by a helper thread; running it on the job's thread`);
    await runHere(i);
  }
  return units.map((_, i) => local[i] ?? fromPortable(helperResults[i]!));
}

export const describeUnit = (u: Unit): string => (u.kind === 'stage' ? u.model : `verdict fold ${u.index + 1}`);

/**
 * The typed messages between the main thread and a training worker. Everything that arrives from
 * a worker goes through parseWorkerMessage before it is trusted: a malformed message is an error,
 * never a silently half-read object.
 */
import type { JobProgress, LogLevel } from '../engine-api.js';
import type { ClassMetrics, DataProvenance, ModelKind, ModelMetadata, SymbolEncoding, TrainingMode } from '../models/metadata.js';
import type { TrainingProfile } from '../config/schema.js';
import type { Timeframe } from '../market/types.js';
import type { GateScores } from './gate.js';

/** Candles of one symbol as columns so the buffers can be transferred, not copied. */
export interface CandleColumns {
  symbol: string;
  timestamp: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
}

export interface PipelineJobSpec {
  kind: 'train';
  /** One symbol for single_symbol, several for multi_symbol. */
  symbols: string[];
  trainingMode: TrainingMode;
  symbolEncoding: SymbolEncoding;
  models: ModelKind[];
  /** 'retrain' is the full profile's epochs and patience over training.retrain_days (src/engine/recipe.ts). */
  profile: TrainingProfile & { name: 'full' | 'quick' | 'retrain' };
  version: string;
  modelsDir: string;
  /** The main thread fetches candles and transfers them here (workers never touch the network). */
  candles: CandleColumns[];
  timeframe: Timeframe;
  window: number;
  horizon: number;
  labelThreshold: number;
  valFraction: number;
  testFraction: number;
  rnnCell: 'gru' | 'lstm';
  /** Fee per side the judgement charges (paper_trading.fee_rate). */
  feeRate: number;
  /** Where the candles came from, their range and hash: copied into metadata.json as data_source. */
  dataSource?: DataProvenance;
  /** Adverse slippage per fill the judgement charges (paper_trading.slippage_bps). @default 5 */
  slippageBps?: number;
  /** Confidence a call needs to trade (paper_trading.entry_threshold). @default 0.55 */
  entryThreshold?: number;
  /**
   * Walk-forward folds of the edge verdict (training.walk_forward_folds): the last is the trained
   * model on its own test slice, the others fold models on expanding windows. 0 = no verdict.
   * @default 4
   */
  walkForwardFolds?: number;
  /** Fold models: 'light' (the verdict's cheaper recipe) or 'profile' (this job's profile; kilo eval). @default 'light' */
  foldRecipe?: 'light' | 'profile';
  /** model.edge_confidence / model.edge_margin_pct for the stored verdict. @default 0.9 / 0.5 */
  edgeConfidence?: number;
  edgeMarginPct?: number;
  /** auto_training.gate_days: with a gate, the test slice (the gate's window) is at least this long. @default 30 */
  gateDays?: number;
  /**
   * Class weighting: 'balanced' weights every model's classes inversely to their frequency (the
   * trees by repeating rows of the rarer classes), 'none' weights none. Unset: the GRU balances
   * its classes, the trees do not.
   */
  classWeights?: 'balanced' | 'none';
  seed?: number;
  /**
   * Threads this job may use (the pool grants them when it starts the job: the cores not taken by
   * other jobs, at most MAX_JOB_THREADS). Above 1 the job's models and verdict folds run on helper
   * threads too (src/training/pipeline-units.ts); the results are the same. @default 1
   */
  threads?: number;
  /**
   * Champion/challenger: after training, the worker scores the serving artifact and the new one
   * on the same most recent `rows` candles it was sent (src/training/gate.ts).
   */
  gate?: { championDir: string; rows: number };
}

/** Threads one job may use at most: the units of a job (3 models, 3 folds) keep two busy, not more. */
export const MAX_JOB_THREADS = 2;

/** A test-only job that exercises the real worker path without training anything. */
export interface SelftestJobSpec {
  kind: 'selftest';
  symbol: string;
  behaviour: 'progress' | 'throw' | 'exit' | 'hang' | 'block' | 'garbage';
  steps?: number;
  stepMs?: number;
}

export type TrainJobSpec = PipelineJobSpec | SelftestJobSpec;

export interface TrainResult {
  kind: 'train' | 'selftest';
  /** Final artifact folder (absent for selftest). */
  artifactDir: string | null;
  metadata: ModelMetadata | null;
  durationS: number;
  /** Human lines about the run (cleaning report, early stops), for the CLI and the log. */
  notes: string[];
  /** Naive baselines scored on the same validation/test rows as the models (train jobs). */
  baselines?: Record<string, { validation: ClassMetrics; test: ClassMetrics }>;
  /** Scores of champion and challenger on the shared window (when the job asked for the gate). */
  gate?: GateScores;
}

export type MainToWorker = { type: 'start'; job: TrainJobSpec } | { type: 'cancel' };

export type WorkerToMain =
  | { type: 'progress'; progress: JobProgress }
  | { type: 'log'; level: LogLevel; message: string }
  | { type: 'done'; result: TrainResult }
  | { type: 'failed'; error: string; stack?: string; cancelled?: boolean };

export class WorkerProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkerProtocolError';
  }
}

/** Symbols a job trains, the key the pool uses to refuse two jobs for one symbol. */
export const jobSymbols = (job: TrainJobSpec): string[] => (job.kind === 'train' ? job.symbols : [job.symbol]);

/** Buffers of a job that can be moved to the worker without a copy. */
export function transferList(job: TrainJobSpec): ArrayBuffer[] {
  if (job.kind !== 'train') return [];
  const out: ArrayBuffer[] = [];
  for (const c of job.candles) {
    for (const a of [c.timestamp, c.open, c.high, c.low, c.close, c.volume]) {
      if (a.buffer instanceof ArrayBuffer && !out.includes(a.buffer)) out.push(a.buffer);
    }
  }
  return out;
}

const LEVELS = new Set(['debug', 'info', 'warn', 'error']);
const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isNum = (x: unknown): x is number => typeof x === 'number' && !Number.isNaN(x);
const numOrNull = (x: unknown): boolean => x === null || isNum(x);

function parseProgress(p: unknown): JobProgress {
  if (!isObj(p)) throw new WorkerProtocolError('progress message without a progress object');
  if (typeof p.phase !== 'string') throw new WorkerProtocolError('progress.phase must be a string');
  if (!isNum(p.epoch) || !isNum(p.epochs)) throw new WorkerProtocolError('progress.epoch/epochs must be numbers');
  if (!numOrNull(p.loss) || !numOrNull(p.valMetric) || !numOrNull(p.etaS)) {
    throw new WorkerProtocolError('progress.loss/valMetric/etaS must be numbers or null');
  }
  if (!isNum(p.fraction) || p.fraction < 0 || p.fraction > 1) throw new WorkerProtocolError('progress.fraction must be in 0..1');
  return {
    phase: p.phase,
    epoch: p.epoch,
    epochs: p.epochs,
    loss: p.loss as number | null,
    valMetric: p.valMetric as number | null,
    fraction: p.fraction,
    etaS: p.etaS as number | null,
  };
}

function parseResult(r: unknown): TrainResult {
  if (!isObj(r)) throw new WorkerProtocolError('done message without a result object');
  if (r.kind !== 'train' && r.kind !== 'selftest') throw new WorkerProtocolError(`result.kind ${String(r.kind)} is unknown`);
  if (r.artifactDir !== null && typeof r.artifactDir !== 'string') throw new WorkerProtocolError('result.artifactDir must be a string or null');
  if (r.metadata !== null && !isObj(r.metadata)) throw new WorkerProtocolError('result.metadata must be an object or null');
  if (r.kind === 'train' && (r.artifactDir === null || r.metadata === null)) {
    throw new WorkerProtocolError('a train result needs artifactDir and metadata');
  }
  if (!isNum(r.durationS)) throw new WorkerProtocolError('result.durationS must be a number');
  if (!Array.isArray(r.notes) || !r.notes.every((n) => typeof n === 'string')) throw new WorkerProtocolError('result.notes must be strings');
  if (r.baselines !== undefined && !isObj(r.baselines)) throw new WorkerProtocolError('result.baselines must be an object');
  if (r.gate !== undefined && (!isObj(r.gate) || !isObj(r.gate.scores) || typeof r.gate.metric !== 'string')) {
    throw new WorkerProtocolError('result.gate must be {metric, rows, window, scores, errors}');
  }
  return {
    kind: r.kind,
    artifactDir: r.artifactDir as string | null,
    metadata: r.metadata as unknown as ModelMetadata | null,
    durationS: r.durationS,
    notes: r.notes as string[],
    ...(r.baselines ? { baselines: r.baselines as TrainResult['baselines'] } : {}),
    // JSON-free structured clone keeps NaN scores (a broken model) as NaN.
    ...(r.gate ? { gate: r.gate as unknown as GateScores } : {}),
  };
}

/** Validate a message from a worker; throws WorkerProtocolError naming what is wrong. */
export function parseWorkerMessage(x: unknown): WorkerToMain {
  if (!isObj(x)) throw new WorkerProtocolError(`worker sent a non-object message (${typeof x})`);
  switch (x.type) {
    case 'progress':
      return { type: 'progress', progress: parseProgress(x.progress) };
    case 'log':
      if (typeof x.level !== 'string' || !LEVELS.has(x.level)) throw new WorkerProtocolError(`log.level ${String(x.level)} is unknown`);
      if (typeof x.message !== 'string') throw new WorkerProtocolError('log.message must be a string');
      return { type: 'log', level: x.level as LogLevel, message: x.message };
    case 'done':
      return { type: 'done', result: parseResult(x.result) };
    case 'failed':
      if (typeof x.error !== 'string') throw new WorkerProtocolError('failed.error must be a string');
      if (x.stack !== undefined && typeof x.stack !== 'string') throw new WorkerProtocolError('failed.stack must be a string');
      return { type: 'failed', error: x.error, stack: x.stack as string | undefined, cancelled: x.cancelled === true };
    default:
      throw new WorkerProtocolError(`worker sent an unknown message type ${JSON.stringify(x.type)}`);
  }
}

/** Validate a message from the main thread (the worker side trusts nothing either). */
export function parseMainMessage(x: unknown): MainToWorker {
  if (!isObj(x)) throw new WorkerProtocolError('main thread sent a non-object message');
  if (x.type === 'cancel') return { type: 'cancel' };
  if (x.type === 'start' && isObj(x.job) && (x.job.kind === 'train' || x.job.kind === 'selftest')) {
    return { type: 'start', job: x.job as unknown as TrainJobSpec };
  }
  throw new WorkerProtocolError(`main thread sent an unknown message ${JSON.stringify(x.type)}`);
}

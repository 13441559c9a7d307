/**
 * The per-symbol training pipeline. Runs INSIDE a worker thread (never on the main thread):
 * candles -> features -> cleaning -> labels -> purged time split -> preprocessor fitted on train ->
 * GBDT / RNN / PPO (each optional) -> evaluation of each model and the ensemble on validation and
 * test -> one artifact folder published with a single rename.
 */
import type { JobProgress, LogLevel } from '../engine-api.js';
import type { ClassMetrics, ModelKind, ModelMetadata } from '../models/metadata.js';
import { TIMEFRAME_MS } from '../market/types.js';
import { existsSync } from 'node:fs';
import { ArtifactExistsError, artifactDir, artifactFileName, artifactKey, fileTimestamp, writeArtifact, type ArtifactFileInput } from '../models/artifact.js';
import { weightsFromMetadata, type EnsembleWeights } from '../models/ensemble.js';
import { buildFeatureMetadata, WARMUP_BARS } from '../features/index.js';
import { callsFromProbs, ensembleCalls, type Calls, type Costs } from '../evaluation/judge.js';
import { baselineMetrics } from './pipeline-baselines.js';
import { columnsToCandles, labelsFor, type SliceName, type TrainingData } from './pipeline-data.js';
import { MAX_JOB_THREADS, jobContext, jobTrainingData, jobUnits, runUnits, startHelpers, type JobContext, type PortableResult, type Unit, type UnitResult } from './pipeline-units.js';
import { argmax3, classMetrics, replaySlice, withReplays } from './pipeline-metrics.js';
import type { TrainedStage } from './pipeline-stage.js';
import { costsOf, DEFAULT_GATE_DAYS, walkForwardEdge } from './pipeline-verdict.js';
import { assertFiniteMetrics } from './pipeline-spec.js';
import { absurdCandle } from '../market/validate.js';
import type { PipelineJobSpec, TrainResult } from './protocol.js';

export interface PipelineHooks {
  signal?: AbortSignal;
  onProgress?: (p: JobProgress) => void;
  onLog?: (level: LogLevel, message: string) => void;
  /** Wall clock for created_at and file names (tests pin it). */
  now?: () => number;
}

export class PipelineInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PipelineInputError';
  }
}

/** Share of the whole job each phase takes, for the progress fraction (renormalised to the models run). */
const WEIGHTS: Record<'features' | ModelKind | 'evaluate' | 'verdict', number> = { features: 0.04, gbdt: 0.2, gru: 0.55, ppo: 0.18, evaluate: 0.03, verdict: 0.3 };
const ORDER: ModelKind[] = ['gbdt', 'gru', 'ppo'];

function validateSpec(spec: PipelineJobSpec): void {
  if (spec.symbols.length === 0) throw new PipelineInputError('job has no symbols');
  if (spec.trainingMode === 'single_symbol' && spec.symbols.length !== 1) {
    throw new PipelineInputError(`single_symbol mode trains one symbol, got ${spec.symbols.length}`);
  }
  if (spec.models.length === 0) throw new PipelineInputError('job has no models to train');
  for (const s of spec.symbols) {
    const cols = spec.candles.find((c) => c.symbol === s);
    if (!cols) throw new PipelineInputError(`no candles were sent for ${s}`);
    // The worker trusts nothing it is sent (a remote job, a caller that skipped buildJobSpec): a
    // 1e308 candle trains a model whose metrics look finite, so it is refused here by name.
    for (let i = 0; i < cols.timestamp.length; i++) {
      const why = absurdCandle({ open: cols.open[i], high: cols.high[i], low: cols.low[i], close: cols.close[i], volume: cols.volume[i] });
      if (why) throw new PipelineInputError(`${s}: candle ${new Date(cols.timestamp[i]).toISOString()} is absurd (${why}); refusing to train on it`);
    }
  }
}

export async function trainSymbolModels(spec: PipelineJobSpec, hooks: PipelineHooks = {}): Promise<TrainResult> {
  const now = hooks.now ?? Date.now;
  const t0 = now();
  const started = performance.now();
  validateSpec(spec);
  // Versions are immutable: fail before spending minutes training (writeArtifact checks again at the end).
  const target = artifactDir(spec.modelsDir, spec.version, artifactKey(spec.symbols, spec.trainingMode));
  if (existsSync(target)) throw new ArtifactExistsError(target);
  const signal = hooks.signal;
  const checkAbort = (): void => {
    if (signal?.aborted) throw new Error('cancelled');
  };
  const log = (level: LogLevel, m: string): void => hooks.onLog?.(level, m);
  const models = ORDER.filter((k) => spec.models.includes(k));
  const verdictWeight = (spec.walkForwardFolds ?? 1) > 0 ? WEIGHTS.verdict * models.reduce((s, k) => s + WEIGHTS[k], 0) : 0;
  const total = WEIGHTS.features + WEIGHTS.evaluate + verdictWeight + models.reduce((s, k) => s + WEIGHTS[k], 0);
  let doneWeight = 0;
  const progress = (phase: string, within: number, weight: number, epoch = 0, epochs = 0, loss: number | null = null, valMetric: number | null = null): void => {
    const fraction = Math.min(1, Math.max(0, (doneWeight + weight * within) / total));
    const elapsed = (performance.now() - started) / 1000;
    const etaS = fraction > 0.02 ? (elapsed / fraction) * (1 - fraction) : null;
    hooks.onProgress?.({ phase, epoch, epochs, loss, valMetric, fraction, etaS });
  };
  const notes: string[] = [];

  progress('features', 0, WEIGHTS.features);
  const symbols = spec.symbols.map((s) => ({ symbol: s, candles: columnsToCandles(spec.candles.find((c) => c.symbol === s)!) }));
  const gw = gateWindow(spec, symbols);
  if (gw?.capped.length) {
    const line =
      `gate window ${gw.capped.map((s) => `${s} ${gw.rows[spec.symbols.indexOf(s)]}`).join(', ')} candles, shorter than the ${gw.wanted} of ` +
      `auto_training.gate_days (${spec.gateDays ?? DEFAULT_GATE_DAYS}): too little history, capped at ${Math.round(MAX_GATE_SHARE * 100)} % of the usable rows (a wider bound, a harder promotion)`;
    notes.push(line);
    log('warn', line);
  }
  // Threads granted above one: helper threads start now and build their data while this one does
  // (src/training/pipeline-units.ts). The models and the verdict's earlier folds are the units.
  const threads = Math.max(1, Math.min(MAX_JOB_THREADS, spec.threads ?? 1));
  let units: Unit[] = [];
  let foldCount = 0;
  const within: number[] = [];
  const foldShare = (): number => verdictWeight / (foldCount + 1);
  const unitWeight = (u: Unit): number => (u.kind === 'stage' ? WEIGHTS[u.model] : foldShare());
  const onUnitProgress = (i: number, f: number, epoch: number, epochs: number, loss: number | null, valMetric: number | null): void => {
    const u = units[i];
    if (!u) return;
    within[i] = f;
    const done = units.reduce((s, x, j) => s + unitWeight(x) * (within[j] ?? 0), 0);
    const fraction = Math.min(1, Math.max(0, (WEIGHTS.features + done) / total));
    const elapsed = (performance.now() - started) / 1000;
    const stage = u.kind === 'stage';
    hooks.onProgress?.({
      phase: stage ? u.model : 'verdict',
      epoch: stage ? epoch : u.index + 1,
      epochs: stage ? epochs : foldCount + 1,
      loss: stage ? loss : null,
      valMetric: stage ? valMetric : null,
      fraction,
      etaS: fraction > 0.02 ? (elapsed / fraction) * (1 - fraction) : null,
    });
  };
  const onUnitLog = (i: number, m: string): void => {
    const u = units[i];
    if (u?.kind === 'stage') log('info', `${u.model}: ${m}`);
  };
  const helperResults: (PortableResult | undefined)[] = [];
  const failures: string[] = [];
  const helpers = startHelpers(spec, threads - 1, { onProgress: onUnitProgress, onLog: onUnitLog, onWarn: (m) => log('warn', m) }, helperResults, failures);
  let ctx!: JobContext;
  let results!: UnitResult[];
  try {
    const data = jobTrainingData(spec, symbols, gw?.rows);
    for (const p of data.parts) {
      const c = p.clean;
      const line = `${p.symbol}: ${p.nRows} feature rows, cleaning inf->NaN ${c.infToNaN}, ffill ${c.forwardFilled}, bfill ${c.backwardFilled}, mean ${c.meanFilled}, zero ${c.zeroFilled}`;
      notes.push(line);
      log('info', line);
    }
    doneWeight += WEIGHTS.features;
    progress('features', 0, 0);
    checkAbort();
    ctx = jobContext(spec, symbols, data);
    foldCount = verdictWeight > 0 ? ctx.plans.length : 0;
    units = jobUnits(models, foldCount, 1 + helpers.length);
    const t = performance.now();
    results = await runUnits(ctx, units, helpers, { signal, onProgress: onUnitProgress, onLog: onUnitLog, onWarn: (m) => log('warn', m) }, helperResults, failures);
    if (helpers.length) log('info', `models and verdict folds trained on ${1 + helpers.length} threads in ${((performance.now() - t) / 1000).toFixed(1)}s`);
    // Done cleanly: the helpers wait for this worker's next job (the pool may keep it warm).
    await Promise.all(helpers.map((h) => h.stop(true)));
  } finally {
    // Abandoned (an error, a cancel): the helper threads are terminated.
    await Promise.all(helpers.map((h) => h.stop()));
  }
  checkAbort();
  const { data } = ctx;
  const val = labelsFor(data, 'validation');
  const test = labelsFor(data, 'test');
  const stageOf = new Map<ModelKind, TrainedStage>();
  const foldResults: Extract<UnitResult, { kind: 'fold' }>[] = [];
  units.forEach((u, i) => {
    const r = results[i];
    if (r.kind === 'stage') stageOf.set(r.stage.kind, r.stage);
    else if (u.kind === 'fold') foldResults[u.index] = r;
  });
  const stages: TrainedStage[] = [];
  for (const kind of models) {
    const stage = stageOf.get(kind)!;
    if (stage.valProbs.length !== val.n * 3 || stage.testProbs.length !== test.n * 3) {
      throw new Error(`${kind} stage returned ${stage.valProbs.length / 3}/${stage.testProbs.length / 3} predictions for ${val.n}/${test.n} samples`);
    }
    stages.push(stage);
    notes.push(...stage.notes.map((n) => `${kind}: ${n}`));
    stage.notes.forEach((n) => log('info', `${kind}: ${n}`));
  }
  doneWeight += models.reduce((s, k) => s + WEIGHTS[k], 0) + foldShare() * foldCount;

  progress('evaluate', 0, WEIGHTS.evaluate);
  const costs = costsOf(spec);
  const perf: ModelMetadata['performance'] = {};
  for (const s of stages) {
    perf[s.kind] = {
      validation: judged(data, 'validation', val.y, s.valProbs, argmax3(s.valProbs, val.n), callsFromProbs(s.valProbs, val.n), costs),
      test: judged(data, 'test', test.y, s.testProbs, argmax3(s.testProbs, test.n), callsFromProbs(s.testProbs, test.n), costs),
    };
  }
  if (stages.length > 1) {
    // The same default weights the live predictor will derive from this metadata.
    const weights: EnsembleWeights = weightsFromMetadata({ performance: perf });
    const ens = (which: 'valProbs' | 'testProbs', slice: SliceName, rows: { y: Uint8Array; n: number }) => {
      const e = ensembleCalls(Object.fromEntries(stages.map((s) => [s.kind, s[which]])), rows.n, weights);
      return judged(data, slice, rows.y, e.probs, e.classes, e.calls, costs);
    };
    perf.ensemble = { validation: ens('valProbs', 'validation', val), test: ens('testProbs', 'test', test) };
  }
  const baselines = baselineMetrics(data, spec.horizon, spec.labelThreshold, costs);
  for (const [name, b] of Object.entries(baselines)) {
    notes.push(`baseline ${name}: test accuracy ${(b.test.accuracy * 100).toFixed(1)}%, paper PnL after costs ${b.test.pnl_pct!.toFixed(2)}%`);
  }
  checkAbort();

  foldResults.forEach((f, i) => log('debug', `verdict fold ${i + 1}/${foldCount + 1}: ${f.rows}`));
  const edge = await walkForwardEdge(
    spec,
    symbols,
    { data, stages },
    { signal, log: (m) => log('debug', m) },
    { judgements: foldResults.map((f) => f.judgement), durationS: foldResults.reduce((s, f) => s + f.seconds, 0) },
  );
  checkAbort();
  doneWeight += foldShare();
  if (edge) {
    notes.push(`verdict: ${edge.recipe.note}, ${edge.duration_s.toFixed(1)}s`);
    for (const [sym, e] of Object.entries(edge.symbols)) {
      const line = `${sym}: ${e.verdict === 'edge' ? 'edge' : 'no edge'} - ${e.reason}`;
      notes.push(line);
      log('info', line);
    }
  }

  progress('save', 0.5, WEIGHTS.evaluate);
  const createdAt = now();
  const ts = fileTimestamp(createdAt);
  const key = artifactKey(spec.symbols, spec.trainingMode);
  const featureMeta = buildFeatureMetadata(data.preprocessor, spec.window, data.names);
  const files: ArtifactFileInput[] = [
    { type: 'preprocessor', file: artifactFileName('preprocessor', key, ts, 'json'), data: JSON.stringify(data.preprocessor.toJSON()) },
    { type: 'feature_metadata', file: artifactFileName('feature_metadata', key, ts, 'json'), data: JSON.stringify(featureMeta, null, 2) },
    ...stages.flatMap((s) => s.files(key, ts)),
  ];
  const spans = data.parts.map((p) => (p.lastTs - p.firstTs) / 86_400_000);
  const { initTf } = await import('../models/tf-backend.js');
  const backend = models.some((m) => m !== 'gbdt') ? (await initTf()).backend : 'none';
  // 'gru' is the recurrent model kind (GRU or LSTM cell); it records which kernel trained it.
  const native = models.includes('gru') ? await import('../native/rnn.js') : undefined;
  const rnnKernel = native ? (native.useNativeRnn() ? native.nativeRnnStatus().kernel : 'tfjs') : undefined;
  const durationS = (performance.now() - started) / 1000;
  const metadata: Omit<ModelMetadata, 'files'> = {
    version: spec.version,
    trained_symbols: [...spec.symbols],
    training_days: round2(Math.max(...spans)),
    training_end_timestamp: Math.max(...data.parts.map((p) => p.lastTs)),
    min_history_days_per_symbol: round2(Math.min(...spans)),
    training_mode: spec.trainingMode,
    symbol_encoding_type: spec.symbolEncoding,
    symbol_encoding_map: data.encodingMap,
    timeframe: spec.timeframe,
    window: spec.window,
    horizon: spec.horizon,
    label_threshold: spec.labelThreshold,
    performance: perf,
    feature_schema_hash: featureMeta.schemaHash,
    backend,
    ...(rnnKernel ? { rnn_kernel: rnnKernel } : {}),
    created_at: new Date(createdAt).toISOString(),
    training_duration_s: round2(durationS),
    profile: spec.profile.name,
    ...(spec.dataSource ? { data_source: spec.dataSource } : {}),
    ...(edge ? { edge } : {}),
  };
  // A candle that slipped past validation (1e308) shows up here as NaN/Infinity: fail, never publish.
  assertFiniteMetrics(spec.symbols, perf);
  const dir = await writeArtifact({ modelsDir: spec.modelsDir, version: spec.version, key, files, metadata, signal });
  hooks.onProgress?.({ phase: 'save', epoch: 0, epochs: 0, loss: null, valMetric: null, fraction: 1, etaS: 0 });
  log('info', `artifact written to ${dir}`);
  return {
    kind: 'train',
    artifactDir: dir,
    metadata: { ...metadata, files: files.map((f) => ({ type: f.type, file: f.file })) },
    durationS: (now() - t0) / 1000,
    notes,
    baselines,
  };
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

/** Secondary figures of the argmax classes plus the judgement of the calls, per symbol. */
function judged(data: TrainingData, slice: SliceName, labels: Uint8Array, probs: Float32Array, classes: Uint8Array, calls: Calls, costs: Costs) {
  return withReplays(classMetrics(classes, labels, probs), replaySlice(data, slice, calls, costs));
}

/**
 * A gate window never takes more than this share of a symbol's usable labelled rows: with less
 * history than gate_days needs, the window shrinks so training keeps most of the rows (never a
 * negative training slice). A shorter window only widens the paired bootstrap's bound, so the gate
 * then promotes less readily, never more.
 */
export const MAX_GATE_SHARE = 1 / 3;

export interface GateWindow {
  /** Test-slice rows per symbol (spec.symbols order). */
  rows: number[];
  /** Rows gate_days asks for. */
  wanted: number;
  /** Symbols whose window was capped below `wanted` for want of history. */
  capped: string[];
}

/**
 * With a promotion gate asked, the test slice (the gate's window, out of sample for the
 * challenger) is gate_days long, or MAX_GATE_SHARE of the usable rows when the history is too
 * short for that, and never shorter than the configured fraction; without a gate the fraction decides.
 */
export function gateWindow(spec: PipelineJobSpec, symbols: { symbol?: string; candles: readonly unknown[] }[]): GateWindow | undefined {
  if (!spec.gate) return undefined;
  const wanted = Math.ceil(((spec.gateDays ?? DEFAULT_GATE_DAYS) * 86_400_000) / TIMEFRAME_MS[spec.timeframe]);
  const capped: string[] = [];
  const rows = symbols.map((s, j) => {
    const labelled = s.candles.length - WARMUP_BARS - spec.horizon;
    const usable = labelled - (spec.window - 1) - 2 * (spec.horizon + spec.window);
    const byFraction = Math.floor(usable * spec.testFraction);
    const cap = Math.floor(usable * MAX_GATE_SHARE);
    if (wanted > cap && wanted > byFraction) capped.push(s.symbol ?? spec.symbols[j]);
    return Math.max(byFraction, Math.min(wanted, cap));
  });
  return { rows, wanted, capped };
}


/**
 * The walk-forward edge verdict, run inside the training worker after the models are trained.
 * K folds tile the end of the history: the last fold is the trained model on its own test slice;
 * each earlier fold is a fold model trained on everything before it (expanding window, its own
 * validation split and preprocessor, the same purge gaps) with a lighter recipe, then judged on
 * the next test-slice-long stretch of candles. Every fold is replayed through the broker's rule
 * beside the baselines (src/evaluation/judge.ts) and summarised with bootstrap bounds and the
 * verdict (src/evaluation/edge.ts).
 */
import type { Candle } from '../market/types.js';
import { TIMEFRAME_MS } from '../market/types.js';
import type { ModelKind } from '../models/metadata.js';
import { WARMUP_BARS } from '../features/index.js';
import { majorityClass, taScores } from '../models/baselines.js';
import { weightsFromMetadata } from '../models/ensemble.js';
import { callsFromProbs, ensembleCalls, judgeRows, type Calls, type Costs } from '../evaluation/judge.js';
import { applyTemperature, fitTemperature } from '../evaluation/calibration.js';
import { blockLengthFor } from '../evaluation/bootstrap.js';
import { buildEdgeReport, type EdgeReport, type FoldJudgement, type Subject } from '../evaluation/edge.js';
import { buildTrainingData, labelsFor, type DataOptions, type TrainingData } from './pipeline-data.js';
import { argmax3 } from './pipeline-metrics.js';
import { stageFor, type TrainedStage } from './pipeline-stage.js';
import type { PipelineJobSpec } from './protocol.js';

export const DEFAULT_WALK_FORWARD_FOLDS = 4;
export const DEFAULT_EDGE_CONFIDENCE = 0.9;
export const DEFAULT_EDGE_MARGIN_PCT = 0.5;
export const DEFAULT_GATE_DAYS = 30;
/** A fold model needs at least this many training rows; older folds that would have fewer are dropped. */
export const MIN_FOLD_TRAIN_ROWS = 500;

export const costsOf = (spec: Pick<PipelineJobSpec, 'feeRate' | 'slippageBps' | 'entryThreshold'>): Costs => ({
  feeRate: spec.feeRate,
  slippageBps: spec.slippageBps ?? 5,
  entryThreshold: spec.entryThreshold ?? 0.55,
});

export const candlesPer30d = (spec: Pick<PipelineJobSpec, 'timeframe'>): number => (30 * 86_400_000) / TIMEFRAME_MS[spec.timeframe];

/**
 * The verdict's fold recipe: a sixth of the epochs, a third of the patience and of the trees, a
 * sixth of the PPO steps (with floors, never above the profile itself), and the quick network sizes
 * (GRU(32) on at most 2000 windows, depth-5 trees). Measured (bench/verdict.bench.ts): the three
 * fold models cost under one training of the quick profile and about half of a full one.
 */
export function lightProfile(p: PipelineJobSpec['profile']): PipelineJobSpec['profile'] {
  const cut = (v: number, by: number, floor: number): number => Math.min(v, Math.max(floor, Math.round(v / by)));
  return {
    ...p,
    name: 'quick',
    epochs: cut(p.epochs, 6, 2),
    patience: cut(p.patience, 3, 1),
    trees: cut(p.trees, 3, 20),
    ppo_steps: cut(p.ppo_steps, 6, 512),
  };
}

export interface FoldPlan {
  /** Per symbol (data.parts order): the fold's test rows [start, end) in feature-row indices. */
  test: { start: number; end: number }[];
}

/**
 * The earlier folds (oldest first) before the trained model's test slice, each as long as that
 * slice. Other symbols of a multi-symbol job cut at the same timestamps as the first one, so no
 * fold model learns from any symbol's future. Folds whose model would train on fewer than
 * MIN_FOLD_TRAIN_ROWS rows are dropped.
 */
export function planFolds(final: TrainingData, folds: number, o: { window: number; horizon: number; valFraction: number }): FoldPlan[] {
  const p0 = final.parts[0];
  const L = p0.split.test.end - p0.split.test.start;
  const out: FoldPlan[] = [];
  for (let j = 0; j < folds - 1; j++) {
    const end0 = p0.split.test.start - (folds - 2 - j) * L;
    const start0 = end0 - L;
    if (start0 < 0) continue;
    const test = final.parts.map((p, k) => {
      if (k === 0) return { start: start0, end: end0 };
      return { start: rowAtOrAfter(p.timestamps, p0.timestamps[start0]), end: rowAtOrAfter(p.timestamps, p0.timestamps[end0]) };
    });
    const ok = test.every((t) => {
      const gap = o.horizon + o.window;
      const usable = t.end - (o.window - 1) - 2 * gap;
      const nVal = Math.floor(usable * o.valFraction);
      return t.end - t.start >= 1 && usable - nVal - (t.end - t.start) >= MIN_FOLD_TRAIN_ROWS;
    });
    if (ok) out.push({ test });
  }
  return out;
}

function rowAtOrAfter(ts: Float64Array, t: number): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ts[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The data a fold model sees: each symbol's candles up to its fold's end (+ horizon for the labels). */
export function foldData(symbols: { symbol: string; candles: Candle[] }[], plan: FoldPlan, spec: PipelineJobSpec, extra: Pick<DataOptions, 'extraFeatures'> = {}): TrainingData {
  return buildTrainingData(
    symbols.map((s, k) => ({ symbol: s.symbol, candles: s.candles.slice(0, plan.test[k].end + WARMUP_BARS + spec.horizon) })),
    { ...jobDataOptions(spec, plan.test.map((t) => t.end - t.start)), ...extra },
  );
}

/** The data options a job's spec implies (its own data and its folds' differ only in testRows). */
export function jobDataOptions(spec: PipelineJobSpec, testRows: number[] | undefined): DataOptions {
  return {
    mode: spec.trainingMode,
    encoding: spec.symbolEncoding,
    window: spec.window,
    horizon: spec.horizon,
    threshold: spec.labelThreshold,
    valFraction: spec.valFraction,
    testFraction: spec.testFraction,
    timeframeMs: TIMEFRAME_MS[spec.timeframe],
    testRows,
  };
}

/** Validation accuracy per kind: the ensemble weights the live predictor derives from metadata. */
function foldWeights(data: TrainingData, stages: TrainedStage[]) {
  const val = labelsFor(data, 'validation');
  const performance: Parameters<typeof weightsFromMetadata>[0]['performance'] = {};
  for (const s of stages) {
    const calls = argmax3(s.valProbs, val.n);
    let hit = 0;
    for (let i = 0; i < val.n; i++) if (calls[i] === val.y[i]) hit++;
    performance[s.kind] = { validation: { accuracy: val.n ? hit / val.n : 0, directional_accuracy: 0, samples: val.n }, test: { accuracy: 0, directional_accuracy: 0, samples: 0 } };
  }
  return weightsFromMetadata({ performance });
}

const subjectOf = (stages: TrainedStage[]): Subject => (stages.length > 1 ? 'ensemble' : stages[0].kind);

function secondary(probs: ArrayLike<number>, classes: ArrayLike<number>, labels: ArrayLike<number>) {
  let hits = 0;
  let ll = 0;
  for (let i = 0; i < labels.length; i++) {
    if (classes[i] === labels[i]) hits++;
    ll -= Math.log(Math.max(1e-7, probs[i * 3 + labels[i]]));
  }
  return { hits, logLoss: ll, n: labels.length };
}

/**
 * Judge trained stages on the test slice of `data`, per symbol: each model alone, the ensemble (when
 * there are several), and the baselines, on the same rows.
 */
export function judgeTestSlice(
  data: TrainingData,
  stages0: TrainedStage[],
  costs: Costs,
  recipe: 'fold' | 'final',
  opts: { calibrate?: boolean } = {},
): Record<string, FoldJudgement> {
  const stages = opts.calibrate ? calibrated(data, stages0) : stages0;
  const weights = foldWeights(data, stages);
  const majority = majorityClass(labelsFor(data, 'train').y);
  const out: Record<string, FoldJudgement> = {};
  let k = 0;
  for (const p of data.parts) {
    const { start, end } = p.split.test;
    const n = end - start;
    const labels = p.labels.subarray(start, end);
    const probs: Partial<Record<ModelKind, Float32Array>> = {};
    for (const s of stages) probs[s.kind] = s.testProbs.subarray(k * 3, (k + n) * 3);
    k += n;
    const strategies: Record<string, Calls> = {};
    const sec: NonNullable<FoldJudgement['secondary']> = {};
    for (const s of stages) {
      strategies[s.kind] = callsFromProbs(probs[s.kind]!, n);
      sec[s.kind] = secondary(probs[s.kind]!, argmax3(probs[s.kind]!, n), labels);
    }
    if (stages.length > 1) {
      const e = ensembleCalls(probs, n, weights);
      strategies.ensemble = e.calls;
      sec.ensemble = secondary(e.probs, e.classes, labels);
    }
    const replays = judgeRows({ closes: p.closes, from: start, to: end, strategies, taScores: taScores(p.closes), majority, costs });
    out[p.symbol] = { span: { from: p.timestamps[start], to: p.timestamps[end - 1], recipe }, replays, secondary: sec };
  }
  return out;
}

/** Each stage's probabilities temperature-scaled with T fitted on its validation rows. */
function calibrated(data: TrainingData, stages: TrainedStage[]): TrainedStage[] {
  const val = labelsFor(data, 'validation');
  const nTest = labelsFor(data, 'test').n;
  return stages.map((s) => {
    const t = fitTemperature(s.valProbs, val.y);
    return { ...s, valProbs: applyTemperature(s.valProbs, val.n, t), testProbs: applyTemperature(s.testProbs, nTest, t) };
  });
}

export interface VerdictHooks {
  signal?: AbortSignal;
  /** Fraction 0..1 of the verdict's work done, and the 1-based fold being worked on. */
  report?: (fraction: number, fold: number, folds: number) => void;
  log?: (message: string) => void;
}

/** Train the models of one fold (same kinds, `profile`) and return them with the fold's data. */
export async function trainFoldStages(data: TrainingData, spec: PipelineJobSpec, profile: PipelineJobSpec['profile'], hooks: VerdictHooks, onFraction: (f: number) => void): Promise<TrainedStage[]> {
  const foldSpec: PipelineJobSpec = { ...spec, profile, gate: undefined };
  const stages: TrainedStage[] = [];
  for (const [i, kind] of spec.models.entries()) {
    const run = await stageFor(kind);
    stages.push(
      await run(data, foldSpec, {
        signal: hooks.signal,
        report: (f) => onFraction((i + f) / spec.models.length),
        log: () => undefined,
        noFiles: true,
      }),
    );
    if (hooks.signal?.aborted) throw new Error('cancelled');
  }
  return stages;
}

/** One earlier fold: its fold model trained on the light recipe (or the profile) and judged on its test slice. */
export async function judgeFold(
  spec: PipelineJobSpec,
  symbols: { symbol: string; candles: Candle[] }[],
  plan: FoldPlan,
  hooks: VerdictHooks,
  onFraction: (f: number) => void,
): Promise<{ judgement: Record<string, FoldJudgement>; rows: string }> {
  const data = foldData(symbols, plan, spec);
  const stages = await trainFoldStages(data, spec, foldProfile(spec), hooks, onFraction);
  return { judgement: judgeTestSlice(data, stages, costsOf(spec), 'fold'), rows: data.parts.map((p) => `${p.symbol} rows ${p.split.test.start}-${p.split.test.end}`).join(', ') };
}

const foldProfile = (spec: PipelineJobSpec): PipelineJobSpec['profile'] => (spec.foldRecipe === 'profile' ? spec.profile : lightProfile(spec.profile));

/** The folds a job's verdict trains (none when spec.walkForwardFolds is 0). */
export function verdictPlans(spec: PipelineJobSpec, final: TrainingData): FoldPlan[] {
  const k = spec.walkForwardFolds ?? DEFAULT_WALK_FORWARD_FOLDS;
  return k <= 0 ? [] : planFolds(final, k, spec);
}

/**
 * The verdict of a trained job: fold models for the earlier folds, the trained stages on their
 * own test slice as the last fold, summarised per symbol. Null when spec.walkForwardFolds is 0.
 * The earlier folds' judgements may come from elsewhere (a helper thread judged them while the
 * job trained its own models: src/training/pipeline-units.ts); without them they are judged here.
 */
export async function walkForwardEdge(
  spec: PipelineJobSpec,
  symbols: { symbol: string; candles: Candle[] }[],
  final: { data: TrainingData; stages: TrainedStage[] },
  hooks: VerdictHooks = {},
  judged?: { judgements: Record<string, FoldJudgement>[]; durationS: number },
): Promise<EdgeReport | null> {
  const k = spec.walkForwardFolds ?? DEFAULT_WALK_FORWARD_FOLDS;
  if (k <= 0 || final.stages.length === 0) return null;
  const t0 = performance.now();
  const costs = costsOf(spec);
  const plans = verdictPlans(spec, final.data);
  const perFold: Record<string, FoldJudgement>[] = [];
  if (judged) perFold.push(...judged.judgements);
  else {
    for (const [i, plan] of plans.entries()) {
      const f = await judgeFold(spec, symbols, plan, hooks, (x) => hooks.report?.((i + x) / (plans.length + 1), i + 1, plans.length + 1));
      perFold.push(f.judgement);
      hooks.log?.(`verdict fold ${i + 1}/${plans.length + 1}: ${f.rows}`);
    }
  }
  hooks.report?.(plans.length / (plans.length + 1), plans.length + 1, plans.length + 1);
  perFold.push(judgeTestSlice(final.data, final.stages, costs, 'final'));
  const light = lightProfile(spec.profile);
  const folds = Object.fromEntries(symbols.map(({ symbol }) => [symbol, perFold.map((f) => f[symbol]).filter((f): f is FoldJudgement => !!f)]));
  return buildEdgeReport({
    folds,
    subject: subjectOf(final.stages),
    costs,
    candlesPer30d: candlesPer30d(spec),
    blockLength: blockLengthFor(TIMEFRAME_MS[spec.timeframe]),
    confidence: spec.edgeConfidence ?? DEFAULT_EDGE_CONFIDENCE,
    marginPct: spec.edgeMarginPct ?? DEFAULT_EDGE_MARGIN_PCT,
    recipe: {
      folds: plans.length + 1,
      light:
        spec.foldRecipe === 'profile'
          ? { profile: spec.profile.name, epochs: spec.profile.epochs, patience: spec.profile.patience, trees: spec.profile.trees, ppo_steps: spec.profile.ppo_steps }
          : { profile: 'quick sizes', epochs: light.epochs, patience: light.patience, trees: light.trees, ppo_steps: light.ppo_steps },
      final: spec.profile.name,
      note:
        `${plans.length} expanding-window fold model(s) (${spec.foldRecipe === 'profile' ? `the ${spec.profile.name} profile` : 'light recipe'}) + the trained ${spec.profile.name} model on its own test slice` +
        (plans.length + 1 < k ? `; ${k - plans.length - 1} older fold(s) dropped: too little history before them` : ''),
    },
    durationS: (judged?.durationS ?? 0) + (performance.now() - t0) / 1000,
  });
}

/**
 * Live inference for one loaded artifact: candles -> the same computeFeatures/cleaning as training
 * -> saved scaler -> last row (trees), last window (RNN), last PPO window + paper portfolio ->
 * ensemble signal. The saved feature schema is checked first: a mismatch throws
 * FeatureSchemaMismatchError carrying the diff, and the model is not used.
 */
import type { Candle } from '../market/types.js';
import { TIMEFRAME_MS, type Timeframe } from '../market/types.js';
import type { Direction } from '../engine-api.js';
import type { ModelKind } from './metadata.js';
import { WARMUP_BARS, FEATURE_NAMES, FEATURE_VERSION, diffFeatureSchema, FeatureSchemaMismatchError } from '../features/index.js';
import { predictRnn } from './rnn/predict.js';
import { buildObservation, type PortfolioState } from './ppo/env.js';
import { combineSignals, weightsFromMetadata, type ClassProbs, type EnsembleOptions, type ModelOutputs } from './ensemble.js';
import type { LoadedArtifact } from './artifact-load.js';
import { latestFeatures, scaledInputs, symbolCode, PPO_WINDOW, FLAT_PORTFOLIO, type LatestFeatures } from './inputs.js';

export interface Prediction {
  symbol: string;
  /** Timestamp of the candle the prediction is made at. */
  at: number;
  direction: Direction;
  confidence: number;
  score: number;
  contributions: Partial<Record<ModelKind, number>>;
  probs: ClassProbs;
  /** Each model's own output, for the console's detail view. */
  models: ModelOutputs;
  modelVersion: string;
  /**
   * Set when the artifact's networks were still loading (progressive load): the models that made
   * this prediction and the ones it waits for, e.g. {served: ['gbdt'], loading: ['gru', 'ppo']}.
   */
  partial?: { served: ModelKind[]; loading: ModelKind[] };
}

/** "trees only, rnn loading" / "trees only, rnn + ppo loading": what a partial prediction says. */
export function partialNote(p: NonNullable<Prediction['partial']>): string {
  const name = (k: ModelKind) => (k === 'gbdt' ? 'trees' : k === 'gru' ? 'rnn' : k);
  return `${p.served.map(name).join(' + ')} only, ${p.loading.map(name).join(' + ')} loading`;
}

export class PredictorInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PredictorInputError';
  }
}

/** Extra candles beyond the minimum so SMA-seeded EMAs settle as in training (EMA-50 seed weight after 172 bars: ~0.1%). */
const EXTRA_HISTORY = 100;

export interface PredictRequest {
  symbol: string;
  candles: readonly Candle[];
  portfolio?: PortfolioState;
}

/**
 * Feature rows already built for some candles, shared by the predictors scoring the same candles
 * (the gate's and the scorecard's champion, challenger and first model; overlapping windows).
 * Keyed by the symbol and the exact candles (first and last timestamp, count) and the window: the
 * caller keeps one memo per candle series, so equal keys mean equal candles.
 */
export type FeatureMemo = Map<string, LatestFeatures>;

export class SymbolPredictor {
  private readonly options: EnsembleOptions;

  /** Throws FeatureSchemaMismatchError when the artifact's features are not what this build computes. */
  constructor(
    readonly artifact: LoadedArtifact,
    opts: EnsembleOptions = {},
  ) {
    const m = artifact.metadata;
    const saved = artifact.featureMetadata;
    const diff = diffFeatureSchema(saved, { names: [...FEATURE_NAMES], window: m.window, featureVersion: FEATURE_VERSION });
    if (!diff.ok) throw new FeatureSchemaMismatchError(diff, `${artifact.dir}`);
    if (saved.schemaHash !== m.feature_schema_hash) {
      throw new PredictorInputError(`${artifact.dir}: feature_metadata hash ${saved.schemaHash.slice(0, 12)} != metadata ${m.feature_schema_hash.slice(0, 12)}`);
    }
    if (!artifact.gbdt && !artifact.rnn && !artifact.ppo && artifact.pending.length === 0) throw new PredictorInputError(`${artifact.dir}: artifact holds no model`);
    this.options = { weights: opts.weights ?? weightsFromMetadata(m), neutralBand: opts.neutralBand };
  }

  get version(): string {
    return this.artifact.metadata.version;
  }

  /** The PPO agent's window (its own metadata once loaded). */
  private get ppoWindow(): number {
    return this.artifact.ppo?.metadata.window ?? Math.min(PPO_WINDOW, this.artifact.metadata.window);
  }

  get minCandles(): number {
    return WARMUP_BARS + Math.max(this.artifact.metadata.window, this.ppoWindow);
  }

  /** Whether a prediction now uses every model of the artifact (false while its networks load). */
  get complete(): boolean {
    return this.artifact.pending.length === 0;
  }

  predict(symbol: string, candles: readonly Candle[], portfolio?: PortfolioState): Prediction {
    return this.predictBatch([{ symbol, candles, portfolio }])[0];
  }

  /** Many symbols served by this artifact in one round: one network call per model for all of them. */
  predictBatch(reqs: PredictRequest[], memo?: FeatureMemo): Prediction[] {
    const a = this.artifact;
    const m = a.metadata;
    if (reqs.length === 0) return [];
    const tfMs = TIMEFRAME_MS[m.timeframe as Timeframe];
    const inputs = reqs.map((r) => {
      if (r.candles.length < this.minCandles) {
        throw new PredictorInputError(`${r.symbol}: need at least ${this.minCandles} candles (warm-up ${WARMUP_BARS} + window), got ${r.candles.length}`);
      }
      const recent = r.candles.slice(-(this.minCandles + EXTRA_HISTORY));
      const code = symbolCode(r.symbol, m.symbol_encoding_map, m.training_mode, m.symbol_encoding_type);
      let f: LatestFeatures | undefined;
      const key = memo ? `${r.symbol}|${tfMs}|${m.window}|${recent.length}|${recent[0].timestamp}|${recent[recent.length - 1].timestamp}` : '';
      if (memo) f = memo.get(key);
      if (!f) {
        f = latestFeatures(recent, m.window, tfMs);
        memo?.set(key, f);
      }
      const x = scaledInputs(f, a.preprocessor, code);
      const diff = diffFeatureSchema(a.featureMetadata, { names: x.names, window: m.window, featureVersion: FEATURE_VERSION });
      if (!diff.ok) throw new FeatureSchemaMismatchError(diff, `${a.dir} (${r.symbol})`);
      return { ...x, at: recent[recent.length - 1].timestamp };
    });
    // Snapshot: the networks may land between two calls, never during one (this is synchronous).
    const loading = [...a.pending];
    if (loading.length && !a.gbdt) throw new PredictorInputError(`${a.dir}: ${loading.join(' and ')} still loading and no trees to serve meanwhile`);
    const n = inputs.length;
    const nf = inputs[0].nFeatures;
    const outputs: ModelOutputs[] = inputs.map(() => ({}));
    if (a.gbdt) {
      const rows = new Float32Array(n * nf);
      inputs.forEach((x, i) => rows.set(x.row, i * nf));
      const p = a.gbdt.predictProba(rows, n);
      for (let i = 0; i < n; i++) outputs[i].gbdt = p.subarray(i * 3, i * 3 + 3);
    }
    if (a.rnn) {
      const wins = new Float32Array(n * m.window * nf);
      inputs.forEach((x, i) => wins.set(x.win, i * m.window * nf));
      const p = predictRnn(a.tf!, a.rnn, wins, n, m.window, nf);
      for (let i = 0; i < n; i++) outputs[i].gru = p.subarray(i * 3, i * 3 + 3);
    }
    if (a.ppo) {
      const size = a.ppo.obsShape[0];
      const obs = new Float32Array(n * size);
      inputs.forEach((x, i) =>
        buildObservation(x.win, nf, m.window - 1, this.ppoWindow, reqs[i].portfolio ?? FLAT_PORTFOLIO, obs.subarray(i * size, (i + 1) * size)),
      );
      const b = a.ppo.policy(obs, n);
      for (let i = 0; i < n; i++) outputs[i].ppo = { action: b.actions[i], probs: b.probs.subarray(i * 3, i * 3 + 3) };
    }
    return inputs.map((x, i) => {
      const s = combineSignals(outputs[i], this.options);
      return {
        symbol: reqs[i].symbol,
        at: x.at,
        direction: s.direction,
        confidence: s.confidence,
        score: s.score,
        contributions: s.contributions,
        probs: s.probs,
        models: outputs[i],
        modelVersion: m.version,
        ...(loading.length ? { partial: { served: (['gru', 'gbdt', 'ppo'] as const).filter((k) => outputs[i][k] !== undefined), loading } } : {}),
      };
    });
  }
}

/** One round over several predictors (e.g. one artifact per symbol): each artifact batched once. */
export function predictRound(items: { predictor: SymbolPredictor; request: PredictRequest }[]): Prediction[] {
  const groups = new Map<SymbolPredictor, number[]>();
  items.forEach((it, i) => groups.set(it.predictor, [...(groups.get(it.predictor) ?? []), i]));
  const out: Prediction[] = new Array(items.length);
  for (const [p, idx] of groups) {
    const res = p.predictBatch(idx.map((i) => items[i].request));
    idx.forEach((i, k) => (out[i] = res[k]));
  }
  return out;
}

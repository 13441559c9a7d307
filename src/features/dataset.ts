import type { Candle } from '../market/types.js';
import { cleanMatrix, type CleanReport } from './clean.js';
import {
  computeFeatures,
  FEATURE_VERSION,
  NotEnoughCandlesError,
  WARMUP_BARS,
  type ComputeFeaturesOptions,
  type FeatureMatrix,
} from './compute.js';
import { makeLabels } from './labels.js';
import { assertFeatureSchema, buildFeatureMetadata, Preprocessor, type FeatureMetadata } from './preprocess.js';
import { timeSplit, type SplitRanges } from './split.js';

/**
 * The whole candles -> model-ready path used by training: features, cleaning, labels, a purged
 * time split, and a scaler fitted on the training rows only. Inference uses computeFeatures +
 * cleanMatrix + the saved Preprocessor, i.e. the same functions.
 */
export interface DatasetOptions extends ComputeFeaturesOptions {
  horizon: number;
  threshold: number;
  /** Sequence length; 1 for row models. */
  window: number;
  validationFraction: number;
  testFraction: number;
}

export interface Dataset {
  matrix: FeatureMatrix;
  clean: CleanReport;
  /** Cleaned, unscaled (trees do not need scaling). */
  raw: Float32Array;
  /** Cleaned and scaled with `preprocessor`. */
  scaled: Float32Array;
  /** labels[i] is the label of feature row i (length nRows - horizon). */
  labels: Uint8Array;
  split: SplitRanges;
  preprocessor: Preprocessor;
  metadata: FeatureMetadata;
}

export function buildDataset(candles: readonly Candle[], o: DatasetOptions): Dataset {
  const matrix = computeFeatures(candles, o);
  const { data: raw, report } = cleanMatrix(matrix.data, matrix.nRows, matrix.nCols);
  const labels = makeLabels(matrix.closes, o.horizon, o.threshold);
  const split = timeSplit(labels.length, o);
  // Rows before train.start are the history of the first training windows: still training data.
  const preprocessor = Preprocessor.fit(raw, matrix.nCols, matrix.names, { start: 0, end: split.train.end });
  const scaled = preprocessor.transform(raw);
  const metadata = buildFeatureMetadata(preprocessor, o.window, matrix.names);
  return { matrix, clean: report, raw, scaled, labels, split, preprocessor, metadata };
}

export interface InferenceInput {
  matrix: FeatureMatrix;
  /** Cleaned, unscaled rows (row models such as GBDT). */
  raw: Float32Array;
  /** Cleaned rows scaled with the saved scaler. */
  scaled: Float32Array;
  /** The last `meta.window` scaled rows, [1, window, nCols] row-major (sequence models). */
  lastWindow: Float32Array;
  /** The last cleaned raw row. */
  lastRow: Float32Array;
}

/**
 * Inference side of buildDataset: the same features and cleaning, the SAVED scaler, and a hard
 * stop (FeatureSchemaMismatchError with the diff) when the saved schema is not what this code
 * computes. Needs at least WARMUP_BARS + meta.window candles.
 */
export function featuresForInference(candles: readonly Candle[], meta: FeatureMetadata, opts: ComputeFeaturesOptions = {}): InferenceInput {
  const matrix = computeFeatures(candles, opts);
  assertFeatureSchema(meta, { names: matrix.names, window: meta.window, featureVersion: FEATURE_VERSION }, 'feature metadata');
  if (matrix.nRows < meta.window) {
    throw new NotEnoughCandlesError(candles.length, WARMUP_BARS + meta.window);
  }
  const { data: raw } = cleanMatrix(matrix.data, matrix.nRows, matrix.nCols);
  const pre = Preprocessor.fromJSON({ names: meta.names, mean: meta.scaler.mean, std: meta.scaler.std }, 'feature metadata scaler');
  const scaled = pre.transform(raw);
  const nc = matrix.nCols;
  return {
    matrix,
    raw,
    scaled,
    lastWindow: scaled.slice((matrix.nRows - meta.window) * nc),
    lastRow: raw.slice((matrix.nRows - 1) * nc),
  };
}

import type { Candle } from '../market/types.js';
import { cleanMatrix, type CleanReport } from './clean.js';
import { computeFeatures, type ComputeFeaturesOptions, type FeatureMatrix } from './compute.js';
import { makeLabels } from './labels.js';
import { buildFeatureMetadata, Preprocessor, type FeatureMetadata } from './preprocess.js';
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

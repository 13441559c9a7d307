/** What every model stage of the pipeline takes and gives back. */
import type { ModelKind } from '../models/metadata.js';
import type { ArtifactFileInput } from '../models/artifact.js';

export interface StageHooks {
  signal?: AbortSignal;
  /** Progress inside the stage: fraction 0..1 of the stage, epoch/round counters, metrics. */
  report(fraction: number, epoch: number, epochs: number, loss: number | null, valMetric: number | null, etaS: number | null): void;
  log(message: string): void;
}

export interface TrainedStage {
  kind: ModelKind;
  /** n x 3 class probabilities [down, flat, up] on the validation / test samples (rowsFor order). */
  valProbs: Float32Array;
  testProbs: Float32Array;
  notes: string[];
  /** Serialized model files for the artifact folder. */
  files(key: string, ts: string): ArtifactFileInput[];
}

/** What every model stage of the pipeline takes and gives back, and how a stage is loaded. */
import type { ModelKind } from '../models/metadata.js';
import type { ArtifactFileInput } from '../models/artifact.js';
import type { TrainingData } from './pipeline-data.js';
import type { PipelineJobSpec } from './protocol.js';

export interface StageHooks {
  signal?: AbortSignal;
  /** Progress inside the stage: fraction 0..1 of the stage, epoch/round counters, metrics. */
  report(fraction: number, epoch: number, epochs: number, loss: number | null, valMetric: number | null, etaS: number | null): void;
  log(message: string): void;
  /** A walk-forward fold model is judged and dropped: no artifact files to serialize. */
  noFiles?: boolean;
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

export type StageFn = (data: TrainingData, spec: PipelineJobSpec, hooks: StageHooks) => Promise<TrainedStage>;

/** The training function of a model kind (tfjs is loaded only for the kinds that need it). */
export async function stageFor(kind: ModelKind): Promise<StageFn> {
  switch (kind) {
    case 'gru': {
      const [{ initTf }, { trainRnnStage }] = await Promise.all([import('../models/tf-backend.js'), import('./pipeline-rnn.js')]);
      const { tf } = await initTf();
      return (d, s, h) => trainRnnStage(tf, d, s, h);
    }
    case 'gbdt': {
      const { trainGbdtStage } = await import('./pipeline-gbdt.js');
      return trainGbdtStage;
    }
    case 'ppo': {
      const [{ initTf }, { trainPpoStage }] = await Promise.all([import('../models/tf-backend.js'), import('./pipeline-ppo.js')]);
      const { tf } = await initTf();
      return (d, s, h) => trainPpoStage(tf, d, s, h);
    }
  }
}

/** The GRU/LSTM stage of the pipeline: windows -> trainRnn -> probabilities on validation/test -> files. */
import type { Tf } from '../models/tf-backend.js';
import { trainRnn, predictRnn } from '../models/rnn/index.js';
import { serializeLayersModel } from '../models/tf-io.js';
import { artifactFileName } from '../models/artifact.js';
import { windowsFor, type TrainingData } from './pipeline-data.js';
import type { PipelineJobSpec } from './protocol.js';
import type { StageHooks, TrainedStage } from './pipeline-stage.js';

/**
 * Quick profile: fewer units and at most this many training windows (strided, so the whole
 * training period is still covered) to stay inside the quick-train time budget on 2 cores.
 */
export const QUICK_RNN = { units: 32, maxTrainWindows: 2000 };
/**
 * Full profile: GRU(64) on at most 8000 windows, so 730 days with early stopping fits
 * resources.training_timeout_s (300 s default) even on the tfjs-ops fallback (~5 s/epoch here);
 * with the native kernels an epoch takes well under a second. The caps do not depend on which kernel is present,
 * so the same config trains the same model on every machine.
 */
export const FULL_RNN = { units: 64, maxTrainWindows: 8000 };

export function strideSubsample<T extends { x: Float32Array; y: Uint8Array; n: number; window: number; nFeatures: number }>(d: T, max: number): T {
  if (d.n <= max) return d;
  const per = d.window * d.nFeatures;
  const step = d.n / max;
  const x = new Float32Array(max * per);
  const y = new Uint8Array(max);
  for (let k = 0; k < max; k++) {
    const i = Math.floor(k * step);
    x.set(d.x.subarray(i * per, (i + 1) * per), k * per);
    y[k] = d.y[i];
  }
  return { ...d, x, y, n: max };
}

export async function trainRnnStage(tf: Tf, data: TrainingData, spec: PipelineJobSpec, hooks: StageHooks): Promise<TrainedStage> {
  const settings = spec.profile.name === 'quick' ? QUICK_RNN : FULL_RNN;
  const train = windowsFor(data, 'train', spec.window, settings.maxTrainWindows);
  const val = windowsFor(data, 'validation', spec.window);
  const test = windowsFor(data, 'test', spec.window);
  const res = await trainRnn(
    tf,
    train,
    val,
    {
      cell: spec.rnnCell,
      units: settings.units,
      epochs: spec.profile.epochs,
      patience: spec.profile.patience,
      batchSize: spec.profile.batch_size,
      seed: spec.seed ?? 1,
      balanceClasses: spec.classWeights !== 'none',
    },
    {
      signal: hooks.signal,
      onEpoch: (e) => hooks.report(e.epoch / e.epochs, e.epoch, e.epochs, e.loss, e.valAccuracy, e.etaS),
    },
  );
  if (res.cancelled) {
    res.model.dispose();
    throw new Error('cancelled');
  }
  const valProbs = predictRnn(tf, res.model, val.x, val.n, val.window, val.nFeatures);
  const testProbs = predictRnn(tf, res.model, test.x, test.n, test.window, test.nFeatures);
  const ser = hooks.noFiles ? null : await serializeLayersModel(res.model);
  res.model.dispose();
  const kind = spec.rnnCell === 'lstm' ? 'lstm' : 'gru';
  return {
    kind: 'gru',
    valProbs,
    testProbs,
    notes: [
      `${kind}(${settings.units}) on ${train.n} windows [${spec.window} x ${train.nFeatures}]: best epoch ${res.bestEpoch}/${res.history.length}` +
        `${res.stoppedEarly ? ' (early stop)' : ''}, ${Math.round(res.windowsPerSecond)} windows/s`,
    ],
    files: (key, ts) =>
      ser
        ? [
            { type: 'gru', file: artifactFileName('gru', key, ts, 'json'), data: ser.modelJson },
            { type: 'gru', file: artifactFileName('gru', key, ts, 'weights.bin'), data: ser.weights },
          ]
        : [],
  };
}

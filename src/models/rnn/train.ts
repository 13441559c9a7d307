/** Training loop for the GRU/LSTM sequence classifier: class-weighted, early-stopped, cancellable. */
import type * as tfNs from '@tensorflow/tfjs';
import type { Tf } from '../tf-backend.js';
import { buildRnnModel, RNN_CLASSES, type RnnCell } from './model.js';
import { balancedClassWeights, RnnInputError, validateSequenceData, type SequenceData } from './data.js';
import { mulberry32, permutation } from './random.js';
import { nativePredict, NativeRnnTrainer } from './native.js';

export interface RnnParams {
  cell: RnnCell;
  /** @default 64 */
  units?: number;
  /** @default 1 */
  layers?: number;
  /** @default 0 */
  dropout?: number;
  epochs: number;
  /** Epochs without a val-loss improvement before stopping. @default 5 */
  patience?: number;
  /** @default 256 */
  batchSize?: number;
  /** @default 1e-3 */
  learningRate?: number;
  seed?: number;
  /** Weight classes inversely to their frequency. @default true */
  balanceClasses?: boolean;
  /** Recurrent layer implementation (see RnnArchitecture.impl). @default 'fused' */
  impl?: 'fused' | 'layers';
}

export interface RnnEpochInfo {
  /** 1-based. */
  epoch: number;
  epochs: number;
  loss: number;
  valLoss: number;
  valAccuracy: number;
  /** Estimated seconds left if training runs all epochs. */
  etaS: number;
}

export interface RnnHooks {
  onEpoch?(e: RnnEpochInfo): void;
  onBatch?(b: { epoch: number; batch: number; batches: number }): void;
  /** Checked after every batch (the loop yields to the event loop between batches): training
   * stops within one batch of an abort. */
  signal?: AbortSignal;
}

export interface RnnHistoryEntry {
  epoch: number;
  loss: number;
  valLoss: number;
  valAccuracy: number;
}

export interface RnnTrainResult {
  model: tfNs.LayersModel;
  history: RnnHistoryEntry[];
  /** 1-based epoch whose weights the model holds (0 if cancelled before any epoch finished). */
  bestEpoch: number;
  stoppedEarly: boolean;
  cancelled: boolean;
  /** Windows per second over the batches trained (validation excluded). */
  windowsPerSecond: number;
}

export async function trainRnn(
  tf: Tf,
  data: SequenceData,
  val: SequenceData,
  params: RnnParams,
  hooks: RnnHooks = {},
): Promise<RnnTrainResult> {
  validateSequenceData(data, 'train');
  validateSequenceData(val, 'val');
  if (val.window !== data.window || val.nFeatures !== data.nFeatures) {
    throw new RnnInputError(
      `val windows are [${val.window} x ${val.nFeatures}] but train windows are [${data.window} x ${data.nFeatures}]`,
    );
  }
  if (!Number.isInteger(params.epochs) || params.epochs < 1) throw new RnnInputError(`epochs must be >= 1, got ${params.epochs}`);
  for (const k of ['batchSize', 'units', 'layers'] as const) {
    const v = params[k];
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new RnnInputError(`${k} must be a positive integer, got ${v}`);
  }
  if (params.dropout !== undefined && !(params.dropout >= 0 && params.dropout < 1)) throw new RnnInputError(`dropout must be in [0, 1), got ${params.dropout}`);
  if (params.learningRate !== undefined && !(params.learningRate > 0)) throw new RnnInputError(`learningRate must be > 0, got ${params.learningRate}`);
  const batchSize = params.batchSize ?? 256;
  const patience = params.patience ?? 5;
  const { window, nFeatures } = data;

  const model = buildRnnModel(tf, {
    cell: params.cell,
    units: params.units ?? 64,
    layers: params.layers ?? 1,
    dropout: params.dropout ?? 0,
    window,
    nFeatures,
    seed: params.seed,
    impl: params.impl,
  });
  const learningRate = params.learningRate ?? 1e-3;
  // The plain classifier trains in one native call per batch (native.ts); anything else (stacked
  // layers, dropout, tf.layers cells, no kernels) through tfjs's graph and optimizer.
  const trainer = NativeRnnTrainer.create(tf, model, batchSize, { learningRate, epsilon: tf.backend().epsilon() });
  const optimizer = trainer ? null : tf.train.adam(learningRate);
  const cw = params.balanceClasses === false ? [1, 1, 1] : Object.values(balancedClassWeights(data.y));
  const rng = mulberry32(params.seed ?? 1);
  const per = window * nFeatures;
  const xb = new Float32Array(batchSize * per);
  const yb = new Int32Array(batchSize);
  const wb = new Float32Array(batchSize);

  const history: RnnHistoryEntry[] = [];
  let best: tfNs.Tensor[] | undefined;
  let bestLoss = Infinity;
  let bestEpoch = 0;
  let sinceBest = 0;
  let stoppedEarly = false;
  let cancelled = hooks.signal?.aborted ?? false;
  let trainMs = 0;
  let trainedWindows = 0;
  const batches = Math.ceil(data.n / batchSize);
  const started = performance.now();

  try {
    for (let epoch = 1; epoch <= params.epochs && !cancelled; epoch++) {
      // Batches are assembled in JS from a seeded permutation: model.fit would slice one big
      // dataset tensor per batch, and a wasm slice copies the whole source tensor each time.
      const order = permutation(data.n, rng);
      const t0 = performance.now();
      let lossSum = 0;
      let weightSum = 0;
      for (let bi = 0; bi < batches; bi++) {
        const start = bi * batchSize;
        const size = Math.min(batchSize, data.n - start);
        for (let j = 0; j < size; j++) {
          const k = order[start + j];
          xb.set(data.x.subarray(k * per, (k + 1) * per), j * per);
          yb[j] = data.y[k];
          wb[j] = cw[data.y[k]];
        }
        const batchLoss = trainer
          ? trainer.step(xb.subarray(0, size * per), yb.subarray(0, size), wb.subarray(0, size), size)
          : trainStep(tf, model, optimizer!, xb.subarray(0, size * per), yb.subarray(0, size), wb.subarray(0, size), window, nFeatures);
        for (let j = 0; j < size; j++) weightSum += wb[j];
        lossSum += batchLoss;
        trainedWindows += size;
        hooks.onBatch?.({ epoch, batch: bi + 1, batches });
        // Yield so an abort posted to a worker's port can be delivered between batches.
        await new Promise<void>((r) => setImmediate(r));
        if (hooks.signal?.aborted) {
          cancelled = true;
          break;
        }
      }
      trainMs += performance.now() - t0;
      trainer?.syncToModel();
      if (cancelled) break;
      // Class-weighted mean training loss over the epoch (the quantity being minimised).
      const loss = lossSum / weightSum;
      const [valLoss, valAccuracy] = evaluate(tf, model, val, batchSize);
      history.push({ epoch, loss, valLoss, valAccuracy });
      if (valLoss < bestLoss) {
        bestLoss = valLoss;
        bestEpoch = epoch;
        sinceBest = 0;
        best?.forEach((t) => t.dispose());
        best = model.getWeights().map((w) => w.clone());
      } else {
        sinceBest++;
      }
      const perEpochS = (performance.now() - started) / 1000 / epoch;
      hooks.onEpoch?.({ epoch, epochs: params.epochs, loss, valLoss, valAccuracy, etaS: perEpochS * (params.epochs - epoch) });
      if (hooks.signal?.aborted) cancelled = true;
      if (sinceBest >= patience && epoch < params.epochs) {
        stoppedEarly = true;
        break;
      }
    }
    if (best) model.setWeights(best);
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    optimizer?.dispose();
    best?.forEach((t) => t.dispose());
  }
  return {
    model,
    history,
    bestEpoch,
    stoppedEarly,
    cancelled,
    windowsPerSecond: trainMs > 0 ? trainedWindows / (trainMs / 1000) : 0,
  };
}

/** One Adam step on a class-weighted cross-entropy; returns the batch's weighted loss sum. */
function trainStep(
  tf: Tf, model: tfNs.LayersModel, optimizer: tfNs.Optimizer,
  x: Float32Array, y: Int32Array, w: Float32Array, window: number, nFeatures: number,
): number {
  return tf.tidy(() => {
    const n = y.length;
    const xt = tf.tensor3d(x, [n, window, nFeatures]);
    const yt = tf.oneHot(tf.tensor1d(y, 'int32'), RNN_CLASSES).toFloat();
    const wt = tf.tensor1d(w);
    let sum = 0;
    optimizer.minimize(() => {
      const p = model.apply(xt, { training: true }) as tfNs.Tensor2D;
      const ce = tf.neg(tf.sum(tf.mul(yt, tf.log(tf.clipByValue(p, 1e-7, 1 - 1e-7))), 1));
      const weighted = tf.sum(tf.mul(ce, wt));
      sum = weighted.dataSync()[0];
      return tf.div(weighted, tf.sum(wt)) as tfNs.Scalar;
    });
    return sum;
  });
}

/** Mean (unweighted) categorical cross-entropy and accuracy over `d`, batched. */
export function evaluate(tf: Tf, model: tfNs.LayersModel, d: SequenceData, batchSize = 512): [number, number] {
  const per = d.window * d.nFeatures;
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < d.n; start += batchSize) {
    const size = Math.min(batchSize, d.n - start);
    const x = d.x.subarray(start * per, (start + size) * per);
    const probs = nativePredict(model, x, size) ?? tf.tidy(() => (model.predict(tf.tensor3d(x, [size, d.window, d.nFeatures])) as tfNs.Tensor).dataSync() as Float32Array);
    for (let i = 0; i < size; i++) {
      const label = d.y[start + i];
      // Same clipping as tfjs's categoricalCrossentropy on probabilities.
      lossSum -= Math.log(Math.min(1 - 1e-7, Math.max(1e-7, probs[i * 3 + label])));
      let arg = 0;
      for (let k = 1; k < RNN_CLASSES; k++) if (probs[i * 3 + k] > probs[i * 3 + arg]) arg = k;
      if (arg === label) correct++;
    }
  }
  return [lossSum / d.n, correct / d.n];
}

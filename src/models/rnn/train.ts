/** Training loop for the GRU/LSTM sequence classifier: class-weighted, early-stopped, cancellable. */
import type * as tfNs from '@tensorflow/tfjs';
import type { Tf } from '../tf-backend.js';
import { buildRnnModel, RNN_CLASSES, type RnnCell } from './model.js';
import { balancedClassWeights, RnnInputError, validateSequenceData, type SequenceData } from './data.js';
import { mulberry32, permutation } from './random.js';

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
  /** Checked after every batch: training stops within one batch of an abort. */
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
  });
  model.compile({
    optimizer: tf.train.adam(params.learningRate ?? 1e-3),
    loss: 'categoricalCrossentropy',
    metrics: ['accuracy'],
  });

  const xs = tf.tensor3d(data.x, [data.n, window, nFeatures]);
  const ys = oneHot(tf, data.y);
  const vx = tf.tensor3d(val.x, [val.n, window, nFeatures]);
  const vy = oneHot(tf, val.y);
  const classWeight = params.balanceClasses === false ? undefined : balancedClassWeights(data.y);
  const rng = mulberry32(params.seed ?? 1);

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
      // Own seeded shuffle (fit's shuffle uses Math.random): reorder once per epoch on-device.
      const idx = tf.tensor1d(permutation(data.n, rng), 'int32');
      const ex = tf.gather(xs, idx);
      const ey = tf.gather(ys, idx);
      idx.dispose();
      let batchesDone = 0;
      const t0 = performance.now();
      let h: tfNs.History;
      try {
        h = await model.fit(ex, ey, {
          epochs: 1,
          batchSize,
          shuffle: false,
          classWeight,
          verbose: 0,
          callbacks: {
            onBatchEnd: async (batch: number) => {
              batchesDone++;
              hooks.onBatch?.({ epoch, batch: batch + 1, batches });
              if (hooks.signal?.aborted) {
                cancelled = true;
                model.stopTraining = true;
              }
            },
          },
        });
      } finally {
        ex.dispose();
        ey.dispose();
      }
      trainMs += performance.now() - t0;
      trainedWindows += Math.min(data.n, batchesDone * batchSize);
      if (cancelled) break;
      const loss = h.history.loss[0] as number;
      // Evaluate here (not fit's validationData) so valLoss is exactly what the returned model scores.
      const [valLoss, valAccuracy] = evaluate(tf, model, vx, vy, batchSize);
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
    // The returned model is for inference and serialisation; Adam's moment tensors would otherwise
    // outlive model.dispose() (tfjs does not dispose a compiled model's optimizer).
    model.optimizer.dispose();
  } catch (err) {
    model.optimizer?.dispose();
    model.dispose();
    throw err;
  } finally {
    best?.forEach((t) => t.dispose());
    tf.dispose([xs, ys, vx, vy]);
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

function oneHot(tf: Tf, y: Uint8Array): tfNs.Tensor2D {
  return tf.tidy(() => tf.oneHot(tf.tensor1d(Int32Array.from(y), 'int32'), RNN_CLASSES).toFloat() as tfNs.Tensor2D);
}

/** Mean categorical cross-entropy and accuracy, batched to bound memory. */
export function evaluate(tf: Tf, model: tfNs.LayersModel, x: tfNs.Tensor, y: tfNs.Tensor, batchSize: number): [number, number] {
  const n = x.shape[0];
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const [l, c] = tf.tidy(() => {
      const xb = x.slice(start, size);
      const yb = y.slice(start, size);
      const p = model.predict(xb) as tfNs.Tensor;
      // Same clipping as tfjs's categoricalCrossentropy on probabilities.
      const clipped = p.clipByValue(1e-7, 1 - 1e-7);
      const lossB = tf.neg(tf.sum(tf.mul(yb, tf.log(clipped)))).dataSync()[0];
      const hit = tf.sum(tf.cast(tf.equal(tf.argMax(p, 1), tf.argMax(yb, 1)), 'float32')).dataSync()[0];
      return [lossB, hit];
    });
    lossSum += l;
    correct += c;
  }
  return [lossSum / n, correct / n];
}

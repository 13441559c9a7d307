import type * as tfNs from '@tensorflow/tfjs';
import type { Tf } from '../tf-backend.js';
import { RNN_CLASSES } from './model.js';
import { RnnInputError } from './data.js';
import { nativePredict } from './native.js';

/** Batched so a long replay does not allocate one huge input tensor. */
const PREDICT_BATCH = 1024;

/**
 * Class probabilities for n windows: out[i*3 + k] = P(class k | window i), k = 0 down, 1 flat, 2 up.
 * Throws RnnInputError when x or the shape does not match the model's input.
 */
export function predictRnn(tf: Tf, model: tfNs.LayersModel, x: Float32Array, n: number, window: number, nFeatures: number): Float32Array {
  const inShape = model.inputs[0]?.shape ?? [];
  if (inShape[1] !== window || inShape[2] !== nFeatures) {
    throw new RnnInputError(`model expects windows [${inShape[1]} x ${inShape[2]}], got [${window} x ${nFeatures}]`);
  }
  const per = window * nFeatures;
  if (x.length !== n * per) throw new RnnInputError(`x has ${x.length} values, expected n*window*nFeatures = ${n * per}`);
  const out = new Float32Array(n * RNN_CLASSES);
  for (let start = 0; start < n; start += PREDICT_BATCH) {
    const size = Math.min(PREDICT_BATCH, n - start);
    const xs = x.subarray(start * per, (start + size) * per);
    // The plain classifier runs natively in one call (native.ts); other shapes through tfjs.
    const probs = nativePredict(model, xs, size) ?? tf.tidy(() => (model.predict(tf.tensor3d(xs, [size, window, nFeatures])) as tfNs.Tensor).dataSync() as Float32Array);
    out.set(probs, start * RNN_CLASSES);
  }
  return out;
}

/**
 * kilo's sequence classifier ([window x features] -> FusedGru/FusedLstm -> Dense(3, softmax)) on
 * the native kernels as a whole, not layer by layer: one native call per training batch does the
 * forward pass, the class-weighted cross-entropy, backprop through time and the Adam update; one
 * call predicts a batch of windows.
 *
 * Why: with only the recurrent layer native, about a quarter of a training epoch went to tfjs
 * around it (the dense head, loss, Adam's ~60 small wasm ops per batch, and copies of the batch,
 * the weights and the gradients between JS and wasm memory).
 *
 * The parameters live in one Float32Array in model.getWeights() order while an epoch runs;
 * syncToModel() writes them back into the model's variables, so evaluation, early stopping,
 * saving and loading see an ordinary tfjs model. Adam is tfjs's AdamOptimizer (same float32
 * operations, same bias correction, epsilon from the backend), and the loss is trainRnn's:
 * test/native/rnn-native.test.ts checks gradients, the Adam step and predictions against tfjs.
 */
import type * as tfNs from '@tensorflow/tfjs';
import type { Tf } from '../tf-backend.js';
import { loadedModule, useNativeRnn, type NativeModule } from '../../native/rnn.js';
import { FusedGru } from './fused-gru.js';
import { FusedLstm } from './fused-lstm.js';
import { RNN_CLASSES } from './model.js';

interface Plan {
  cell: 0 | 1;
  units: number;
  window: number;
  nFeatures: number;
}

/**
 * The native plan for `model`, or null when it is not exactly a first recurrent layer returning
 * its last state followed by Dense(3, softmax) (stacked layers, dropout, tf.layers cells and models
 * with other heads keep the tfjs path), or when the kernels are off.
 */
function planFor(model: tfNs.LayersModel): Plan | null {
  if (!useNativeRnn() || model.layers.length !== 2) return null;
  const [rnn, head] = model.layers;
  if (!(rnn instanceof FusedGru || rnn instanceof FusedLstm) || !rnn.inputIsData || rnn.returnSequences) return null;
  const cfg = head.getConfig();
  if (head.getClassName() !== 'Dense' || cfg.units !== RNN_CLASSES || cfg.activation !== 'softmax' || cfg.useBias === false) return null;
  const shape = model.inputs[0]?.shape ?? [];
  const [, window, nFeatures] = shape;
  if (typeof window !== 'number' || typeof nFeatures !== 'number') return null;
  return { cell: rnn instanceof FusedLstm ? 1 : 0, units: rnn.units, window, nFeatures };
}

/** The model's weights as one flat array in getWeights() order (the layout the kernels take). */
function gather(mod: NativeModule, plan: Plan, model: tfNs.LayersModel, batch: number, weights = model.getWeights()): Float32Array {
  const params = new Float32Array(mod.paramFloats(plan.cell, batch, plan.window, plan.nFeatures, plan.units));
  let at = 0;
  for (const w of weights) {
    const v = w.dataSync() as Float32Array;
    if (at + v.length > params.length) throw new Error(`model weights exceed the native layout (${params.length} floats)`);
    params.set(v, at);
    at += v.length;
  }
  if (at !== params.length) throw new Error(`model weights hold ${at} floats, the native layout ${params.length}`);
  return params;
}

export interface NativeAdam {
  learningRate: number;
  /** @default 0.9 */
  beta1?: number;
  /** @default 0.999 */
  beta2?: number;
  /** tf.train.adam's default is the backend's epsilon (1e-7 in float32). */
  epsilon: number;
}

/** Trains one model in place of `optimizer.minimize` over the tfjs graph (see the file comment). */
export class NativeRnnTrainer {
  private readonly grads: Float32Array;
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  /** [lr, beta1, beta2, epsilon, 1 - beta1, 1 - beta2, beta1^t, beta2^t], float32 like tfjs's scalars. */
  private readonly opt: Float32Array;
  private readonly ws: Float32Array;
  private dirty = false;

  private constructor(
    private readonly mod: NativeModule,
    private readonly plan: Plan,
    private readonly model: tfNs.LayersModel,
    private readonly tf: Tf,
    private readonly params: Float32Array,
    private readonly batchSize: number,
    adam: NativeAdam,
  ) {
    const n = params.length;
    this.grads = new Float32Array(n);
    this.m = new Float32Array(n);
    this.v = new Float32Array(n);
    const b1 = adam.beta1 ?? 0.9;
    const b2 = adam.beta2 ?? 0.999;
    this.opt = Float32Array.of(adam.learningRate, b1, b2, adam.epsilon, 1 - b1, 1 - b2, b1, b2);
    this.ws = new Float32Array(mod.workspaceFloats(plan.cell, batchSize, plan.window, plan.nFeatures, plan.units));
  }

  /** A trainer for `model`, or null when the model or the machine cannot use the native step. */
  static create(tf: Tf, model: tfNs.LayersModel, batchSize: number, adam: NativeAdam): NativeRnnTrainer | null {
    const plan = planFor(model);
    if (!plan) return null;
    const mod = loadedModule();
    return new NativeRnnTrainer(mod, plan, model, tf, gather(mod, plan, model, batchSize), batchSize, adam);
  }

  /**
   * One Adam step on n windows x [n * window * nFeatures] with labels y and sample weights w
   * (the mean of the weighted cross-entropy, weights normalised by their sum, as trainRnn's tfjs
   * step). Returns the weighted loss sum.
   */
  step(x: Float32Array, y: Int32Array, w: Float32Array, n: number): number {
    if (n > this.batchSize) throw new RangeError(`batch of ${n} windows exceeds the trainer's ${this.batchSize}`);
    const { cell, window, nFeatures, units } = this.plan;
    this.dirty = true;
    return this.mod.trainStep(cell, n, window, nFeatures, units, x, y, w, this.params, this.grads, this.m, this.v, this.opt, this.ws);
  }

  /** The gradients of the last step, in getWeights() order (for the tests). */
  lastGradients(): Float32Array {
    return this.grads;
  }

  /** Write the parameters into the model's variables (before evaluating, predicting or saving it). */
  syncToModel(): void {
    if (!this.dirty) return;
    const tf = this.tf;
    tf.tidy(() => {
      let at = 0;
      const next = this.model.getWeights().map((w) => {
        const t = tf.tensor(this.params.slice(at, at + w.size), w.shape, 'float32');
        at += w.size;
        return t;
      });
      this.model.setWeights(next);
    });
    this.dirty = false;
  }
}

/**
 * Class probabilities [n * 3] from the native kernels, or null when the model has another shape
 * (the caller then uses model.predict). Same numbers as model.predict within float rounding.
 */
export function nativePredict(model: tfNs.LayersModel, x: Float32Array, n: number): Float32Array | null {
  const plan = planFor(model);
  if (!plan) return null;
  const mod = loadedModule();
  const params = predictParams(mod, plan, model, n);
  const probs = new Float32Array(n * RNN_CLASSES);
  mod.predict(plan.cell, n, plan.window, plan.nFeatures, plan.units, x, params, probs);
  return probs;
}

/**
 * The flat parameters nativePredict hands the kernels, per model, reused while the model's weights
 * hold the same data: a variable's assign() (setWeights, an optimizer step, syncToModel) gives it a
 * new dataId, which makes the next call gather them again. Why: gathering copied every weight out of
 * tfjs (dataSync) into a fresh array on every prediction, ~150 KB of garbage per symbol per round
 * for a GRU(64), for weights that never change while a model serves.
 */
const paramsCache = new WeakMap<tfNs.LayersModel, { ids: unknown[]; params: Float32Array }>();

function predictParams(mod: NativeModule, plan: Plan, model: tfNs.LayersModel, batch: number): Float32Array {
  const weights = model.getWeights();
  const hit = paramsCache.get(model);
  if (hit && hit.ids.length === weights.length && weights.every((w, i) => w.dataId === hit.ids[i])) return hit.params;
  const params = gather(mod, plan, model, batch, weights);
  paramsCache.set(model, { ids: weights.map((w) => w.dataId), params });
  return params;
}

/**
 * A GRU layer with fewer, larger tfjs ops than tf.layers.gru, for the wasm backend where per-op
 * overhead dominates. Differences from tfjs's GRUCell (which splits the recurrent kernel and runs
 * ~22 small ops per step):
 * - matmuls use explicit-transpose gradients (fast-ops.ts): ~10x faster backward on wasm;
 * - per-gate weight slices are taken once per batch, not per step, and no activation is split;
 * - "reset after" form (Keras's default / cuDNN): r scales the recurrent candidate projection;
 * - training a first layer that returns its last state (the usual case) uses gru-bptt.ts, a
 *   whole-sequence op with a hand-written backward pass.
 * Measured on one epoch of [48 x 28] windows, batch 256 (bench/gru.bench.ts): ~5-8x the
 * windows/s of tf.layers.gru with the same training loop.
 * Registered for (de)serialisation under className 'KiloFusedGru'.
 */
import * as tf from '@tensorflow/tfjs';
import { dataSteps, linear, linearData, matmulT } from './fast-ops.js';
import { gruSequence } from './gru-bptt.js';
import { FusedRecurrent, type FusedRecurrentArgs } from './fused-base.js';

export type FusedGruArgs = FusedRecurrentArgs;

export class FusedGru extends FusedRecurrent {
  static readonly className = 'KiloFusedGru';
  private kernel!: tf.LayerVariable;
  private recurrentKernel!: tf.LayerVariable;
  private bias!: tf.LayerVariable;
  private recurrentBias!: tf.LayerVariable;

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const f = shape[shape.length - 1] as number;
    const u = this.units;
    const s = this.seed;
    this.kernel = this.addWeight('kernel', [f, 3 * u], 'float32', tf.initializers.glorotUniform({ seed: s }));
    this.recurrentKernel = this.addWeight(
      'recurrent_kernel', [u, 3 * u], 'float32', tf.initializers.glorotUniform({ seed: s === undefined ? undefined : s + 1 }),
    );
    this.bias = this.addWeight('bias', [3 * u], 'float32', tf.initializers.zeros());
    this.recurrentBias = this.addWeight('recurrent_bias', [u], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs?: { training?: boolean }): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
      const [b] = x.shape;
      const u = this.units;
      const training = kwargs?.training === true;
      // A first layer that returns its last state runs in the native kernel when it is built
      // (src/native/rnn.ts): training and inference. Else the tfjs ops below. (The plain
      // classifier bypasses this layer altogether in trainRnn/predictRnn: see native.ts.)
      const native = this.nativeLastState('gru', x, [this.kernel, this.recurrentKernel, this.bias, this.recurrentBias], training);
      if (native) return native;
      // Per-gate weights split once per call (not per step): per-step splits of activations are
      // slow JS copies on wasm, separate small matmuls are not.
      const [wz, wr, wh] = tf.split(this.kernel.read() as tf.Tensor2D, 3, 1) as tf.Tensor2D[];
      const [uz, ur, uh] = tf.split(this.recurrentKernel.read() as tf.Tensor2D, 3, 1) as tf.Tensor2D[];
      const [bz, br, bh] = tf.split(this.bias.read() as tf.Tensor1D, 3) as tf.Tensor1D[];
      const rb = this.recurrentBias.read() as tf.Tensor1D;
      if (training && this.inputIsData && !this.returnSequences) {
        return gruSequence(x, { wz, wr, wh, uz, ur, uh, bz, br, bh, rb }, u);
      }
      const [uzT, urT, uhT] = [uz, ur, uh].map((m) => tf.transpose(m)) as tf.Tensor2D[];
      // Data input: per-step slices (and their transposes) from JS. Otherwise [T, B, F] unstacked.
      // Inference (predict/evaluate) skips the custom-gradient wrappers and the JS transposes.
      const { steps, stepsT } = this.inputIsData
        ? dataSteps(x, training)
        : { steps: tf.unstack(tf.transpose(x, [1, 0, 2])) as tf.Tensor2D[], stepsT: undefined };
      const proj = (t: number, w: tf.Tensor2D, bb: tf.Tensor1D) =>
        !training ? tf.fused.matMul({ a: steps[t], b: w, bias: bb }) : stepsT ? linearData(steps[t], stepsT[t], w, bb) : linear(steps[t], w, bb);
      const rec = (hh: tf.Tensor2D, m: tf.Tensor2D, mT: tf.Tensor2D) => (training ? matmulT(hh, m, mT) : tf.matMul(hh, m));
      let h: tf.Tensor2D = tf.zeros([b, u]);
      const all: tf.Tensor2D[] = [];
      for (let t = 0; t < steps.length; t++) {
        const z = tf.sigmoid(tf.add(proj(t, wz, bz), rec(h, uz, uzT)));
        const r = tf.sigmoid(tf.add(proj(t, wr, br), rec(h, ur, urT)));
        const cand = tf.tanh(tf.add(proj(t, wh, bh), tf.mul(r, tf.add(rec(h, uh, uhT), rb))));
        h = tf.add(cand, tf.mul(z, tf.sub(h, cand))) as tf.Tensor2D;
        if (this.returnSequences) all.push(h);
      }
      return this.returnSequences ? tf.stack(all, 1) : h;
    });
  }
}

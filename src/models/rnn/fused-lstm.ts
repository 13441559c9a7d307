/**
 * LSTM counterpart of FusedGru (see fused-gru.ts for why): Keras gate order i, f, c, o; forget
 * bias initialised to 1 (unitForgetBias); explicit-transpose matmul gradients; per-gate weight
 * slices taken once per batch. Registered for (de)serialisation under 'KiloFusedLstm'.
 */
import * as tf from '@tensorflow/tfjs';
import { dataSteps, linear, linearData, matmulT } from './fast-ops.js';
import { lstmSequence } from './lstm-bptt.js';
import { FusedRecurrent, type FusedRecurrentArgs } from './fused-base.js';

export type FusedLstmArgs = FusedRecurrentArgs;

export class FusedLstm extends FusedRecurrent {
  static readonly className = 'KiloFusedLstm';
  private kernel!: tf.LayerVariable;
  private recurrentKernel!: tf.LayerVariable;
  private bias!: tf.LayerVariable;

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const f = shape[shape.length - 1] as number;
    const u = this.units;
    const s = this.seed;
    this.kernel = this.addWeight('kernel', [f, 4 * u], 'float32', tf.initializers.glorotUniform({ seed: s }));
    this.recurrentKernel = this.addWeight(
      'recurrent_kernel', [u, 4 * u], 'float32', tf.initializers.glorotUniform({ seed: s === undefined ? undefined : s + 1 }),
    );
    const bias = new Float32Array(4 * u);
    bias.fill(1, u, 2 * u); // forget gate starts open, as Keras's unitForgetBias
    this.bias = this.addWeight('bias', [4 * u], 'float32', tf.initializers.zeros());
    const init = tf.tensor1d(bias);
    this.bias.write(init);
    init.dispose();
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs?: { training?: boolean }): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
      const [b] = x.shape;
      const u = this.units;
      const training = kwargs?.training === true;
      const native = this.nativeLastState('lstm', x, [this.kernel, this.recurrentKernel, this.bias], training);
      if (native) return native;
      const [wi, wf, wc, wo] = tf.split(this.kernel.read() as tf.Tensor2D, 4, 1) as tf.Tensor2D[];
      const [ui, uf, uc, uo] = tf.split(this.recurrentKernel.read() as tf.Tensor2D, 4, 1) as tf.Tensor2D[];
      const [bi, bf, bc, bo] = tf.split(this.bias.read() as tf.Tensor1D, 4) as tf.Tensor1D[];
      if (training && this.inputIsData && !this.returnSequences) {
        return lstmSequence(x, { w: [wi, wf, wc, wo], u: [ui, uf, uc, uo], b: [bi, bf, bc, bo] }, u);
      }
      const [uiT, ufT, ucT, uoT] = [ui, uf, uc, uo].map((m) => tf.transpose(m)) as tf.Tensor2D[];
      // Inference (predict/evaluate) skips the custom-gradient wrappers and the JS transposes.
      const { steps, stepsT } = this.inputIsData
        ? dataSteps(x, training)
        : { steps: tf.unstack(tf.transpose(x, [1, 0, 2])) as tf.Tensor2D[], stepsT: undefined };
      const proj = (t: number, w: tf.Tensor2D, bb: tf.Tensor1D) =>
        !training ? tf.fused.matMul({ a: steps[t], b: w, bias: bb }) : stepsT ? linearData(steps[t], stepsT[t], w, bb) : linear(steps[t], w, bb);
      const rec = (hh: tf.Tensor2D, m: tf.Tensor2D, mT: tf.Tensor2D) => (training ? matmulT(hh, m, mT) : tf.matMul(hh, m));
      let h: tf.Tensor2D = tf.zeros([b, u]);
      let c: tf.Tensor2D = tf.zeros([b, u]);
      const all: tf.Tensor2D[] = [];
      for (let t = 0; t < steps.length; t++) {
        const i = tf.sigmoid(tf.add(proj(t, wi, bi), rec(h, ui, uiT)));
        const f = tf.sigmoid(tf.add(proj(t, wf, bf), rec(h, uf, ufT)));
        const g = tf.tanh(tf.add(proj(t, wc, bc), rec(h, uc, ucT)));
        const o = tf.sigmoid(tf.add(proj(t, wo, bo), rec(h, uo, uoT)));
        c = tf.add(tf.mul(f, c), tf.mul(i, g)) as tf.Tensor2D;
        h = tf.mul(o, tf.tanh(c)) as tf.Tensor2D;
        if (this.returnSequences) all.push(h);
      }
      return this.returnSequences ? tf.stack(all, 1) : h;
    });
  }
}

/**
 * Whole-sequence LSTM with a hand-written backward pass: the LSTM counterpart of gru-bptt.ts
 * (same reasons, same restrictions: first layer, last state only). Checked against FusedLstm's
 * per-step autodiff path in test/models/rnn-fused.test.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { timeMajorSteps } from './gru-bptt.js';

export interface LstmWeights {
  w: [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
  u: [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
  b: [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
}

const SAVED_PER_STEP = 7;

/** x is [B, T, F] data; gates in Keras order i, f, c, o. Returns the last h [B, U]. */
export function lstmSequence(x: tf.Tensor3D, weights: LstmWeights, units: number): tf.Tensor2D {
  const [b, t] = x.shape;
  const { steps, xT } = timeMajorSteps(x);

  const fn = tf.customGrad(((...args: unknown[]) => {
    const w = args.slice(0, 4) as tf.Tensor2D[];
    const u = args.slice(4, 8) as tf.Tensor2D[];
    const bias = args.slice(8, 12) as tf.Tensor1D[];
    const save = args[12] as tf.GradSaveFunc;
    let h: tf.Tensor2D = tf.zeros([b, units]);
    let c: tf.Tensor2D = tf.zeros([b, units]);
    const keep: tf.Tensor[] = [];
    const pre = (s: number, k: number) => tf.add(tf.fused.matMul({ a: steps[s], b: w[k], bias: bias[k] }), tf.matMul(h, u[k]));
    for (let s = 0; s < t; s++) {
      const i = tf.sigmoid(pre(s, 0));
      const f = tf.sigmoid(pre(s, 1));
      const g = tf.tanh(pre(s, 2));
      const o = tf.sigmoid(pre(s, 3));
      const cNew = tf.add(tf.mul(f, c), tf.mul(i, g)) as tf.Tensor2D;
      const tc = tf.tanh(cNew);
      keep.push(h, c, i, f, g, o, tc);
      c = cNew;
      h = tf.mul(o, tc) as tf.Tensor2D;
    }
    save([...keep, xT, ...u]);
    return {
      value: h,
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const n = t * SAVED_PER_STEP;
        const uT = (saved.slice(n + 1) as tf.Tensor2D[]).map((m) => tf.transpose(m));
        const dA: tf.Tensor[][] = [[], [], [], []];
        let dh: tf.Tensor = dy;
        let dc: tf.Tensor = tf.zerosLike(dy);
        for (let s = t - 1; s >= 0; s--) {
          const [, cPrev, i, f, g, o, tc] = saved.slice(s * SAVED_PER_STEP, (s + 1) * SAVED_PER_STEP);
          const dcT = tf.add(dc, tf.mul(tf.mul(dh, o), tf.sub(1, tf.square(tc))));
          const dai = tf.mul(tf.mul(dcT, g), tf.mul(i, tf.sub(1, i)));
          const daf = tf.mul(tf.mul(dcT, cPrev), tf.mul(f, tf.sub(1, f)));
          const dag = tf.mul(tf.mul(dcT, i), tf.sub(1, tf.square(g)));
          const dao = tf.mul(tf.mul(dh, tc), tf.mul(o, tf.sub(1, o)));
          dc = tf.mul(dcT, f);
          const gates = [dai, daf, dag, dao];
          dh = tf.addN(gates.map((d, k) => tf.matMul(d, uT[k])));
          gates.forEach((d, k) => (dA[k][s] = d));
        }
        const sxT = saved[n] as tf.Tensor2D;
        const hT = tf.transpose(tf.concat(Array.from({ length: t }, (_, s) => saved[s * SAVED_PER_STEP]), 0));
        const big = dA.map((l) => tf.concat(l, 0) as tf.Tensor2D);
        const ones = tf.ones([1, t * b]) as tf.Tensor2D;
        return [
          ...big.map((a) => tf.matMul(sxT, a)),
          ...big.map((a) => tf.matMul(hT, a)),
          ...big.map((a) => tf.reshape(tf.matMul(ones, a), [units])),
        ];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return fn(...weights.w, ...weights.u, ...weights.b) as tf.Tensor2D;
}

import { beforeAll, describe, expect, it } from 'vitest';
import * as tfNs from '@tensorflow/tfjs';
import { initTf, type Tf } from '../../src/models/tf-backend.js';
import { dataSteps, linear, linearData, matmul, matmulT } from '../../src/models/rnn/fast-ops.js';
import { buildRnnModel, FusedGru, FusedLstm, mulberry32 } from '../../src/models/rnn/index.js';

let tf: Tf;
beforeAll(async () => {
  tf = (await initTf()).tf;
});

const rand = (shape: number[], seed: number) => {
  const rng = mulberry32(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng() * 2 - 1), shape);
};

function maxAbsDiff(a: tfNs.Tensor, b: tfNs.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

describe('fast-ops', () => {
  it('linear and matmul give the same values and gradients as tfjs matMul', () => {
    const a = rand([7, 5], 1) as tfNs.Tensor2D;
    const b = rand([5, 3], 2) as tfNs.Tensor2D;
    const bias = rand([3], 3) as tfNs.Tensor1D;
    const w = rand([7, 3], 4);
    const ref = tf.grads((x: tfNs.Tensor, y: tfNs.Tensor, z: tfNs.Tensor) => tf.sum(tf.mul(tf.add(tf.matMul(x as tfNs.Tensor2D, y as tfNs.Tensor2D), z), w)));
    const ours = tf.grads((x: tfNs.Tensor, y: tfNs.Tensor, z: tfNs.Tensor) => tf.sum(tf.mul(linear(x as tfNs.Tensor2D, y as tfNs.Tensor2D, z as tfNs.Tensor1D), w)));
    const g1 = ref([a, b, bias]);
    const g2 = ours([a, b, bias]);
    for (let i = 0; i < 3; i++) {
      expect(g2[i].shape).toEqual(g1[i].shape);
      expect(maxAbsDiff(g1[i], g2[i])).toBeLessThan(1e-5);
    }
    expect(maxAbsDiff(linear(a, b, bias), tf.add(tf.matMul(a, b), bias))).toBeLessThan(1e-5);
    const gm = tf.grads((x: tfNs.Tensor, y: tfNs.Tensor) => tf.sum(tf.mul(matmul(x as tfNs.Tensor2D, y as tfNs.Tensor2D), w)))([a, b]);
    expect(maxAbsDiff(gm[0], g1[0])).toBeLessThan(1e-5);
    expect(maxAbsDiff(gm[1], g1[1])).toBeLessThan(1e-5);
    const gd = tf.grads((y: tfNs.Tensor, z: tfNs.Tensor) => tf.sum(tf.mul(linearData(a, tf.transpose(a), y as tfNs.Tensor2D, z as tfNs.Tensor1D), w)))([b, bias]);
    expect(maxAbsDiff(gd[0], g1[1])).toBeLessThan(1e-5);
    expect(maxAbsDiff(gd[1], g1[2])).toBeLessThan(1e-5);
    const gt = tf.grads((x: tfNs.Tensor, y: tfNs.Tensor) => tf.sum(tf.mul(matmulT(x as tfNs.Tensor2D, y as tfNs.Tensor2D, tf.transpose(b)), w)))([a, b]);
    expect(maxAbsDiff(gt[0], g1[0])).toBeLessThan(1e-5);
    expect(maxAbsDiff(gt[1], g1[1])).toBeLessThan(1e-5);
  });

  it('dataSteps slices [B, T, F] per step with transposes', () => {
    const x = tf.tensor3d([[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10], [11, 12]]]);
    const { steps, stepsT } = dataSteps(x);
    expect(steps.map((s) => s.arraySync())).toEqual([[[1, 2], [7, 8]], [[3, 4], [9, 10]], [[5, 6], [11, 12]]]);
    expect(stepsT![1].arraySync()).toEqual([[3, 9], [4, 10]]);
  });
});

describe('FusedLstm', () => {
  it('matches tf.layers.lstm (same Keras weight layout) on the same weights', () => {
    const x = rand([3, 5, 2], 12) as tfNs.Tensor3D;
    const ours = new FusedLstm({ units: 4, inputIsData: true, seed: 2 });
    // tfjs's LSTM defaults to hardSigmoid gates; kilo's (like Keras 2.x and PyTorch) use sigmoid.
    const ref = tf.layers.lstm({ units: 4, recurrentInitializer: 'glorotUniform', recurrentActivation: 'sigmoid' });
    ours.apply(x);
    ref.apply(x);
    const biased = ours.getWeights();
    biased[2] = rand([16], 13); // non-zero biases exercise each gate's bias
    ours.setWeights(biased);
    ref.setWeights(biased);
    expect(maxAbsDiff(ours.apply(x) as tfNs.Tensor, ref.apply(x) as tfNs.Tensor)).toBeLessThan(1e-5);
    expect(maxAbsDiff(ours.apply(x, { training: true }) as tfNs.Tensor, ref.apply(x) as tfNs.Tensor)).toBeLessThan(1e-5);
  });
});

describe('fused layers: data-input fast path', () => {
  for (const [name, Cls] of [['gru', FusedGru], ['lstm', FusedLstm]] as const) {
    it(`${name}: same output and weight gradients with inputIsData as through tf.unstack, and in inference`, () => {
      const x = rand([5, 4, 3], 8) as tfNs.Tensor3D;
      const fast = new Cls({ units: 6, inputIsData: true, seed: 3 });
      const slow = new Cls({ units: 6, inputIsData: false, seed: 3 });
      fast.apply(x);
      slow.apply(x);
      slow.setWeights(fast.getWeights());
      const train = { training: true };
      const lossOf = (layer: tfNs.layers.Layer) => () => tf.sum(tf.square(layer.apply(x, train) as tfNs.Tensor)) as tfNs.Scalar;
      expect(maxAbsDiff(fast.apply(x, train) as tfNs.Tensor, slow.apply(x, train) as tfNs.Tensor)).toBeLessThan(1e-6);
      // The inference path (no custom gradients) computes the same function.
      expect(maxAbsDiff(fast.apply(x) as tfNs.Tensor, slow.apply(x, train) as tfNs.Tensor)).toBeLessThan(1e-6);
      const gFast = tf.variableGrads(lossOf(fast), fast.trainableWeights.map((v) => v.read() as tfNs.Variable));
      const gSlow = tf.variableGrads(lossOf(slow), slow.trainableWeights.map((v) => v.read() as tfNs.Variable));
      const fastGrads = Object.values(gFast.grads);
      const slowGrads = Object.values(gSlow.grads);
      expect(fastGrads.length).toBe(name === 'gru' ? 4 : 3);
      fastGrads.forEach((g, i) => expect(maxAbsDiff(g, slowGrads[i])).toBeLessThan(1e-5));
      // Gradients are not all zero (the check above would pass trivially otherwise).
      expect(tf.max(tf.abs(fastGrads[0])).dataSync()[0]).toBeGreaterThan(1e-4);
    });
  }
});

describe('FusedGru', () => {
  it('computes the reset-after GRU recurrence (checked against a hand-rolled loop)', () => {
    const model = buildRnnModel(tf, { cell: 'gru', units: 4, layers: 1, dropout: 0, window: 3, nFeatures: 2, seed: 5 });
    const gru = model.layers[0];
    const [kernel, rkernel] = gru.getWeights().map((t) => t.arraySync() as number[][]);
    // Non-zero biases so each bias term is exercised.
    const bz = Array.from({ length: 12 }, (_, i) => (i - 6) / 10);
    const rbz = [0.3, -0.2, 0.1, 0.05];
    gru.setWeights([tf.tensor(kernel), tf.tensor(rkernel), tf.tensor(bz), tf.tensor(rbz)]);
    const xs = [[[0.5, -1], [0.25, 0.75], [-0.5, 0.1]]];
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    let h = [0, 0, 0, 0];
    for (const xt of xs[0]) {
      // Column `col` of v x m.
      const g = (col: number, m: number[][], v: number[]) => v.reduce((s, vi, i) => s + vi * m[i][col], 0);
      const next = [0, 0, 0, 0];
      for (let j = 0; j < 4; j++) {
        const z = sig(g(j, kernel, xt) + bz[j] + g(j, rkernel, h));
        const r = sig(g(4 + j, kernel, xt) + bz[4 + j] + g(4 + j, rkernel, h));
        const c = Math.tanh(g(8 + j, kernel, xt) + bz[8 + j] + r * (g(8 + j, rkernel, h) + rbz[j]));
        next[j] = z * h[j] + (1 - z) * c;
      }
      h = next;
    }
    const sub = tf.model({ inputs: model.inputs, outputs: gru.output as tfNs.SymbolicTensor });
    const got = (sub.predict(tf.tensor3d(xs)) as tfNs.Tensor).arraySync() as number[][];
    got[0].forEach((v, j) => expect(v).toBeCloseTo(h[j], 5));
    model.dispose();
  });
});

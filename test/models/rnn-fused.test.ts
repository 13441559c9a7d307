import { beforeAll, describe, expect, it } from 'vitest';
import * as tfNs from '@tensorflow/tfjs';
import { initTf, type Tf } from '../../src/models/tf-backend.js';
import { linear, matmul } from '../../src/models/rnn/fast-ops.js';
import { buildRnnModel, mulberry32 } from '../../src/models/rnn/index.js';

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
  });
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

/**
 * The whole-classifier native step (src/models/rnn/native.ts over native/kilo_rnn.c trainStep and
 * predict) against tfjs doing the same thing on the same model: the gradients of trainRnn's
 * class-weighted loss for every weight (recurrent layer and dense head), tfjs's Adam update given
 * those gradients over several steps, predictions, and which models may take the native path.
 * Runs on each instruction set the CPU has.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type * as tfNs from '@tensorflow/tfjs';
import { initTf, type Tf } from '../../src/models/tf-backend.js';
import { buildRnnModel, mulberry32, predictRnn, trainRnn, type RnnCell } from '../../src/models/rnn/index.js';
import { NativeRnnTrainer, nativePredict } from '../../src/models/rnn/native.js';
import { serializeLayersModel, deserializeLayersModel } from '../../src/models/tf-io.js';
import { nativeIsas, setNativeIsa, setNativeRnnEnabled } from '../../src/native/rnn.js';

let tf: Tf;
beforeAll(async () => {
  tf = (await initTf()).tf;
});
afterEach(() => setNativeRnnEnabled(true));

const headers = [join(dirname(dirname(process.execPath)), 'include', 'node', 'node_api.h'), '/usr/include/node/node_api.h'];
const canBuild = process.arch === 'x64' && headers.some(existsSync) && spawnSync('cc', ['--version']).status === 0;
const isas = canBuild ? nativeIsas() : [];

interface Batch {
  x: Float32Array;
  y: Int32Array;
  w: Float32Array;
}

function batch(n: number, t: number, f: number, seed: number): Batch {
  const rng = mulberry32(seed);
  const x = Float32Array.from({ length: n * t * f }, () => rng() * 2 - 1);
  const y = Int32Array.from({ length: n }, () => Math.floor(rng() * 3));
  // Unequal class weights, as balancedClassWeights gives on market labels.
  const cw = [1.7, 0.6, 1.3];
  const w = Float32Array.from(y, (c) => cw[c]);
  return { x, y, w };
}

/** trainRnn's tfjs loss on a batch: sum_i w_i CE_i / sum_i w_i, with tfjs's probability clipping. */
function tfjsLoss(model: tfNs.LayersModel, b: Batch, t: number, f: number): tfNs.Scalar {
  const n = b.y.length;
  const p = model.apply(tf.tensor3d(b.x, [n, t, f]), { training: true }) as tfNs.Tensor2D;
  const yt = tf.oneHot(tf.tensor1d(b.y, 'int32'), 3).toFloat();
  const ce = tf.neg(tf.sum(tf.mul(yt, tf.log(tf.clipByValue(p, 1e-7, 1 - 1e-7))), 1));
  const wt = tf.tensor1d(b.w);
  return tf.div(tf.sum(tf.mul(ce, wt)), tf.sum(wt)) as tfNs.Scalar;
}

function flat(ts: tfNs.Tensor[]): Float32Array {
  const out = new Float32Array(ts.reduce((a, t) => a + t.size, 0));
  let at = 0;
  for (const t of ts) {
    out.set(t.dataSync() as Float32Array, at);
    at += t.size;
  }
  return out;
}

/** Largest |a - b| over the largest |b|: the relative error measure of rnn-native.test.ts. */
function relDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / Math.max(m, 1e-6);
}

const shapes = [
  { cell: 'gru' as RnnCell, n: 7, t: 5, f: 3, u: 12 },
  { cell: 'lstm' as RnnCell, n: 7, t: 5, f: 3, u: 12 },
  { cell: 'gru' as RnnCell, n: 50, t: 9, f: 28, u: 24 },
  { cell: 'lstm' as RnnCell, n: 50, t: 9, f: 28, u: 24 },
  { cell: 'gru' as RnnCell, n: 64, t: 48, f: 36, u: 64 }, // the bench's window shape
  { cell: 'lstm' as RnnCell, n: 64, t: 48, f: 36, u: 64 },
];

describe.runIf(canBuild).each(isas)('native classifier step (%s) against tfjs', (isa) => {
  beforeAll(() => {
    setNativeIsa(isa);
  });
  afterAll(() => {
    setNativeIsa(isas.at(-1)!);
  });

  for (const s of shapes) {
    it(`${s.cell} n${s.n} T${s.t} F${s.f} U${s.u}: loss and every gradient as tfjs; Adam as tf.train.adam given those gradients`, () => {
      const model = buildRnnModel(tf, { cell: s.cell, units: s.u, layers: 1, dropout: 0, window: s.t, nFeatures: s.f, seed: 4 });
      // Non-zero biases exercise every bias path (the dense head's too).
      model.setWeights(model.getWeights().map((w, i) => (w.rank === 1 ? tf.randomUniform(w.shape, -0.5, 0.5, 'float32', 30 + i) : w)));
      const lr = 0.01;
      const trainer = NativeRnnTrainer.create(tf, model, s.n, { learningRate: lr, epsilon: tf.backend().epsilon() })!;
      expect(trainer).not.toBeNull();
      const optimizer = tf.train.adam(lr);
      const vars = model.trainableWeights.map((v) => (v as unknown as { val: tfNs.Variable }).val);
      try {
        for (let step = 0; step < 3; step++) {
          const b = batch(s.n, s.t, s.f, 100 + step);
          // tfjs reference at the model's current weights, through the tfjs ops path.
          setNativeRnnEnabled(false);
          const { value, grads } = tf.variableGrads(() => tfjsLoss(model, b, s.t, s.f), vars);
          const refGrads = flat(vars.map((v) => grads[v.name]));
          setNativeRnnEnabled(true);
          const lossSum = trainer.step(b.x, b.y, b.w, s.n);
          const wsum = b.w.reduce((a, c) => a + c, 0);
          expect(Math.abs(lossSum / wsum - value.dataSync()[0]) / value.dataSync()[0]).toBeLessThan(1e-5);
          const nat = trainer.lastGradients();
          // Per weight, so a wrong head gradient cannot hide behind a large recurrent one.
          let at = 0;
          for (const v of vars) {
            expect(relDiff(nat.subarray(at, at + v.size), refGrads.subarray(at, at + v.size)), `gradient of ${v.name} at step ${step}`).toBeLessThan(1e-4);
            at += v.size;
          }
          // tfjs's Adam given the native gradients must land on the native parameters.
          let off = 0;
          optimizer.applyGradients(vars.map((v) => ({ name: v.name, tensor: tf.tensor(nat.slice(off, (off += v.size)), v.shape) })));
          const tfjsParams = flat(vars);
          trainer.syncToModel();
          const nativeParams = flat(model.getWeights());
          expect(relDiff(nativeParams, tfjsParams), `parameters after Adam step ${step}`).toBeLessThan(1e-6);
          tf.dispose([value, ...Object.values(grads)]);
        }
      } finally {
        optimizer.dispose();
        model.dispose();
      }
    });
  }

  it('predict: the native classifier gives model.predict\'s probabilities (GRU and LSTM), one window and a batch', () => {
    for (const cell of ['gru', 'lstm'] as const) {
      const model = buildRnnModel(tf, { cell, units: 24, layers: 1, dropout: 0, window: 9, nFeatures: 5, seed: 2 });
      model.setWeights(model.getWeights().map((w, i) => (w.rank === 1 ? tf.randomUniform(w.shape, -0.5, 0.5, 'float32', 40 + i) : w)));
      for (const n of [1, 53]) {
        const { x } = batch(n, 9, 5, 7 + n);
        setNativeRnnEnabled(false);
        const ref = tf.tidy(() => (model.predict(tf.tensor3d(x, [n, 9, 5])) as tfNs.Tensor).dataSync() as Float32Array);
        setNativeRnnEnabled(true);
        const nat = nativePredict(model, x, n)!;
        expect(nat.length).toBe(n * 3);
        expect(relDiff(nat, ref)).toBeLessThan(2e-5);
        expect(relDiff(predictRnn(tf, model, x, n, 9, 5), ref)).toBeLessThan(2e-5);
      }
      model.dispose();
    }
  });

  it('predict follows the model\'s weights: after setWeights and after a native training step, not the first weights seen', () => {
    const model = buildRnnModel(tf, { cell: 'gru', units: 16, layers: 1, dropout: 0, window: 6, nFeatures: 4, seed: 3 });
    const { x } = batch(11, 6, 4, 21);
    const ref = () => {
      setNativeRnnEnabled(false);
      const r = tf.tidy(() => (model.predict(tf.tensor3d(x, [11, 6, 4])) as tfNs.Tensor).dataSync() as Float32Array);
      setNativeRnnEnabled(true);
      return r;
    };
    try {
      const first = nativePredict(model, x, 11)!;
      expect(relDiff(first, ref())).toBeLessThan(2e-5);
      expect(Array.from(nativePredict(model, x, 11)!)).toEqual(Array.from(first));
      model.setWeights(model.getWeights().map((w, i) => tf.randomUniform(w.shape, -0.5, 0.5, 'float32', 60 + i)));
      const second = nativePredict(model, x, 11)!;
      expect(relDiff(second, first)).toBeGreaterThan(1e-3);
      expect(relDiff(second, ref())).toBeLessThan(2e-5);
      const trainer = NativeRnnTrainer.create(tf, model, 11, { learningRate: 0.05, epsilon: tf.backend().epsilon() })!;
      const b = batch(11, 6, 4, 22);
      trainer.step(b.x, b.y, b.w, 11);
      trainer.syncToModel();
      const third = nativePredict(model, x, 11)!;
      expect(relDiff(third, second)).toBeGreaterThan(1e-6);
      expect(relDiff(third, ref())).toBeLessThan(2e-5);
    } finally {
      model.dispose();
    }
  });
});

describe.runIf(canBuild)('which models take the native classifier path', () => {
  it('only [first recurrent layer -> Dense(3, softmax)]: dropout, stacked layers and tf.layers cells keep tfjs', () => {
    const base = { cell: 'gru' as RnnCell, units: 8, layers: 1, dropout: 0, window: 4, nFeatures: 2, seed: 1 };
    const opts = { learningRate: 1e-3, epsilon: 1e-7 };
    const plain = buildRnnModel(tf, base);
    expect(NativeRnnTrainer.create(tf, plain, 8, opts)).not.toBeNull();
    expect(nativePredict(plain, new Float32Array(8), 1)).not.toBeNull();
    setNativeRnnEnabled(false);
    expect(NativeRnnTrainer.create(tf, plain, 8, opts)).toBeNull();
    expect(nativePredict(plain, new Float32Array(8), 1)).toBeNull();
    setNativeRnnEnabled(true);
    for (const other of [{ ...base, dropout: 0.2 }, { ...base, layers: 2 }, { ...base, impl: 'layers' as const }]) {
      const m = buildRnnModel(tf, other);
      expect(NativeRnnTrainer.create(tf, m, 8, opts)).toBeNull();
      expect(nativePredict(m, new Float32Array(8), 1)).toBeNull();
      m.dispose();
    }
    plain.dispose();
  });

  it('a model trained natively saves, loads in tfjs and predicts the same as the tfjs ops path', async () => {
    const n = 300, t = 6, f = 3;
    const rng = mulberry32(5);
    const x = Float32Array.from({ length: n * t * f }, () => rng() * 2 - 1);
    const y = Uint8Array.from({ length: n }, (_, i) => (x[(i * t + t - 1) * f] > 0.3 ? 2 : x[(i * t + t - 1) * f] < -0.3 ? 0 : 1));
    const d = { x, y, n, window: t, nFeatures: f };
    const r = await trainRnn(tf, d, d, { cell: 'lstm', units: 16, epochs: 3, batchSize: 64, seed: 2, learningRate: 0.01 });
    const saved = await serializeLayersModel(r.model);
    const loaded = await deserializeLayersModel(tf, saved.modelJson, saved.weights);
    setNativeRnnEnabled(false);
    const ref = tf.tidy(() => (loaded.predict(tf.tensor3d(x, [n, t, f])) as tfNs.Tensor).dataSync() as Float32Array);
    setNativeRnnEnabled(true);
    expect(relDiff(predictRnn(tf, r.model, x, n, t, f), ref)).toBeLessThan(2e-5);
    // And the weights really moved: a fresh model with the same seed predicts differently.
    const fresh = buildRnnModel(tf, { cell: 'lstm', units: 16, layers: 1, dropout: 0, window: t, nFeatures: f, seed: 2 });
    expect(relDiff(predictRnn(tf, fresh, x, n, t, f), ref)).toBeGreaterThan(1e-3);
    for (const m of [r.model, loaded, fresh]) m.dispose();
  });

  it('a bad call is a clear error: labels outside the classes, a batch larger than the trainer', () => {
    const model = buildRnnModel(tf, { cell: 'gru', units: 8, layers: 1, dropout: 0, window: 4, nFeatures: 2, seed: 1 });
    const trainer = NativeRnnTrainer.create(tf, model, 4, { learningRate: 1e-3, epsilon: 1e-7 })!;
    const b = batch(4, 4, 2, 1);
    b.y[2] = 3;
    expect(() => trainer.step(b.x, b.y, b.w, 4)).toThrow(/labels\[2\] = 3 is not a class in \[0, 3\)/);
    expect(() => trainer.step(batch(5, 4, 2, 1).x, new Int32Array(5), new Float32Array(5), 5)).toThrow(/batch of 5 windows exceeds the trainer's 4/);
    model.dispose();
  });
});

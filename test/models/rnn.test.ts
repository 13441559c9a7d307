import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { initTf, type Tf } from '../../src/models/tf-backend.js';
import { evaluateRnn, mulberry32, predictRnn, RnnInputError, trainRnn, type SequenceData } from '../../src/models/rnn/index.js';
import { loadedModule, nativeRnnStatus, setNativeRnnEnabled } from '../../src/native/rnn.js';

let tf: Tf;
beforeAll(async () => {
  tf = (await initTf()).tf;
});

/** label = sign of the sum of feature 0 over the window (flat when |sum| is small); 2 noise features. */
function sumTask(n: number, seed: number, window = 10, nFeatures = 3, randomLabels = false): SequenceData {
  const rng = mulberry32(seed);
  const x = new Float32Array(n * window * nFeatures);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let t = 0; t < window; t++) {
      for (let f = 0; f < nFeatures; f++) {
        const v = rng() * 2 - 1;
        x[(i * window + t) * nFeatures + f] = v;
        if (f === 0) sum += v;
      }
    }
    y[i] = randomLabels ? Math.floor(rng() * 3) : sum > 0.6 ? 2 : sum < -0.6 ? 0 : 1;
  }
  return { x, y, n, window, nFeatures };
}

describe('trainRnn', () => {
  it('learns a synthetic sequence task well above chance (GRU) without tensor growth across epochs', async () => {
    const train = sumTask(2000, 1);
    const val = sumTask(500, 2);
    const tensorsAtEpoch: number[] = [];
    const epochs: number[] = [];
    const before = tf.memory().numTensors;
    const r = await trainRnn(tf, train, val, { cell: 'gru', units: 16, epochs: 8, patience: 8, batchSize: 128, learningRate: 0.02, seed: 7 }, {
      onEpoch: (e) => {
        epochs.push(e.epoch);
        tensorsAtEpoch.push(tf.memory().numTensors);
        expect(e.epochs).toBe(8);
        expect(e.etaS).toBeGreaterThanOrEqual(0);
      },
    });
    expect(epochs).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const last = r.history[r.bestEpoch - 1];
    // Chance on this label mix is ~0.4 (majority class); a GRU that sums the window gets far higher.
    expect(last.valAccuracy).toBeGreaterThan(0.75);
    expect(new Set(tensorsAtEpoch.slice(1)).size).toBe(1);
    expect(r.cancelled).toBe(false);
    expect(r.windowsPerSecond).toBeGreaterThan(0);
    const probs = predictRnn(tf, r.model, val.x, val.n, val.window, val.nFeatures);
    expect(probs.length).toBe(val.n * 3);
    let hits = 0;
    for (let i = 0; i < val.n; i++) {
      const row = Array.from(probs.subarray(i * 3, i * 3 + 3));
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      if (row.indexOf(Math.max(...row)) === val.y[i]) hits++;
    }
    expect(hits / val.n).toBeCloseTo(last.valAccuracy, 5);
    r.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects malformed data naming the field', async () => {
    const ok = sumTask(20, 1, 4, 2);
    await expect(trainRnn(tf, { ...ok, n: 21 }, ok, { cell: 'gru', epochs: 1 })).rejects.toThrow(/train\.x has 160 values, expected .* = 168/);
    const badY = { ...ok, y: ok.y.slice() };
    badY.y[5] = 3;
    await expect(trainRnn(tf, ok, badY, { cell: 'gru', epochs: 1 })).rejects.toThrow(/val\.y\[5\] = 3/);
    const nan = { ...ok, x: ok.x.slice() };
    nan.x[2 * 4 * 2 + 1] = Number.NaN;
    await expect(trainRnn(tf, nan, ok, { cell: 'gru', epochs: 1 })).rejects.toThrow(RnnInputError);
    await expect(trainRnn(tf, nan, ok, { cell: 'gru', epochs: 1 })).rejects.toThrow(/window 2, feature 1/);
    const inf = { ...ok, x: ok.x.slice() };
    inf.x[ok.x.length - 1] = -Infinity; // the last value: past the 4-wide finiteness sums' main loop
    await expect(trainRnn(tf, ok, inf, { cell: 'gru', epochs: 1 })).rejects.toThrow(/val\.x holds a non-finite value \(-Infinity\) in window 19, feature 1/);
    await expect(trainRnn(tf, ok, ok, { cell: 'gru', epochs: 1, batchSize: 0 })).rejects.toThrow('batchSize must be a positive integer, got 0');
    await expect(trainRnn(tf, ok, ok, { cell: 'gru', epochs: 1, dropout: 1 })).rejects.toThrow('dropout must be in [0, 1), got 1');
    const other = sumTask(20, 1, 5, 2);
    await expect(trainRnn(tf, ok, other, { cell: 'gru', epochs: 1 })).rejects.toThrow(/\[5 x 2\] but train windows are \[4 x 2\]/);
  });
});

// Early stopping, best weights and cancelling on both training paths: the native classifier step
// (one kernel call per batch, weights synced into the model after each epoch) and tfjs's graph.
const paths = nativeRnnStatus().active ? (['native', 'tfjs'] as const) : (['tfjs'] as const);
describe.each(paths)('trainRnn on the %s path', (path) => {
  beforeEach(() => setNativeRnnEnabled(path === 'native'));
  afterEach(() => setNativeRnnEnabled(true));
  /** Kernel time per thread since the last reset: Adam ran natively iff this is the native path. */
  const adamTicks = () => (nativeRnnStatus().active ? loadedModule().profile().phases.adam : 0);
  const profileReset = () => void adamTicks();
  const expectPath = () => (path === 'native' ? expect(adamTicks()).toBeGreaterThan(0) : expect(adamTicks()).toBe(0));

  it('stops early and restores the best epoch weights (LSTM)', async () => {
    profileReset();
    // Random labels: the model can only memorise, so val loss rises after the first epochs.
    const train = sumTask(400, 3, 6, 3, true);
    const val = sumTask(300, 4, 6, 3, true);
    const before = tf.memory().numTensors;
    const r = await trainRnn(tf, train, val, { cell: 'lstm', units: 32, epochs: 30, patience: 2, batchSize: 32, learningRate: 0.02, seed: 3 });
    expect(r.stoppedEarly).toBe(true);
    expect(r.history.length).toBeLessThan(30);
    expect(r.history.length).toBe(r.bestEpoch + 2);
    const bestLoss = Math.min(...r.history.map((h) => h.valLoss));
    expect(r.history[r.bestEpoch - 1].valLoss).toBe(bestLoss);
    // The final epoch was worse than the best, so a model that kept its last weights would score worse.
    expect(r.history[r.history.length - 1].valLoss).toBeGreaterThan(bestLoss);
    expectPath();
    const [loss] = evaluateRnn(tf, r.model, val, 64);
    expect(loss).toBeCloseTo(bestLoss, 5);
    r.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('cancels within one batch of an abort', async () => {
    profileReset();
    const train = sumTask(1000, 5);
    const val = sumTask(100, 6);
    const ac = new AbortController();
    const seen: Array<[number, number]> = [];
    const r = await trainRnn(tf, train, val, { cell: 'gru', units: 8, epochs: 5, batchSize: 50, seed: 1 }, {
      signal: ac.signal,
      onBatch: (b) => {
        seen.push([b.epoch, b.batch]);
        expect(b.batches).toBe(20);
        if (b.epoch === 2 && b.batch === 3) ac.abort();
      },
    });
    expectPath();
    expect(r.cancelled).toBe(true);
    expect(seen[seen.length - 1]).toEqual([2, 3]);
    expect(seen.length).toBe(23);
    // The completed first epoch's weights are kept, not those of the batches after it.
    expect(r.bestEpoch).toBe(1);
    expect(r.history.length).toBe(1);
    expect(evaluateRnn(tf, r.model, val, 64)[0]).toBeCloseTo(r.history[0].valLoss, 5);
    r.model.dispose();
  });
});

import { describe, expect, it } from 'vitest';
import {
  binMatrix,
  binOf,
  fitCuts,
  GbdtAbortedError,
  GbdtInputError,
  GbdtModel,
  GbdtModelFormatError,
  logLoss,
  mulberry32,
  trainGbdt,
  type GbdtDataset,
} from '../../src/models/gbdt/index.js';

/** n rows x nCols uniform(-1, 1) features, labelled by `label`. */
function synth(n: number, nCols: number, seed: number, label: (x: Float32Array) => number): GbdtDataset {
  const rand = mulberry32(seed);
  const data = new Float32Array(n * nCols);
  const labels = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < nCols; j++) data[r * nCols + j] = rand() * 2 - 1;
    labels[r] = label(data.subarray(r * nCols, (r + 1) * nCols));
  }
  return { data, nRows: n, nCols, labels };
}

const accuracy = (m: GbdtModel, d: GbdtDataset) => {
  const c = m.predictClass(d.data, d.nRows);
  let ok = 0;
  for (let i = 0; i < d.nRows; i++) if (c[i] === d.labels[i]) ok++;
  return ok / d.nRows;
};

const band = (x: Float32Array) => (x[2] < -0.3 ? 0 : x[2] < 0.3 ? 1 : 2);
const xor = (x: Float32Array) => (x[0] * x[1] > 0 ? 2 : 0);

describe('binning', () => {
  it('uses at most 255 bins and routes x < cut exactly like bin <= s', () => {
    const d = synth(3000, 2, 1, () => 0);
    const cuts = fitCuts(d.data, d.nRows, d.nCols, 255);
    expect(cuts[0].length).toBeLessThanOrEqual(254);
    const bins = binMatrix(d.data, d.nRows, d.nCols, cuts);
    expect(Math.max(...bins)).toBeLessThanOrEqual(254);
    for (let r = 0; r < 500; r++) {
      const x = d.data[r * 2];
      const b = bins[r * 2];
      for (const s of [0, 10, 100, 200]) expect(b <= s).toBe(x < cuts[0][s]);
    }
    // Few distinct values: one bin each.
    const few = fitCuts(Float32Array.from([3, 1, 2, 1, 3]), 5, 1);
    expect(Array.from(few[0])).toEqual([2, 3]);
    expect([1, 2, 3, NaN].map((v) => binOf(v, few[0]))).toEqual([0, 1, 2, 2]);
  });
});

describe('trainGbdt', () => {
  it('learns a separable 3-class problem (accuracy > 0.9) and ranks the informative feature first', async () => {
    const train = synth(3000, 5, 2, band);
    const test = synth(1000, 5, 3, band);
    const m = await trainGbdt(train, { params: { rounds: 30 }, featureNames: ['a', 'b', 'signal', 'd', 'e'] });
    expect(accuracy(m, test)).toBeGreaterThan(0.9);
    expect(m.featureImportance()[0].name).toBe('signal');
    const p = m.predictProbaRow(test.data.subarray(0, 5));
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('beats the majority class on XOR, where no single split helps', async () => {
    const train = synth(4000, 4, 4, xor);
    const test = synth(1000, 4, 5, xor);
    const counts = [0, 0, 0];
    for (const l of test.labels) counts[l]++;
    const majority = Math.max(...counts) / test.nRows;
    const m = await trainGbdt(train, { params: { rounds: 40, maxDepth: 4 } });
    expect(accuracy(m, test)).toBeGreaterThan(0.9);
    expect(accuracy(m, test)).toBeGreaterThan(majority + 0.3);
  });

  it('serialises compactly and round-trips to identical predictions', async () => {
    const train = synth(2000, 6, 6, band);
    const m = await trainGbdt(train, { params: { rounds: 200, subsample: 0.8, colsampleBytree: 0.7, seed: 7 } });
    const text = JSON.stringify(m.toJSON());
    expect(text.length).toBeLessThan(400_000);
    const back = GbdtModel.fromJSON(JSON.parse(text));
    expect(back.nRounds).toBe(200);
    expect(Array.from(back.predictProba(train.data))).toEqual(Array.from(m.predictProba(train.data)));
    expect(back.featureImportance()).toEqual(m.featureImportance());
    // Same seed, same model; another seed, another model.
    const again = await trainGbdt(train, { params: { rounds: 5, subsample: 0.8, colsampleBytree: 0.7, seed: 7 } });
    const other = await trainGbdt(train, { params: { rounds: 5, subsample: 0.8, colsampleBytree: 0.7, seed: 8 } });
    const again2 = await trainGbdt(train, { params: { rounds: 5, subsample: 0.8, colsampleBytree: 0.7, seed: 7 } });
    expect(Array.from(again2.predictProba(train.data))).toEqual(Array.from(again.predictProba(train.data)));
    expect(Array.from(other.predictProba(train.data))).not.toEqual(Array.from(again.predictProba(train.data)));
  });

  it('early stopping restores the best iteration', async () => {
    // Noisy labels: validation loss bottoms out early and then rises as the trees overfit.
    const noisy = (seed: number) => {
      const rand = mulberry32(seed + 100);
      return synth(800, 6, seed, (x) => (rand() < 0.35 ? Math.floor(rand() * 3) : band(x)));
    };
    const train = noisy(8);
    const valid = noisy(9);
    const rounds: number[] = [];
    const m = await trainGbdt(train, {
      valid,
      params: { rounds: 300, eta: 0.3, maxDepth: 6, earlyStoppingRounds: 10 },
      onRound: (r) => rounds.push(r.round),
    });
    const losses = m.history.map((h) => h.valLoss!);
    const best = losses.indexOf(Math.min(...losses));
    expect(rounds.length).toBeLessThan(300);
    expect(m.bestIteration).toBe(best);
    expect(m.history.length).toBe(best + 1 + 10);
    expect(m.nRounds).toBe(best + 1);
    // The kept model is the best one: its validation loss is the minimum of the history.
    const p = m.predictProba(valid.data);
    const margin = Float64Array.from(p, (v) => Math.log(v));
    expect(logLoss(margin, valid.labels, 3)).toBeCloseTo(losses[best], 5);
  });

  it('reports progress every round and stops within one round of an abort', async () => {
    const train = synth(2000, 5, 10, band);
    const valid = synth(500, 5, 11, band);
    const ac = new AbortController();
    const seen: { round: number; trainLoss: number; valLoss?: number }[] = [];
    const run = trainGbdt(train, {
      valid,
      params: { rounds: 500 },
      signal: ac.signal,
      onRound: (r) => {
        seen.push(r);
        if (r.round === 2) ac.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(GbdtAbortedError);
    expect(seen.map((r) => r.round)).toEqual([0, 1, 2]);
    expect(seen[2].trainLoss).toBeLessThan(seen[0].trainLoss);
    expect(seen.every((r) => typeof r.valLoss === 'number')).toBe(true);

    // An abort from outside (a timer, like a worker's "cancel" message) lands between rounds.
    const ac2 = new AbortController();
    let count = 0;
    let countAtAbort = -1;
    const run2 = trainGbdt(train, { params: { rounds: 5000 }, signal: ac2.signal, onRound: () => count++ });
    const deadline = Date.now() + 30_000;
    while (count < 3 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    countAtAbort = count;
    ac2.abort();
    const err = await run2.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GbdtAbortedError);
    expect(count - countAtAbort).toBeLessThanOrEqual(1);
    expect((err as GbdtAbortedError).roundsDone).toBe(count);
  });

  it('raw-value prediction routes rows exactly as binned training did (NaN included)', async () => {
    const train = synth(1500, 4, 13, band);
    for (let r = 0; r < train.nRows; r += 7) train.data[r * 4 + 2] = NaN;
    const m = await trainGbdt(train, { params: { rounds: 25, subsample: 0.7, seed: 3 } });
    const p = m.predictProba(train.data);
    const margin = Float64Array.from(p, (v) => Math.log(v));
    // Same loss to float32-probability precision: every row reached the same leaves.
    expect(logLoss(margin, train.labels, 3)).toBeCloseTo(m.history.at(-1)!.trainLoss, 5);
  });

  it('rejects bad input with clear errors', async () => {
    const d = synth(100, 3, 12, band);
    await expect(trainGbdt({ ...d, labels: d.labels.subarray(0, 50) })).rejects.toThrow(/50 labels for 100 rows/);
    await expect(trainGbdt({ ...d, labels: d.labels.map(() => 3) })).rejects.toThrow(GbdtInputError);
    await expect(trainGbdt(d, { params: { earlyStoppingRounds: 5 } })).rejects.toThrow(/validation set/);
    expect(() => GbdtModel.fromJSON({ format: 'other' })).toThrow(GbdtModelFormatError);
    const m = await trainGbdt(d, { params: { rounds: 2 } });
    const j = m.toJSON();
    expect(() => GbdtModel.fromJSON({ ...j, nodeFeatures: j.nodeBins }, 'gbdt.json')).toThrow(/gbdt.json: corrupt/);
    expect(() => m.predictProba(new Float32Array(7))).toThrow(GbdtInputError);
  });
});

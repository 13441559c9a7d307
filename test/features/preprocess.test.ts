import { describe, expect, it } from 'vitest';
import {
  assertFeatureSchema,
  buildFeatureMetadata,
  CLIP,
  diffFeatureSchema,
  FeatureSchemaMismatchError,
  Preprocessor,
  PreprocessorError,
  schemaHash,
} from '../../src/features/preprocess.js';

describe('Preprocessor', () => {
  // Two columns; col 1 is constant.
  const data = Float32Array.from([1, 5, 2, 5, 3, 5, 4, 5, 1000, 5, -1000, 5]);
  const names = ['a', 'b'];

  it('fits mean/std on the training rows only, then scales and clips every row', () => {
    const pre = Preprocessor.fit(data, 2, names, { start: 0, end: 4 });
    expect(pre.stats.mean).toEqual([2.5, 5]);
    expect(pre.stats.std[0]).toBeCloseTo(Math.sqrt(1.25), 12);
    expect(pre.stats.std[1]).toBe(1); // constant column -> std 1, maps to 0
    const out = pre.transform(data);
    expect(out[0]).toBeCloseTo(-1.5 / Math.sqrt(1.25), 6);
    expect(out[1]).toBe(0);
    expect(out[8]).toBe(CLIP);
    expect(out[10]).toBe(-CLIP);
  });

  it('changing rows outside the training slice does not change the scaler', () => {
    const a = Preprocessor.fit(data, 2, names, { start: 0, end: 4 });
    const changed = data.slice();
    for (let i = 8; i < changed.length; i++) changed[i] = 12345 + i;
    const b = Preprocessor.fit(changed, 2, names, { start: 0, end: 4 });
    expect(b.toJSON()).toEqual(a.toJSON());
    const c = Preprocessor.fit(changed, 2, names, { start: 0, end: 5 });
    expect(c.stats.mean[0]).not.toBe(a.stats.mean[0]);
  });

  it('round-trips through JSON and rejects bad JSON naming the key', () => {
    const pre = Preprocessor.fit(data, 2, names, { start: 0, end: 4 });
    const back = Preprocessor.fromJSON(JSON.parse(JSON.stringify(pre)));
    expect(Array.from(back.transform(data))).toEqual(Array.from(pre.transform(data)));
    expect(() => Preprocessor.fromJSON({ names, mean: [1], std: [1, 1] }, 'pre.json')).toThrow(/pre.json: "mean"/);
    expect(() => Preprocessor.fromJSON({ names, mean: [1, 2], std: [1, 0] }, 'pre.json')).toThrow(PreprocessorError);
    expect(() => Preprocessor.fit(data, 2, ['a'], { start: 0, end: 4 })).toThrow(PreprocessorError);
  });
});

describe('feature schema', () => {
  const pre = Preprocessor.fit(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), 3, ['x', 'y', 'z'], { start: 0, end: 3 });

  it('hashes names + order + window + version', () => {
    const meta = buildFeatureMetadata(pre, 48);
    expect(meta.order).toEqual([0, 1, 2]);
    expect(meta.schemaHash).toMatch(/^[0-9a-f]{64}$/);
    expect(meta.schemaHash).toBe(schemaHash(['x', 'y', 'z'], [0, 1, 2], 48));
    expect(schemaHash(['x', 'y', 'z'], [0, 1, 2], 24)).not.toBe(meta.schemaHash);
    expect(schemaHash(['y', 'x', 'z'], [0, 1, 2], 48)).not.toBe(meta.schemaHash);
    expect(schemaHash(['x', 'y', 'z'], [0, 1, 2], 48, 99)).not.toBe(meta.schemaHash);
  });

  it('diff reports added, removed and reordered names', () => {
    const saved = { names: ['a', 'b', 'c', 'd'], window: 48 };
    expect(diffFeatureSchema(saved, { names: ['a', 'b', 'c', 'd'], window: 48 })).toEqual({ added: [], removed: [], reordered: [], ok: true });
    const d = diffFeatureSchema(saved, { names: ['a', 'c', 'b', 'e'], window: 48 });
    expect(d).toEqual({ added: ['e'], removed: ['d'], reordered: ['b', 'c'], ok: false });
    // An added column alone does not make the shared ones "reordered".
    expect(diffFeatureSchema(saved, { names: ['new', 'a', 'b', 'c', 'd'], window: 48 }).reordered).toEqual([]);
    expect(diffFeatureSchema(saved, { names: saved.names, window: 24 })).toMatchObject({ ok: false, windowChanged: { saved: 48, current: 24 } });
  });

  it('a mismatch throws FeatureSchemaMismatchError carrying the diff', () => {
    let caught: unknown;
    try {
      assertFeatureSchema({ names: ['a', 'b'], window: 1 }, { names: ['b', 'a', 'c'], window: 1 }, 'gbdt BTC/USDT');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(FeatureSchemaMismatchError);
    const err = caught as FeatureSchemaMismatchError;
    expect(err.diff).toMatchObject({ added: ['c'], removed: [], reordered: ['a', 'b'], ok: false });
    expect(err.message).toMatch(/gbdt BTC\/USDT: .*added \[c\]/);
    expect(() => assertFeatureSchema({ names: ['a'], window: 1 }, { names: ['a'], window: 1 })).not.toThrow();
  });
});

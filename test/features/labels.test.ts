import { describe, expect, it } from 'vitest';
import { classCounts, DOWN, FLAT, makeLabels, UP } from '../../src/features/labels.js';

describe('makeLabels', () => {
  const closes = [100, 101, 100.9, 100, 100.5];

  it('labels the forward return against the threshold; last horizon rows get none', () => {
    // +1%, -0.099%, -0.892%, +0.5%
    expect(Array.from(makeLabels(closes, 1, 0.002))).toEqual([UP, FLAT, DOWN, UP]);
    // horizon 2: +0.9%, -0.99%, -0.396%
    expect(Array.from(makeLabels(closes, 2, 0.002))).toEqual([UP, DOWN, DOWN]);
    // A threshold above every move: all flat.
    expect(Array.from(makeLabels(closes, 1, 0.05))).toEqual([FLAT, FLAT, FLAT, FLAT]);
    expect(makeLabels([1, 2], 5, 0).length).toBe(0);
  });

  it('counts classes and rejects bad arguments', () => {
    expect(classCounts(makeLabels(closes, 1, 0.002))).toEqual([1, 1, 2]);
    expect(() => makeLabels(closes, 0, 0.002)).toThrow(/horizon/);
    expect(() => makeLabels(closes, 1, -1)).toThrow(/threshold/);
  });
});

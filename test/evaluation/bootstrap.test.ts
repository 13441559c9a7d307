import { describe, expect, it } from 'vitest';
import { blockLengthFor, bootstrapMeans, lowerBound } from '../../src/evaluation/bootstrap.js';
import { mulberry32 } from '../../src/util/random.js';

const noise = (n: number, seed: number, mean = 0, sd = 1): Float64Array => {
  const r = mulberry32(seed);
  return Float64Array.from({ length: n }, () => mean + sd * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()));
};

describe('block bootstrap of a mean', () => {
  it('a constant vector has every resampled mean equal to it', () => {
    const m = bootstrapMeans(new Float64Array(500).fill(0.25), { blockLength: 48, resamples: 200 });
    expect(m.length).toBe(200);
    expect(m[0]).toBeCloseTo(0.25, 14);
    expect(m[199]).toBeCloseTo(0.25, 14);
    expect(lowerBound(m, 0.9)).toBeCloseTo(0.25, 14);
  });

  it('is seeded: the same vector gives the same bounds; another seed other ones', () => {
    const x = noise(2000, 1);
    const a = bootstrapMeans(x, { blockLength: 24 });
    expect(Array.from(bootstrapMeans(x, { blockLength: 24 }))).toEqual(Array.from(a));
    expect(Array.from(bootstrapMeans(x, { blockLength: 24, seed: 9 }))).not.toEqual(Array.from(a));
  });

  it('brackets the mean: the 90 % lower bound of zero-mean noise is below 0, of clearly positive data above 0', () => {
    const zero = bootstrapMeans(noise(3000, 2), { blockLength: 24 });
    expect(lowerBound(zero, 0.9)).toBeLessThan(0);
    const pos = bootstrapMeans(noise(3000, 3, 0.2), { blockLength: 24 });
    expect(lowerBound(pos, 0.9)).toBeGreaterThan(0.1);
    expect(lowerBound(pos, 0.99)).toBeLessThan(lowerBound(pos, 0.9));
  });

  it('blocks widen the bound of autocorrelated data (what single-candle resampling would miss)', () => {
    // AR(1) with phi 0.9: long runs, like a position held for many candles.
    const e = noise(4000, 4);
    const x = new Float64Array(4000);
    for (let i = 1; i < 4000; i++) x[i] = 0.9 * x[i - 1] + e[i];
    const spread = (L: number) => {
      const m = bootstrapMeans(x, { blockLength: L });
      return m[m.length - 1 - Math.floor(m.length * 0.05)] - m[Math.floor(m.length * 0.05)];
    };
    expect(spread(48)).toBeGreaterThan(2 * spread(1));
  });

  it('two days of candles per block, clamped', () => {
    expect(blockLengthFor(3_600_000)).toBe(48);
    expect(blockLengthFor(60_000)).toBe(200);
    expect(blockLengthFor(86_400_000)).toBe(10);
  });
});

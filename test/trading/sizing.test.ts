import { describe, expect, it } from 'vitest';
import { decideOrder, entryThreshold, medianOf, realisedVolatility } from '../../src/trading/sizing.js';

describe('entryThreshold', () => {
  it('equals the base when the symbol is as volatile as the median', () => {
    expect(entryThreshold(0.02, 0.02, 0.55)).toBeCloseTo(0.55, 12);
  });
  it('scales by sqrt of the volatility ratio', () => {
    // ratio 1.44 -> sqrt 1.2
    expect(entryThreshold(0.0144, 0.01, 0.5)).toBeCloseTo(0.6, 12);
  });
  it('clamps the ratio to [0.5, 2]', () => {
    expect(entryThreshold(0.04, 0.01, 0.55)).toBeCloseTo(0.55 * Math.SQRT2, 12);
    expect(entryThreshold(0.001, 0.01, 0.55)).toBeCloseTo(0.55 * Math.SQRT1_2, 12);
  });
  it('caps at 0.99 and falls back to base on missing volatility', () => {
    expect(entryThreshold(1, 0.01, 0.9)).toBe(0.99);
    expect(entryThreshold(Number.NaN, 0.01, 0.55)).toBe(0.55);
    expect(entryThreshold(0.02, 0, 0.55)).toBe(0.55);
  });
});

describe('realisedVolatility / medianOf', () => {
  it('computes the sample std of log returns', () => {
    // returns: ln(1.1), ln(1/1.1), ln(1.1): mean m = ln(1.1)/3
    const r = Math.log(1.1);
    const xs = [r, -r, r];
    const m = r / 3;
    const expected = Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / 2);
    expect(realisedVolatility([100, 110, 100, 110])).toBeCloseTo(expected, 12);
    expect(realisedVolatility([100, 101])).toBe(0);
  });
  it('takes the median of positive finite values', () => {
    expect(medianOf([3, 1, 2])).toBe(2);
    expect(medianOf([4, 1, 2, 3, 0, Number.NaN])).toBe(2.5);
    expect(medianOf([])).toBe(0);
  });
});

describe('decideOrder (long-only)', () => {
  const t = 0.6;
  it('buys a confident bullish signal when flat, holds when already long', () => {
    expect(decideOrder({ direction: 'bullish', confidence: 0.6 }, 0, 100, t).action).toBe('buy');
    expect(decideOrder({ direction: 'bullish', confidence: 0.9 }, 1, 100, t).action).toBe('hold');
  });
  it('holds below the threshold, even by a hair', () => {
    const d = decideOrder({ direction: 'bullish', confidence: 0.5999 }, 0, 100, t);
    expect(d).toEqual({ action: 'hold', reason: 'bullish confidence 0.600 < threshold 0.600' });
  });
  it('sells a confident bearish signal only when long', () => {
    expect(decideOrder({ direction: 'bearish', confidence: 0.7 }, 2, 100, t).action).toBe('sell');
    expect(decideOrder({ direction: 'bearish', confidence: 0.7 }, 0, 100, t)).toEqual({
      action: 'hold',
      reason: 'bearish but no position (long-only)',
    });
  });
  it('never trades neutral signals or on a bad price', () => {
    expect(decideOrder({ direction: 'neutral', confidence: 1 }, 0, 100, t).action).toBe('hold');
    expect(decideOrder({ direction: 'bullish', confidence: 1 }, 0, Number.NaN, t).reason).toBe('no valid price');
    expect(decideOrder({ direction: 'bullish', confidence: 1 }, 0, 0, t).action).toBe('hold');
  });
});

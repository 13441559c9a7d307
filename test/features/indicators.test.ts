import { describe, expect, it } from 'vitest';
import { atr, ema, rollingMax, rollingMin, rollingStd, rsi, sma } from '../../src/features/indicators.js';

const arr = (a: Float64Array) => Array.from(a);

describe('indicators (worked numbers)', () => {
  it('SMA is NaN until the look-back is full, then the plain mean', () => {
    expect(arr(sma([1, 2, 3, 4, 5], 3))).toEqual([NaN, NaN, 2, 3, 4]);
  });

  it('EMA is SMA-seeded, then alpha = 2/(n+1)', () => {
    // n=3 -> alpha 0.5; seed mean(2,4,6)=4; 0.5*8+0.5*4=6; 0.5*12+0.5*6=9
    expect(arr(ema([2, 4, 6, 8, 12], 3))).toEqual([NaN, NaN, 4, 6, 9]);
    // Leading NaNs (MACD line) shift the seed.
    expect(arr(ema([NaN, 2, 4, 6, 8], 3))).toEqual([NaN, NaN, NaN, 4, 6]);
  });

  it("RSI follows Wilder's smoothing", () => {
    const r = rsi([10, 11, 10.5, 11.5, 11, 12], 3);
    expect(Number.isNaN(r[2])).toBe(true);
    expect(r[3]).toBeCloseTo(80, 10); // gains 2/3, losses 1/6 -> RS 4
    expect(r[4]).toBeCloseTo(100 - 100 / 2.6, 10); // RS (4/9)/(5/18) = 1.6
    expect(r[5]).toBeCloseTo(100 - 100 / 4.4, 10); // RS (17/27)/(5/27) = 3.4
    expect(arr(rsi([1, 2, 3, 4], 3)).slice(3)).toEqual([100]);
    expect(arr(rsi([5, 5, 5, 5], 3)).slice(3)).toEqual([50]);
  });

  it('rolling std / max / min', () => {
    expect(arr(rollingStd([1, 2, 3, 5], 2))).toEqual([NaN, 0.5, 0.5, 1]);
    expect(arr(rollingStd([NaN, 2, 4], 2))).toEqual([NaN, NaN, 1]);
    expect(arr(rollingMax([3, 1, 2, 0], 2))).toEqual([NaN, 3, 2, 2]);
    expect(arr(rollingMin([3, 1, 2, 0], 2))).toEqual([NaN, 1, 1, 0]);
  });

  it("ATR uses the true range and Wilder's smoothing", () => {
    const high = [10, 12, 11, 13];
    const low = [9, 10, 9, 11];
    const close = [9.5, 11, 10, 12];
    // TR1 = max(2, |12-9.5|, |10-9.5|) = 2.5; TR2 = max(2, 0, 2) = 2; TR3 = max(2, 3, 1) = 3
    const a = atr(high, low, close, 2);
    expect(a[2]).toBeCloseTo(2.25, 12);
    expect(a[3]).toBeCloseTo((2.25 + 3) / 2, 12);
  });
});

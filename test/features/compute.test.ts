import { describe, expect, it } from 'vitest';
import {
  computeFeatures,
  featureColumn,
  FEATURES,
  FEATURE_NAMES,
  NotEnoughCandlesError,
  UnknownFeatureError,
  WARMUP_BARS,
} from '../../src/features/compute.js';
import { allFinite } from '../../src/features/clean.js';
import { geometricCandles, hasOhlcv, readCandles } from './helpers.js';

describe('computeFeatures on a handmade geometric series', () => {
  const g = 1.01;
  const candles = geometricCandles(WARMUP_BARS + 10, g);
  const m = computeFeatures(candles);
  const col = (name: string) => featureColumn(m, name);

  it('documents at least 28 unique features and drops the warm-up rows', () => {
    expect(m.names.length).toBeGreaterThanOrEqual(28);
    expect(new Set(m.names).size).toBe(m.names.length);
    expect(m.names).toEqual(FEATURE_NAMES);
    expect(FEATURES.every((f) => f.description.length > 5)).toBe(true);
    expect(m.nRows).toBe(10);
    expect(m.nCols).toBe(m.names.length);
    expect(m.data.length).toBe(m.nRows * m.nCols);
    expect(m.timestamps[0]).toBe(candles[WARMUP_BARS].timestamp);
    expect(m.closes[0]).toBe(candles[WARMUP_BARS].close);
    expect(allFinite(m.data)).toBe(true);
  });

  it('log returns over k bars are k * log(g)', () => {
    for (const k of [1, 2, 4, 8, 24, 48]) {
      for (const v of col(`ret_${k}`)) expect(v).toBeCloseTo(k * Math.log(g), 5);
    }
  });

  it('SMA gap, RSI, wick/body and rolling-extreme features match hand computation', () => {
    let s = 0;
    for (let k = 0; k < 10; k++) s += g ** -k;
    for (const v of col('sma_gap_10')) expect(v).toBeCloseTo(10 / s - 1, 6);
    for (const v of col('rsi_14')) expect(v).toBe(1); // only gains
    for (const v of col('body')) expect(v).toBeCloseTo(1 - 1 / g, 6);
    for (const v of col('upper_wick')) expect(v).toBeCloseTo(0.002, 6);
    for (const v of col('dist_high_48')) expect(v).toBeCloseTo(1 / 1.002 - 1, 6);
    for (const v of col('dist_low_48')) expect(v).toBeCloseTo(g ** 48 / 0.998 - 1, 5);
    for (const v of col('vol_24')) expect(v).toBeCloseTo(0, 6); // constant returns
    for (const v of col('gap_flag')) expect(v).toBe(0);
  });

  it('time features: row 0 is Thursday 2024-01-04 00:00 UTC', () => {
    expect(col('tod_sin')[0]).toBeCloseTo(0, 6);
    expect(col('tod_cos')[0]).toBeCloseTo(1, 6);
    expect(col('dow_sin')[0]).toBeCloseTo(Math.sin((2 * Math.PI * 4) / 7), 6);
    expect(col('tod_sin')[6]).toBeCloseTo(1, 6); // 06:00
  });

  it('is pure: same candles, same matrix; input untouched', () => {
    const copy = JSON.stringify(candles);
    const again = computeFeatures(candles);
    expect(Array.from(again.data)).toEqual(Array.from(m.data));
    expect(JSON.stringify(candles)).toBe(copy);
  });

  it('rejects too few candles and unknown feature names', () => {
    expect(() => computeFeatures(geometricCandles(WARMUP_BARS))).toThrow(NotEnoughCandlesError);
    expect(() => featureColumn(m, 'nope')).toThrow(UnknownFeatureError);
  });
});

describe('timestamp gaps', () => {
  it('returns span the gap from consecutive rows and gap_flag marks the look-back', () => {
    const candles = geometricCandles(200, 1.001);
    for (let i = 100; i < 200; i++) candles[i] = { ...candles[i], timestamp: candles[i].timestamp + 5 * 3_600_000 };
    const m = computeFeatures(candles);
    const flag = featureColumn(m, 'gap_flag');
    const flagged = [...flag.keys()].filter((r) => flag[r] === 1);
    // Candle 100 follows the hole; rows whose 72-bar look-back contains it: candles 100..171.
    expect(flagged).toEqual(Array.from({ length: 72 }, (_, k) => 100 - WARMUP_BARS + k));
    expect(featureColumn(m, 'ret_1')[100 - WARMUP_BARS]).toBeCloseTo(Math.log(1.001), 6);
  });
});

describe.skipIf(!hasOhlcv)('real BTC-USDT 1h candles', () => {
  it('gives a finite matrix with sane ranges', () => {
    const candles = readCandles('BTC-USDT-1h.csv');
    const m = computeFeatures(candles);
    expect(m.nRows).toBe(candles.length - WARMUP_BARS);
    expect(allFinite(m.data)).toBe(true);
    const rsiCol = featureColumn(m, 'rsi_14');
    expect(Math.min(...rsiCol)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...rsiCol)).toBeLessThanOrEqual(1);
    const pctb = featureColumn(m, 'bb_pctb');
    const inside = pctb.filter((v) => v >= 0 && v <= 1).length / pctb.length;
    expect(inside).toBeGreaterThan(0.8); // most closes sit inside the 2-sigma bands
    // SOURCES.md lists real gaps in this file: some rows must be flagged, most not.
    const gaps = featureColumn(m, 'gap_flag').reduce((a, b) => a + b, 0);
    expect(gaps).toBeGreaterThan(0);
    expect(gaps).toBeLessThan(m.nRows * 0.1);
  });
});

import { describe, expect, it } from 'vitest';
import { buildDataset, featuresForInference } from '../../src/features/dataset.js';
import { NotEnoughCandlesError, WARMUP_BARS } from '../../src/features/compute.js';
import { buildWindows, encodeSymbol, SplitError, timeSplit, UnknownSymbolError } from '../../src/features/split.js';
import { FeatureSchemaMismatchError, Preprocessor } from '../../src/features/preprocess.js';
import { allFinite } from '../../src/features/clean.js';
import { hasOhlcv, readCandles } from './helpers.js';

describe('timeSplit', () => {
  it('is time-ordered with no overlap and a purge gap of horizon + window', () => {
    const s = timeSplit(1000, { validationFraction: 0.15, testFraction: 0.15, horizon: 4, window: 24 });
    expect(s.gap).toBe(28);
    expect(s.train.start).toBe(23);
    expect(s.validation.start - s.train.end).toBe(28);
    expect(s.test.start - s.validation.end).toBe(28);
    expect(s.test.end).toBeLessThanOrEqual(1000);
    // Usable = 1000 - 23 - 56 = 921 -> 138 / 138 / 645.
    expect([s.train.end - s.train.start, s.validation.end - s.validation.start, s.test.end - s.test.start]).toEqual([645, 138, 138]);
    // Leakage check: the last train label looks at row train.end-1+horizon; the first validation
    // window starts at validation.start-window+1. They must not meet.
    expect(s.train.end - 1 + 4).toBeLessThan(s.validation.start - 24 + 1);
    expect(s.validation.end - 1 + 4).toBeLessThan(s.test.start - 24 + 1);
  });

  it('refuses splits that leave a slice empty', () => {
    expect(() => timeSplit(60, { validationFraction: 0.15, testFraction: 0.15, horizon: 1, window: 24 })).toThrow(SplitError);
    expect(() => timeSplit(1000, { validationFraction: 0.5, testFraction: 0.5, horizon: 1, window: 1 })).toThrow(SplitError);
  });
});

describe('windows and symbol encoding', () => {
  // 6 rows x 2 cols: value = row * 10 + col
  const data = Float32Array.from({ length: 12 }, (_, i) => Math.floor(i / 2) * 10 + (i % 2));

  it('builds [n, window, nFeatures] windows ending at each row', () => {
    const w = buildWindows(data, 2, { start: 2, end: 4 }, 3);
    expect(w).toMatchObject({ n: 2, window: 3, nFeatures: 2 });
    expect(Array.from(w.x)).toEqual([0, 1, 10, 11, 20, 21, 10, 11, 20, 21, 30, 31]);
    expect(() => buildWindows(data, 2, { start: 1, end: 3 }, 3)).toThrow(SplitError);
  });

  it('appends one_hot or index symbol codes to every step', () => {
    const map = { 'BTC/USDT': 0, 'ETH/USDT': 1, 'SOL/USDT': 2 };
    expect(encodeSymbol('ETH/USDT', map, 'one_hot')).toEqual([0, 1, 0]);
    expect(encodeSymbol('SOL/USDT', map, 'index')).toEqual([2]);
    expect(() => encodeSymbol('XRP/USDT', map, 'index')).toThrow(UnknownSymbolError);
    const w = buildWindows(data, 2, { start: 1, end: 2 }, 2, encodeSymbol('ETH/USDT', map, 'one_hot'));
    expect(Array.from(w.x)).toEqual([0, 1, 0, 1, 0, 10, 11, 0, 1, 0]);
  });
});

describe.skipIf(!hasOhlcv)('buildDataset on real BTC candles', () => {
  it('fits the scaler on training rows only and yields finite, aligned arrays', () => {
    const candles = readCandles('BTC-USDT-1h.csv').slice(0, 5000);
    const ds = buildDataset(candles, { horizon: 2, threshold: 0.002, window: 16, validationFraction: 0.2, testFraction: 0.2 });
    expect(ds.labels.length).toBe(ds.matrix.nRows - 2);
    expect(ds.split.test.end).toBeLessThanOrEqual(ds.labels.length);
    const expected = Preprocessor.fit(ds.raw, ds.matrix.nCols, ds.matrix.names, { start: 0, end: ds.split.train.end });
    expect(ds.preprocessor.toJSON()).toEqual(expected.toJSON());
    expect(allFinite(ds.scaled)).toBe(true);
    expect(ds.metadata.names).toEqual(ds.matrix.names);
    expect(ds.metadata.window).toBe(16);
    // Changing candles after the training slice leaves the scaler alone.
    const tampered = candles.map((c, i) => (i > 4500 ? { ...c, close: c.close * 3, high: c.high * 3 } : c));
    const ds2 = buildDataset(tampered, { horizon: 2, threshold: 0.002, window: 16, validationFraction: 0.2, testFraction: 0.2 });
    expect(ds2.preprocessor.toJSON()).toEqual(ds.preprocessor.toJSON());
  });
});

describe.skipIf(!hasOhlcv)('featuresForInference', () => {
  it('reproduces the training rows with the saved scaler and refuses a changed schema', () => {
    const candles = readCandles('ETH-USDT-1h.csv').slice(0, 3000);
    const ds = buildDataset(candles, { horizon: 1, threshold: 0.002, window: 8, validationFraction: 0.2, testFraction: 0.2 });
    const meta = JSON.parse(JSON.stringify(ds.metadata)) as typeof ds.metadata;
    // Live inference sees only a recent tail of candles: last row must equal the training matrix's.
    const tail = candles.slice(2000);
    const inf = featuresForInference(tail, meta);
    const nc = ds.matrix.nCols;
    const lastTrainRow = ds.scaled.slice((ds.matrix.nRows - 1) * nc);
    const lastInfRow = inf.lastWindow.slice(7 * nc);
    expect(inf.lastWindow.length).toBe(8 * nc);
    const byName = (name: string) => ds.matrix.names.indexOf(name);
    // Window-bounded features are identical; EMA-based ones converge (seeded differently).
    for (const name of ['ret_1', 'ret_24', 'sma_gap_20', 'vol_72', 'bb_pctb', 'volume_z_72', 'dow_cos']) {
      expect(lastInfRow[byName(name)]).toBeCloseTo(lastTrainRow[byName(name)], 4);
    }
    expect(lastInfRow[byName('ema_gap_10')]).toBeCloseTo(lastTrainRow[byName('ema_gap_10')], 2);
    expect(Array.from(inf.lastRow)).toEqual(Array.from(ds.raw.slice((ds.matrix.nRows - 1) * nc)));
    const tampered = { ...meta, names: [...meta.names.slice(1), meta.names[0]] };
    expect(() => featuresForInference(tail, tampered)).toThrow(FeatureSchemaMismatchError);
    expect(() => featuresForInference(candles.slice(0, WARMUP_BARS + 4), meta)).toThrow(NotEnoughCandlesError);
  });
});

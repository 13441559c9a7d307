import { describe, expect, it } from 'vitest';
import { buildWindows, cleanMatrix, computeFeatures, Preprocessor, WARMUP_BARS } from '../../src/features/index.js';
import { latestFeatures, latestInputs, scaledInputs } from '../../src/models/inputs.js';
import type { Candle } from '../../src/market/types.js';
import { hasOhlcv, readCandles } from '../features/helpers.js';

/** What inference built before it computed only the last window: the whole matrix, cleaned, scaled, the last window. */
function wholeMatrixInputs(candles: readonly Candle[], pre: Preprocessor, window: number, code: number[]) {
  const m = computeFeatures(candles, { timeframeMs: 3_600_000 });
  const { data } = cleanMatrix(m.data, m.nRows, m.nCols);
  const scaled = pre.transform(data);
  const nFeatures = m.nCols + code.length;
  const w = buildWindows(scaled, m.nCols, { start: m.nRows - 1, end: m.nRows }, window, code);
  return { row: w.x.slice((window - 1) * nFeatures, window * nFeatures), win: w.x, nFeatures };
}

describe.skipIf(!hasOhlcv)('inference builds only the last window, value for value the whole matrix\'s', () => {
  const btc = readCandles('BTC-USDT-1h.csv').slice(-3000);
  const m = computeFeatures(btc.slice(0, 2000));
  const pre = Preprocessor.fit(cleanMatrix(m.data, m.nRows, m.nCols).data, m.nCols, m.names, { start: 0, end: m.nRows });
  const window = 48;
  const n = WARMUP_BARS + window + 100;

  it('computeFeatures lastRows is the tail of the whole matrix', () => {
    const candles = btc.slice(-n);
    const whole = computeFeatures(candles);
    const tail = computeFeatures(candles, { lastRows: window });
    expect(tail.nRows).toBe(window);
    expect(Array.from(tail.data)).toEqual(Array.from(whole.data.slice((whole.nRows - window) * whole.nCols)));
    expect(tail.timestamps).toEqual(whole.timestamps.slice(-window));
    expect(Array.from(tail.closes)).toEqual(Array.from(whole.closes.slice(-window)));
    // more rows asked than there are: every row
    expect(computeFeatures(candles, { lastRows: 10_000 }).nRows).toBe(whole.nRows);
  });

  it('latestInputs over many consecutive slices, with and without a symbol code', () => {
    for (let end = n; end <= n + 300; end += 7) {
      const candles = btc.slice(end - n, end);
      for (const code of [[], [0, 1]]) {
        const got = latestInputs(candles, pre, window, code, 3_600_000);
        const want = wholeMatrixInputs(candles, pre, window, code);
        expect(got.nFeatures).toBe(want.nFeatures);
        expect(Array.from(got.win)).toEqual(Array.from(want.win));
        expect(Array.from(got.row)).toEqual(Array.from(want.row));
      }
    }
  });

  it('a non-finite value in the last window is cleaned from the whole matrix (the fallback path)', () => {
    const candles = btc.slice(-n).map((c) => ({ ...c }));
    // A zero close: log(0) makes the returns across it infinite, filled forward from earlier rows.
    candles[n - 10] = { ...candles[n - 10], close: 0 };
    const f = latestFeatures(candles, window, 3_600_000);
    expect(f.raw.every(Number.isFinite)).toBe(true);
    const got = scaledInputs(f, pre, []);
    const want = wholeMatrixInputs(candles, pre, window, []);
    expect(Array.from(got.win)).toEqual(Array.from(want.win));
  });
});

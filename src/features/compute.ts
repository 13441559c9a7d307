import type { Candle } from '../market/types.js';
import { atr, ema, rollingMax, rollingMin, rollingStd, rsi, safeDiv, sma } from './indicators.js';

/**
 * candles -> feature matrix. ONE pure function shared by training and inference so the two can
 * never compute a feature differently. Every feature is scale-free (ratios, log returns, bounded
 * oscillators) so one model can see BTC at 60,000 and DOGE at 0.06 the same way.
 */

/** Bump when any feature's definition changes: it is part of the schema hash. */
export const FEATURE_VERSION = 1;

/**
 * The longest look-back of any feature (72-bar volatility needs 72 one-bar returns, i.e. 73
 * closes). computeFeatures drops the first WARMUP_BARS rows so row 0 of the result has every
 * indicator fully formed. Inference must therefore pass at least WARMUP_BARS + window candles.
 * (EMAs are SMA-seeded; after 72 bars the seed's weight in EMA-50 is ~6%, in EMA-12 ~0.001%.)
 */
export const WARMUP_BARS = 72;

export interface FeatureMatrix {
  names: string[];
  nRows: number;
  nCols: number;
  /** Row-major nRows x nCols. */
  data: Float32Array;
  /** Candle open time of each row. */
  timestamps: number[];
  /** Close of each row (labels and paper trading need the raw price). */
  closes: Float64Array;
}

export interface ComputeFeaturesOptions {
  /** Expected bar spacing; inferred as the median timestamp step when absent. */
  timeframeMs?: number;
  /**
   * Only the last `lastRows` rows (inference needs one window, not the ~150 rows its candles
   * allow): the same definitions over the same candles, so each row is exactly the row the whole
   * matrix would hold; the look-back of the rolling indicators is simply not computed for the
   * rows dropped. @default every row
   */
  lastRows?: number;
}

export class NotEnoughCandlesError extends Error {
  constructor(readonly got: number, readonly needed: number) {
    super(`computeFeatures needs at least ${needed} candles (WARMUP_BARS ${WARMUP_BARS} + 1), got ${got}`);
    this.name = 'NotEnoughCandlesError';
  }
}

/** name -> one-line description, in column order. */
export const FEATURES: ReadonlyArray<{ name: string; description: string }> = [
  { name: 'ret_1', description: 'log(close / close 1 bar earlier)' },
  { name: 'ret_2', description: 'log return over 2 bars' },
  { name: 'ret_4', description: 'log return over 4 bars' },
  { name: 'ret_8', description: 'log return over 8 bars' },
  { name: 'ret_24', description: 'log return over 24 bars' },
  { name: 'ret_48', description: 'log return over 48 bars' },
  { name: 'sma_gap_10', description: 'close / SMA(10) - 1' },
  { name: 'sma_gap_20', description: 'close / SMA(20) - 1' },
  { name: 'sma_gap_50', description: 'close / SMA(50) - 1' },
  { name: 'ema_gap_10', description: 'close / EMA(10) - 1' },
  { name: 'ema_gap_20', description: 'close / EMA(20) - 1' },
  { name: 'ema_gap_50', description: 'close / EMA(50) - 1' },
  { name: 'vol_12', description: 'std of 1-bar log returns over 12 bars' },
  { name: 'vol_24', description: 'std of 1-bar log returns over 24 bars' },
  { name: 'vol_72', description: 'std of 1-bar log returns over 72 bars' },
  { name: 'rsi_14', description: "Wilder's RSI(14) / 100, in [0, 1]" },
  { name: 'macd', description: '(EMA12 - EMA26) / close' },
  { name: 'macd_signal', description: 'EMA9 of the MACD line, / close' },
  { name: 'macd_hist', description: '(MACD - signal) / close' },
  { name: 'bb_pctb', description: 'Bollinger %B: (close - lower) / (upper - lower), 20 bars, 2 std' },
  { name: 'bb_width', description: 'Bollinger width: (upper - lower) / SMA(20)' },
  { name: 'atr_14', description: "Wilder's ATR(14) / close" },
  { name: 'volume_z_24', description: 'z-score of volume against the last 24 bars' },
  { name: 'volume_z_72', description: 'z-score of volume against the last 72 bars' },
  { name: 'volume_ratio', description: 'volume / SMA(volume, 24)' },
  { name: 'hl_range', description: '(high - low) / close' },
  { name: 'body', description: '(close - open) / close (signed candle body)' },
  { name: 'upper_wick', description: '(high - max(open, close)) / close' },
  { name: 'lower_wick', description: '(min(open, close) - low) / close' },
  { name: 'tod_sin', description: 'sin(2 pi * UTC time of day)' },
  { name: 'tod_cos', description: 'cos(2 pi * UTC time of day)' },
  { name: 'dow_sin', description: 'sin(2 pi * UTC day of week / 7)' },
  { name: 'dow_cos', description: 'cos(2 pi * UTC day of week / 7)' },
  { name: 'dist_high_48', description: 'close / highest high of 48 bars - 1 (<= 0)' },
  { name: 'dist_low_48', description: 'close / lowest low of 48 bars - 1 (>= 0)' },
  { name: 'gap_flag', description: '1 when a timestamp gap lies inside this row\'s 72-bar look-back, else 0' },
];

export const FEATURE_NAMES: readonly string[] = FEATURES.map((f) => f.name);

const DAY_MS = 86_400_000;

export class UnknownFeatureError extends Error {
  override name = 'UnknownFeatureError';
}

/**
 * Gaps in timestamps: indicators run over consecutive rows whatever their spacing (a return
 * "over 1 bar" across a 5-hour hole is the return across the hole); `gap_flag` tells the model
 * (and the operator) which rows' look-back spans such a hole.
 */
export function computeFeatures(candles: readonly Candle[], opts: ComputeFeaturesOptions = {}): FeatureMatrix {
  const n = candles.length;
  if (n <= WARMUP_BARS) throw new NotEnoughCandlesError(n, WARMUP_BARS + 1);
  const open = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const close = new Float64Array(n);
  const volume = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = candles[i];
    open[i] = c.open;
    high[i] = c.high;
    low[i] = c.low;
    close[i] = c.close;
    volume[i] = c.volume;
  }
  const logClose = close.map(Math.log);
  const ret1 = new Float64Array(n).fill(NaN);
  for (let i = 1; i < n; i++) ret1[i] = logClose[i] - logClose[i - 1];

  const fullRows = n - WARMUP_BARS;
  const nRows = Math.min(fullRows, Math.max(1, opts.lastRows ?? fullRows));
  // First candle index a returned row stands on: rolling look-backs are computed from there on.
  const first = n - nRows;
  const sma10 = sma(close, 10), sma20 = sma(close, 20), sma50 = sma(close, 50);
  const ema10 = ema(close, 10), ema20 = ema(close, 20), ema50 = ema(close, 50);
  const vol12 = rollingStd(ret1, 12, first), vol24 = rollingStd(ret1, 24, first), vol72 = rollingStd(ret1, 72, first);
  const rsi14 = rsi(close, 14);
  const ema12 = ema(close, 12), ema26 = ema(close, 26);
  const macdLine = new Float64Array(n);
  for (let i = 0; i < n; i++) macdLine[i] = ema12[i] - ema26[i];
  const macdSignal = ema(macdLine, 9);
  const bbStd = rollingStd(close, 20, first);
  const atr14 = atr(high, low, close, 14);
  const volMean24 = sma(volume, 24), volStd24 = rollingStd(volume, 24, first);
  const volMean72 = sma(volume, 72), volStd72 = rollingStd(volume, 72, first);
  const hi48 = rollingMax(high, 48, first), lo48 = rollingMin(low, 48, first);

  const step = opts.timeframeMs ?? medianStep(candles);
  // lastGap[i] = index of the most recent row whose step from its predecessor exceeds `step`.
  const lastGap = new Int32Array(n).fill(-1);
  for (let i = 1; i < n; i++) {
    lastGap[i] = candles[i].timestamp - candles[i - 1].timestamp > step ? i : lastGap[i - 1];
  }

  const names = [...FEATURE_NAMES];
  const nCols = names.length;
  const data = new Float32Array(nRows * nCols);
  const timestamps: number[] = new Array(nRows);
  const closes = new Float64Array(nRows);
  for (let r = 0; r < nRows; r++) {
    const i = r + first;
    const c = close[i];
    const ts = candles[i].timestamp;
    const bbUp = sma20[i] + 2 * bbStd[i];
    const bbLo = sma20[i] - 2 * bbStd[i];
    const tod = (2 * Math.PI * (((ts % DAY_MS) + DAY_MS) % DAY_MS)) / DAY_MS;
    // 1970-01-01 was a Thursday: +4 makes 0 = Sunday.
    const dayIdx = (((Math.floor(ts / DAY_MS) + 4) % 7) + 7) % 7;
    const dow = (2 * Math.PI * dayIdx) / 7;
    // Written in place (no per-row array): the same float32 rounding as data.set of the values.
    let k = r * nCols;
    data[k++] = ret1[i];
    data[k++] = logClose[i] - logClose[i - 2];
    data[k++] = logClose[i] - logClose[i - 4];
    data[k++] = logClose[i] - logClose[i - 8];
    data[k++] = logClose[i] - logClose[i - 24];
    data[k++] = logClose[i] - logClose[i - 48];
    data[k++] = safeDiv(c, sma10[i]) - 1;
    data[k++] = safeDiv(c, sma20[i]) - 1;
    data[k++] = safeDiv(c, sma50[i]) - 1;
    data[k++] = safeDiv(c, ema10[i]) - 1;
    data[k++] = safeDiv(c, ema20[i]) - 1;
    data[k++] = safeDiv(c, ema50[i]) - 1;
    data[k++] = vol12[i];
    data[k++] = vol24[i];
    data[k++] = vol72[i];
    data[k++] = rsi14[i] / 100;
    data[k++] = safeDiv(macdLine[i], c);
    data[k++] = safeDiv(macdSignal[i], c);
    data[k++] = safeDiv(macdLine[i] - macdSignal[i], c);
    data[k++] = bbUp === bbLo ? 0.5 : (c - bbLo) / (bbUp - bbLo);
    data[k++] = safeDiv(bbUp - bbLo, sma20[i]);
    data[k++] = safeDiv(atr14[i], c);
    data[k++] = safeDiv(volume[i] - volMean24[i], volStd24[i]);
    data[k++] = safeDiv(volume[i] - volMean72[i], volStd72[i]);
    data[k++] = safeDiv(volume[i], volMean24[i]);
    data[k++] = safeDiv(high[i] - low[i], c);
    data[k++] = safeDiv(c - open[i], c);
    data[k++] = safeDiv(high[i] - Math.max(open[i], c), c);
    data[k++] = safeDiv(Math.min(open[i], c) - low[i], c);
    data[k++] = Math.sin(tod);
    data[k++] = Math.cos(tod);
    data[k++] = Math.sin(dow);
    data[k++] = Math.cos(dow);
    data[k++] = safeDiv(c, hi48[i]) - 1;
    data[k++] = safeDiv(c, lo48[i]) - 1;
    data[k++] = lastGap[i] > i - WARMUP_BARS ? 1 : 0;
    timestamps[r] = ts;
    closes[r] = c;
  }
  return { names, nRows, nCols, data, timestamps, closes };
}

function medianStep(candles: readonly Candle[]): number {
  const steps: number[] = [];
  for (let i = 1; i < candles.length; i++) steps.push(candles[i].timestamp - candles[i - 1].timestamp);
  steps.sort((a, b) => a - b);
  return steps[Math.floor(steps.length / 2)];
}

/** Column `name` of a matrix as a Float64Array (tests, diagnostics). */
export function featureColumn(m: FeatureMatrix, name: string): Float64Array {
  const j = m.names.indexOf(name);
  if (j < 0) throw new UnknownFeatureError(`unknown feature "${name}" (known: ${m.names.join(', ')})`);
  const out = new Float64Array(m.nRows);
  for (let r = 0; r < m.nRows; r++) out[r] = m.data[r * m.nCols + j];
  return out;
}

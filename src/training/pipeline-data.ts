/**
 * Candles -> training inputs (pipeline.ts). The per-row code inference needs too (symbol code, the
 * latest window) lives in src/models/inputs.ts, so training imports it and never the reverse. Per symbol: features -> cleaning -> labels -> purged
 * time split. One preprocessor is fitted on the training rows of every symbol together (only the
 * past of each split), then applied everywhere. In multi_symbol mode a symbol code is appended.
 */
import type { Candle } from '../market/types.js';
import type { SymbolEncoding, TrainingMode } from '../models/metadata.js';
import {
  cleanMatrix,
  computeFeatures,
  makeLabels,
  Preprocessor,
  timeSplit,
  SplitError,
  type SplitOptions,
  buildWindows,
  type CleanReport,
  type FeatureMatrix,
  type SplitRanges,
  type RowRange,
} from '../features/index.js';
import type { CandleColumns } from './protocol.js';
import { encodingMapFor, symbolCode } from '../models/inputs.js';

export { encodingMapFor, symbolCode, latestInputs } from '../models/inputs.js';

export const columnsToCandles = (c: CandleColumns): Candle[] => {
  const out: Candle[] = new Array(c.timestamp.length);
  for (let i = 0; i < c.timestamp.length; i++) {
    out[i] = { timestamp: c.timestamp[i], open: c.open[i], high: c.high[i], low: c.low[i], close: c.close[i], volume: c.volume[i] };
  }
  return out;
};

export const candlesToColumns = (symbol: string, candles: readonly Candle[]): CandleColumns => ({
  symbol,
  timestamp: Float64Array.from(candles, (c) => c.timestamp),
  open: Float64Array.from(candles, (c) => c.open),
  high: Float64Array.from(candles, (c) => c.high),
  low: Float64Array.from(candles, (c) => c.low),
  close: Float64Array.from(candles, (c) => c.close),
  volume: Float64Array.from(candles, (c) => c.volume),
});

export interface SymbolPart {
  symbol: string;
  nRows: number;
  /** Cleaned, scaled feature rows (nRows x nCols). */
  scaled: Float32Array;
  labels: Uint8Array;
  /** fwd[i] = close[i + horizon] / close[i] - 1 for labelled rows. */
  fwd: Float32Array;
  split: SplitRanges;
  /** Raw close of every feature row (1-step returns for the PPO environment, the judgement's replay). */
  closes: Float64Array;
  /** Candle open time of every feature row. */
  timestamps: Float64Array;
  code: number[];
  clean: CleanReport;
  firstTs: number;
  lastTs: number;
}

export interface TrainingData {
  names: string[];
  nCols: number;
  codeLen: number;
  preprocessor: Preprocessor;
  encodingMap: Record<string, number>;
  parts: SymbolPart[];
}

export interface DataOptions {
  mode: TrainingMode;
  encoding: SymbolEncoding;
  window: number;
  horizon: number;
  threshold: number;
  valFraction: number;
  testFraction: number;
  timeframeMs: number;
  /**
   * Exact test-slice length per symbol (same order as the symbols), overriding testFraction: the
   * walk-forward folds and the promotion gate need a test slice of a given number of rows.
   */
  testRows?: number[];
  /**
   * Extra feature columns appended to every symbol's matrix (the study's candidate features, e.g.
   * cross-asset returns). A feature that wins moves into src/features so inference computes it too.
   */
  extraFeatures?: (symbol: string, candles: readonly Candle[], m: FeatureMatrix) => { names: string[]; data: Float32Array };
}

export function buildTrainingData(symbols: { symbol: string; candles: Candle[] }[], o: DataOptions): TrainingData {
  const encodingMap = encodingMapFor(
    symbols.map((s) => s.symbol),
    o.mode,
  );
  const pre = symbols.map(({ symbol, candles }, j) => {
    const base = computeFeatures(candles, { timeframeMs: o.timeframeMs });
    const m = o.extraFeatures ? appendColumns(base, o.extraFeatures(symbol, candles, base)) : base;
    const { data, report } = cleanMatrix(m.data, m.nRows, m.nCols);
    const labels = makeLabels(m.closes, o.horizon, o.threshold);
    const testFraction = o.testRows ? fractionForRows(labels.length, o.testRows[j], o) : o.testFraction;
    const split = splitFor(symbol, candles.length, labels.length, { validationFraction: o.valFraction, testFraction, horizon: o.horizon, window: o.window });
    const fwd = new Float32Array(labels.length);
    for (let i = 0; i < labels.length; i++) fwd[i] = m.closes[i + o.horizon] / m.closes[i] - 1;
    return { symbol, m, data, report, labels, split, fwd };
  });
  const names = pre[0].m.names;
  const nCols = pre[0].m.nCols;
  // Training rows of all symbols together: rows before train.end of each (history of early windows included).
  const trainRows = pre.reduce((s, p) => s + p.split.train.end, 0);
  const stacked = new Float32Array(trainRows * nCols);
  let off = 0;
  for (const p of pre) {
    stacked.set(p.data.subarray(0, p.split.train.end * nCols), off);
    off += p.split.train.end * nCols;
  }
  const preprocessor = Preprocessor.fit(stacked, nCols, names, { start: 0, end: trainRows });
  const parts: SymbolPart[] = pre.map((p) => ({
    symbol: p.symbol,
    nRows: p.m.nRows,
    scaled: preprocessor.transform(p.data),
    labels: p.labels,
    fwd: p.fwd,
    split: p.split,
    closes: p.m.closes,
    timestamps: Float64Array.from(p.m.timestamps),
    code: symbolCode(p.symbol, encodingMap, o.mode, o.encoding),
    clean: p.report,
    firstTs: p.m.timestamps[0],
    lastTs: p.m.timestamps[p.m.nRows - 1],
  }));
  return { names, nCols, codeLen: parts[0].code.length, preprocessor, encodingMap, parts };
}

/** timeSplit, its refusal naming the symbol and its candles (a job can hold several symbols). */
function splitFor(symbol: string, nCandles: number, nLabelled: number, o: SplitOptions): SplitRanges {
  try {
    return timeSplit(nLabelled, o);
  } catch (err) {
    if (err instanceof SplitError) throw new SplitError(`${symbol}: ${nCandles} candles are too few to train - ${err.message}`);
    throw err;
  }
}

function appendColumns(m: FeatureMatrix, extra: { names: string[]; data: Float32Array }): FeatureMatrix {
  const k = extra.names.length;
  if (extra.data.length !== m.nRows * k) throw new RangeError(`extra features hold ${extra.data.length} values for ${m.nRows} rows x ${k}`);
  const nCols = m.nCols + k;
  const data = new Float32Array(m.nRows * nCols);
  for (let r = 0; r < m.nRows; r++) {
    data.set(m.data.subarray(r * m.nCols, (r + 1) * m.nCols), r * nCols);
    data.set(extra.data.subarray(r * k, (r + 1) * k), r * nCols + m.nCols);
  }
  return { ...m, names: [...m.names, ...extra.names], nCols, data };
}

/**
 * The test fraction timeSplit turns into exactly `rows` test rows (it floors usable * fraction;
 * the half row keeps float rounding from losing one).
 */
export function fractionForRows(nLabelled: number, rows: number, o: Pick<DataOptions, 'window' | 'horizon'>): number {
  const usable = nLabelled - (o.window - 1) - 2 * (o.horizon + o.window);
  return usable > 0 ? (rows + 0.5) / usable : 1;
}

export type SliceName = 'train' | 'validation' | 'test';

/** Row-model inputs: the scaled row (+ symbol code) of every sample in the slice, all symbols. */
export function rowsFor(d: TrainingData, slice: SliceName): { x: Float32Array; y: Uint8Array; fwd: Float32Array; n: number; nFeatures: number } {
  const nFeatures = d.nCols + d.codeLen;
  const n = d.parts.reduce((s, p) => s + len(p.split[slice]), 0);
  const x = new Float32Array(n * nFeatures);
  const y = new Uint8Array(n);
  const fwd = new Float32Array(n);
  let k = 0;
  for (const p of d.parts) {
    const r = p.split[slice];
    for (let i = r.start; i < r.end; i++, k++) {
      x.set(p.scaled.subarray(i * d.nCols, (i + 1) * d.nCols), k * nFeatures);
      for (let c = 0; c < d.codeLen; c++) x[k * nFeatures + d.nCols + c] = p.code[c];
      y[k] = p.labels[i];
      fwd[k] = p.fwd[i];
    }
  }
  return { x, y, fwd, n, nFeatures };
}

/** The labels of a slice, all symbols, same order as rowsFor (without copying the feature rows). */
export function labelsFor(d: TrainingData, slice: SliceName): { y: Uint8Array; n: number } {
  const n = d.parts.reduce((s, p) => s + len(p.split[slice]), 0);
  const y = new Uint8Array(n);
  let k = 0;
  for (const p of d.parts) {
    const r = p.split[slice];
    if (r.end > r.start) y.set(p.labels.subarray(r.start, r.end), k);
    k += len(r);
  }
  return { y, n };
}

/**
 * Sequence inputs: windows ending at every sample of the slice, all symbols, same order as rowsFor.
 * With `max`, only the windows at floor(k * n / max) for k < max (the stride subsample the RNN
 * stage trains on, strideSubsample in pipeline-rnn.ts) are built, straight into the output.
 */
export function windowsFor(d: TrainingData, slice: SliceName, window: number, max = Infinity): { x: Float32Array; y: Uint8Array; n: number; window: number; nFeatures: number } {
  const all = labelsFor(d, slice);
  // Sample k of the concatenated slice: its part and row.
  const picks: number[] = [];
  const n = Math.min(all.n, max);
  const step = all.n / n;
  for (let k = 0; k < n; k++) picks.push(all.n <= max ? k : Math.floor(k * step));
  const nFeatures = d.nCols + d.codeLen;
  const per = window * nFeatures;
  const x = new Float32Array(n * per);
  const y = new Uint8Array(n);
  let part = 0;
  let base = 0;
  for (let k = 0; k < n; k++) {
    const i = picks[k];
    while (i - base >= len(d.parts[part].split[slice])) base += len(d.parts[part++].split[slice]);
    const p = d.parts[part];
    const row = p.split[slice].start + (i - base);
    buildWindows(p.scaled, d.nCols, { start: row, end: row + 1 }, window, p.code, { x, offset: k * per });
    y[k] = all.y[i];
  }
  return { x, y, n, window, nFeatures };
}

/** A part's scaled rows with its symbol code appended to every row (nRows x (nCols + codeLen)). */
export function rowsWithCode(d: TrainingData, p: SymbolPart): Float32Array {
  if (d.codeLen === 0) return p.scaled;
  const nf = d.nCols + d.codeLen;
  const out = new Float32Array(p.nRows * nf);
  for (let i = 0; i < p.nRows; i++) {
    out.set(p.scaled.subarray(i * d.nCols, (i + 1) * d.nCols), i * nf);
    for (let c = 0; c < d.codeLen; c++) out[i * nf + d.nCols + c] = p.code[c];
  }
  return out;
}

const len = (r: RowRange): number => Math.max(0, r.end - r.start);

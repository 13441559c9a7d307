import type { SymbolEncoding } from '../models/metadata.js';
import type { RowRange } from './preprocess.js';

/**
 * Time-ordered train / validation / test split over labelled rows, in that order, with a purge
 * gap of `horizon + window` rows between slices: the last training label looks `horizon` rows
 * ahead and the first validation window looks `window - 1` rows back, so with the gap neither
 * reaches a row of the other slice. Train starts at `window - 1` so its first window is full.
 */
export interface SplitOptions {
  validationFraction: number;
  testFraction: number;
  horizon: number;
  /** Sequence length (use 1 for row models such as GBDT). */
  window: number;
}

export interface SplitRanges {
  /** Ranges of sample rows (the last row of each window), end exclusive. */
  train: RowRange;
  validation: RowRange;
  test: RowRange;
  gap: number;
}

export class SplitError extends Error {
  override name = 'SplitError';
}

/** `nLabelled` = number of rows that have a label (features rows - horizon). */
export function timeSplit(nLabelled: number, o: SplitOptions): SplitRanges {
  const gap = o.horizon + o.window;
  const first = o.window - 1;
  const usable = nLabelled - first - 2 * gap;
  const nVal = Math.floor(usable * o.validationFraction);
  const nTest = Math.floor(usable * o.testFraction);
  const nTrain = usable - nVal - nTest;
  if (nTrain < 1 || nVal < 1 || nTest < 1 || o.validationFraction + o.testFraction >= 1) {
    throw new SplitError(
      `not enough rows to split: ${nLabelled} labelled rows, window ${o.window}, horizon ${o.horizon}, ` +
        `fractions ${o.validationFraction}/${o.testFraction} leave train ${nTrain}, validation ${nVal}, test ${nTest}`,
    );
  }
  const train = { start: first, end: first + nTrain };
  const validation = { start: train.end + gap, end: train.end + gap + nVal };
  const test = { start: validation.end + gap, end: validation.end + gap + nTest };
  return { train, validation, test, gap };
}

export class UnknownSymbolError extends Error {
  override name = 'UnknownSymbolError';
}

/** Multi-symbol mode: one_hot -> a vector of map size with a 1 at the symbol's index; index -> [index]. */
export function encodeSymbol(symbol: string, map: Record<string, number>, type: SymbolEncoding): number[] {
  const idx = map[symbol];
  if (idx === undefined) throw new UnknownSymbolError(`symbol ${symbol} is not in the encoding map (${Object.keys(map).join(', ')})`);
  if (type === 'index') return [idx];
  const size = Math.max(...Object.values(map)) + 1;
  const v = new Array<number>(size).fill(0);
  v[idx] = 1;
  return v;
}

export interface Windows {
  /** [n, window, nFeatures] row-major. */
  x: Float32Array;
  n: number;
  window: number;
  nFeatures: number;
}

/**
 * Sliding windows ending at each row of `range` (rows end-window+1 .. end), optionally with a
 * constant symbol encoding appended to every time step. `into` writes them into an existing
 * array from a value offset (callers gathering windows of several slices copy nothing twice).
 */
export function buildWindows(
  data: Float32Array,
  nCols: number,
  range: RowRange,
  window: number,
  symbolCode: readonly number[] = [],
  into?: { x: Float32Array; offset: number },
): Windows {
  if (range.start < window - 1) throw new SplitError(`window ${window} ending at row ${range.start} would start before row 0`);
  if (range.end * nCols > data.length) throw new SplitError(`range end ${range.end} beyond ${data.length / nCols} rows`);
  const n = Math.max(0, range.end - range.start);
  const nFeatures = nCols + symbolCode.length;
  const x = into?.x ?? new Float32Array(n * window * nFeatures);
  const at = into?.offset ?? 0;
  if (at + n * window * nFeatures > x.length) throw new SplitError(`${n} windows do not fit the output from value ${at}`);
  for (let s = 0; s < n; s++) {
    const last = range.start + s;
    for (let t = 0; t < window; t++) {
      const r = last - window + 1 + t;
      const o = at + (s * window + t) * nFeatures;
      x.set(data.subarray(r * nCols, (r + 1) * nCols), o);
      for (let k = 0; k < symbolCode.length; k++) x[o + nCols + k] = symbolCode[k];
    }
  }
  return { x, n, window, nFeatures };
}

/** Rows of `range` copied out (row models), plus their labels. */
export function sliceRows(data: Float32Array, nCols: number, range: RowRange): Float32Array {
  return data.slice(range.start * nCols, range.end * nCols);
}

/**
 * Cleaning policy for a row-major feature matrix, applied column by column:
 *   1. +-inf -> NaN
 *   2. forward fill from the last finite value (at most `maxForwardFill` rows)
 *   3. backward fill leading gaps from the next finite value (at most `maxBackwardFill` rows)
 *   4. remaining NaN -> the column's mean over its finite values
 *   5. a column with no finite value at all -> 0
 * Fill limits exist because carrying one stale value across days pretends the market stood
 * still; past the limit the column mean is the more neutral guess.
 */

export interface CleanReport {
  infToNaN: number;
  forwardFilled: number;
  backwardFilled: number;
  meanFilled: number;
  zeroFilled: number;
}

export interface CleanOptions {
  /** @default 24 */
  maxForwardFill?: number;
  /** @default 24 */
  maxBackwardFill?: number;
}

/** Returns a cleaned copy (the input is left untouched) and what was done to it. */
export function cleanMatrix(
  data: Float32Array,
  nRows: number,
  nCols: number,
  opts: CleanOptions = {},
): { data: Float32Array; report: CleanReport } {
  if (data.length !== nRows * nCols) {
    throw new RangeError(`cleanMatrix: data has ${data.length} values, expected ${nRows} x ${nCols}`);
  }
  const maxF = opts.maxForwardFill ?? 24;
  const maxB = opts.maxBackwardFill ?? 24;
  const out = new Float32Array(data);
  const report: CleanReport = { infToNaN: 0, forwardFilled: 0, backwardFilled: 0, meanFilled: 0, zeroFilled: 0 };
  for (let j = 0; j < nCols; j++) {
    let sum = 0;
    let count = 0;
    for (let r = 0; r < nRows; r++) {
      const k = r * nCols + j;
      const v = out[k];
      if (v === Infinity || v === -Infinity) {
        out[k] = NaN;
        report.infToNaN++;
      } else if (!Number.isNaN(v)) {
        sum += v;
        count++;
      }
    }
    if (count === nRows) continue;
    // Forward fill, limited to maxF rows after the last finite value.
    let last = NaN;
    let run = 0;
    for (let r = 0; r < nRows; r++) {
      const k = r * nCols + j;
      if (!Number.isNaN(out[k])) {
        last = out[k];
        run = 0;
      } else if (!Number.isNaN(last) && run < maxF) {
        out[k] = last;
        run++;
        report.forwardFilled++;
      } else {
        run++;
      }
    }
    // Backward fill the leading gap only (everything later was reachable by forward fill).
    let first = 0;
    while (first < nRows && Number.isNaN(out[first * nCols + j])) first++;
    if (first < nRows) {
      const v = out[first * nCols + j];
      for (let r = first - 1; r >= 0 && first - r <= maxB; r--) {
        out[r * nCols + j] = v;
        report.backwardFilled++;
      }
    }
    const mean = count > 0 ? sum / count : NaN;
    for (let r = 0; r < nRows; r++) {
      const k = r * nCols + j;
      if (!Number.isNaN(out[k])) continue;
      if (count > 0) {
        out[k] = mean;
        report.meanFilled++;
      } else {
        out[k] = 0;
        report.zeroFilled++;
      }
    }
  }
  return { data: out, report };
}

/** True when every value is finite (what models require after cleaning). */
export function allFinite(data: Float32Array): boolean {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return false;
  return true;
}

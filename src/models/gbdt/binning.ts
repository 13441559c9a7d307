/**
 * Quantile binning fitted on the training rows: each feature gets at most `maxBins` bins
 * (<= 256 so a bin fits a byte). Cuts are actual data values (float32), so the raw-value test
 * `x < cut[s]` used at prediction is exactly the binned test `bin(x) <= s` used in training.
 * bin(x) = number of cuts <= x; NaN shares the last bin (treated as larger than anything, which
 * is also what `x < cut` does with NaN), so raw and binned routing always agree.
 */
export const MAX_BINS = 256;

export class BinningError extends Error {
  override name = 'BinningError';
}

/** One ascending Float32Array of cut values per feature. */
export type Cuts = Float32Array[];

export function fitCuts(data: Float32Array, nRows: number, nCols: number, maxBins = 255): Cuts {
  if (maxBins < 2 || maxBins > MAX_BINS) throw new BinningError(`maxBins must be in [2, ${MAX_BINS}], got ${maxBins}`);
  if (data.length !== nRows * nCols) throw new BinningError(`data has ${data.length} values, expected ${nRows} x ${nCols}`);
  const cuts: Cuts = [];
  const col = new Float32Array(nRows);
  for (let j = 0; j < nCols; j++) {
    let m = 0;
    for (let r = 0; r < nRows; r++) {
      const v = data[r * nCols + j];
      if (!Number.isNaN(v)) col[m++] = v;
    }
    const sorted = col.subarray(0, m).slice().sort();
    cuts.push(cutsFromSorted(sorted, maxBins));
  }
  return cuts;
}

function cutsFromSorted(sorted: Float32Array, maxBins: number): Float32Array {
  const m = sorted.length;
  if (m === 0) return new Float32Array(0);
  const uniq: number[] = [sorted[0]];
  for (let i = 1; i < m && uniq.length <= maxBins; i++) if (sorted[i] !== sorted[i - 1]) uniq.push(sorted[i]);
  // Few distinct values: one bin each, cut at each value above the smallest.
  if (uniq.length <= maxBins) return Float32Array.from(uniq.slice(1));
  // maxBins - 1 cuts at the quantiles k / maxBins -> at most maxBins bins.
  const out: number[] = [];
  for (let k = 1; k < maxBins; k++) {
    const v = sorted[Math.floor((k * m) / maxBins)];
    if (v > sorted[0] && (out.length === 0 || v > out[out.length - 1])) out.push(v);
  }
  return Float32Array.from(out);
}

/** Number of cuts <= x (binary search); NaN -> cuts.length. */
export function binOf(x: number, c: Float32Array): number {
  if (Number.isNaN(x)) return c.length;
  let lo = 0;
  let hi = c.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (c[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Row-major Uint8Array of bins, same layout as `data`. */
export function binMatrix(data: Float32Array, nRows: number, nCols: number, cuts: Cuts): Uint8Array {
  if (cuts.length !== nCols) throw new BinningError(`cuts cover ${cuts.length} features, data has ${nCols}`);
  const out = new Uint8Array(nRows * nCols);
  for (let r = 0; r < nRows; r++) {
    const base = r * nCols;
    for (let j = 0; j < nCols; j++) out[base + j] = binOf(data[base + j], cuts[j]);
  }
  return out;
}

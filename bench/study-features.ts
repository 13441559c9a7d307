/**
 * Candidate features the study tries before any of them enters src/features: cross-asset returns
 * of a reference symbol (BTC) aligned by timestamp. Row r uses only reference candles at or before
 * row r's own timestamp, so the columns are as causal as the symbol's own features.
 */
import type { Candle } from '../src/market/types.js';
import type { FeatureMatrix } from '../src/features/index.js';

export const CROSS_NAMES = ['ref_ret_1', 'ref_ret_4', 'ref_ret_24', 'rel_ret_24', 'ref_vol_24'];

export function crossAssetFeatures(reference: readonly Candle[]) {
  const ts = Float64Array.from(reference, (c) => c.timestamp);
  const logc = Float64Array.from(reference, (c) => Math.log(c.close));
  // Index of the latest reference candle at or before t (-1 when none).
  const at = (t: number): number => {
    let lo = 0;
    let hi = ts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ts[mid] <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  };
  const ret = (j: number, k: number): number => (j - k >= 0 ? logc[j] - logc[j - k] : Number.NaN);
  return (_symbol: string, candles: readonly Candle[], m: FeatureMatrix): { names: string[]; data: Float32Array } => {
    const k = CROSS_NAMES.length;
    const data = new Float32Array(m.nRows * k);
    const off = candles.length - m.nRows;
    for (let r = 0; r < m.nRows; r++) {
      const j = at(m.timestamps[r]);
      const own24 = Math.log(candles[off + r].close) - Math.log(candles[Math.max(0, off + r - 24)].close);
      let vol = Number.NaN;
      if (j >= 24) {
        let s = 0;
        let s2 = 0;
        for (let q = j - 23; q <= j; q++) {
          const x = logc[q] - logc[q - 1];
          s += x;
          s2 += x * x;
        }
        vol = Math.sqrt(Math.max(0, (s2 - (s * s) / 24) / 23));
      }
      const row = j < 0 ? [NaN, NaN, NaN, NaN, NaN] : [ret(j, 1), ret(j, 4), ret(j, 24), own24 - ret(j, 24), vol];
      data.set(row, r * k);
    }
    return { names: CROSS_NAMES, data };
  };
}

/**
 * What inference needs to turn candles into a model's inputs: the symbol code of a multi_symbol
 * model, the latest row and window scaled with the saved preprocessor, and the PPO observation's
 * window and flat portfolio. It lives beside the models so the predictor never imports training
 * code; training (src/training/pipeline-*.ts) imports it from here, so both build inputs the same way.
 */
import type { Candle } from '../market/types.js';
import type { SymbolEncoding, TrainingMode } from './metadata.js';
import type { PortfolioState } from './ppo/env.js';
import { allFinite, buildWindows, cleanMatrix, computeFeatures, encodeSymbol, type Preprocessor } from '../features/index.js';

/** Rows of history in a PPO observation (kept short: the MLP input is window x features). */
export const PPO_WINDOW = 8;
/** The portfolio a PPO agent is asked from when no position is held (validation, the gate). */
export const FLAT_PORTFOLIO: Readonly<PortfolioState> = { position: 0, unrealisedPnl: 0, cashShare: 1 };

export function encodingMapFor(symbols: string[], mode: TrainingMode): Record<string, number> {
  if (mode !== 'multi_symbol') return {};
  return Object.fromEntries([...symbols].sort().map((s, i) => [s, i]));
}

export function symbolCode(symbol: string, map: Record<string, number>, mode: TrainingMode, encoding: SymbolEncoding): number[] {
  return mode === 'multi_symbol' ? encodeSymbol(symbol, map, encoding) : [];
}

/** The last `window` feature rows of some candles, cleaned, not yet scaled (one artifact's scaler makes them inputs). */
export interface LatestFeatures {
  names: string[];
  nCols: number;
  window: number;
  /** window x nCols, row-major. */
  raw: Float32Array;
}

/**
 * The cleaned feature rows of the latest `window` candles: computeFeatures + cleanMatrix, as
 * training does. Only those rows are built when they are all finite: cleaning changes nothing but
 * non-finite values, so they are then exactly the rows of the whole matrix; otherwise (a hole the
 * cleaning fills from the earlier rows) the whole matrix is computed and cleaned.
 */
export function latestFeatures(candles: readonly Candle[], window: number, timeframeMs?: number): LatestFeatures {
  const tail = computeFeatures(candles, { timeframeMs, lastRows: window });
  if (tail.nRows < window) throw new RangeError(`need ${window} feature rows for one window, got ${tail.nRows} (pass more candles)`);
  if (allFinite(tail.data)) return { names: tail.names, nCols: tail.nCols, window, raw: tail.data };
  const m = computeFeatures(candles, { timeframeMs });
  const { data } = cleanMatrix(m.data, m.nRows, m.nCols);
  return { names: m.names, nCols: m.nCols, window, raw: data.slice((m.nRows - window) * m.nCols) };
}

/** One artifact's inputs from latest features: scaled with its saved preprocessor, the last row and the window (+ symbol code). */
export function scaledInputs(f: LatestFeatures, pre: Preprocessor, code: number[]): { names: string[]; row: Float32Array; win: Float32Array; nFeatures: number } {
  const { window, nCols } = f;
  const scaled = pre.transform(f.raw);
  const nFeatures = nCols + code.length;
  const w = buildWindows(scaled, nCols, { start: window - 1, end: window }, window, code);
  const row = w.x.slice((window - 1) * nFeatures, window * nFeatures);
  return { names: f.names, row, win: w.x, nFeatures };
}

/**
 * Inference inputs for the latest closed candle: features over the given candles, cleaned, scaled
 * with the saved preprocessor, then the last row and the last `window` rows (+ symbol code).
 */
export function latestInputs(
  candles: readonly Candle[],
  pre: Preprocessor,
  window: number,
  code: number[],
  timeframeMs?: number,
): { names: string[]; row: Float32Array; win: Float32Array; nFeatures: number } {
  return scaledInputs(latestFeatures(candles, window, timeframeMs), pre, code);
}

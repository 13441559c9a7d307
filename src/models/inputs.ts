/**
 * What inference needs to turn candles into a model's inputs: the symbol code of a multi_symbol
 * model, the latest row and window scaled with the saved preprocessor, and the PPO observation's
 * window and flat portfolio. It lives beside the models so the predictor never imports training
 * code; training (src/training/pipeline-*.ts) imports it from here, so both build inputs the same way.
 */
import type { Candle } from '../market/types.js';
import type { SymbolEncoding, TrainingMode } from './metadata.js';
import type { PortfolioState } from './ppo/env.js';
import { buildWindows, cleanMatrix, computeFeatures, encodeSymbol, type Preprocessor } from '../features/index.js';

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
): { names: string[]; row: Float32Array; win: Float32Array; nFeatures: number; rows: Float32Array; nRows: number } {
  const m = computeFeatures(candles, { timeframeMs });
  if (m.nRows < window) throw new RangeError(`need ${window} feature rows for one window, got ${m.nRows} (pass more candles)`);
  const { data } = cleanMatrix(m.data, m.nRows, m.nCols);
  const scaled = pre.transform(data);
  const nFeatures = m.nCols + code.length;
  const w = buildWindows(scaled, m.nCols, { start: m.nRows - 1, end: m.nRows }, window, code);
  const row = w.x.slice((window - 1) * nFeatures, window * nFeatures);
  return { names: m.names, row, win: w.x, nFeatures, rows: scaled, nRows: m.nRows };
}

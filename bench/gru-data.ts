/**
 * The GRU bench's data: by default real BTC/USDT 1h windows from ../shared/data/ohlcv through
 * kilo's own features, scaler and labels (the training slice, [48 x 36]); BENCH_DATA=random gives
 * uniform random windows of the shape in ../shared/STACK.md ([48 x 28]).
 */
import { writeFileSync } from 'node:fs';
import { mulberry32, type SequenceData } from '../src/models/rnn/index.js';
import { buildTrainingData, windowsFor } from '../src/training/pipeline-data.js';
import { readCandles } from './data.js';

export const WINDOW = 48;
export const FEATURES = 28;
export const UNITS = 64;

export function randomData(n: number, seed: number): SequenceData {
  const rng = mulberry32(seed);
  const x = new Float32Array(n * WINDOW * FEATURES);
  for (let i = 0; i < x.length; i++) x[i] = rng() * 2 - 1;
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) y[i] = Math.floor(rng() * 3);
  return { x, y, n, window: WINDOW, nFeatures: FEATURES };
}

/** The training-slice windows of one real symbol, exactly as the pipeline builds them. */
export function realWindows(file = 'BTC-USDT-1h.csv', symbol = 'BTC/USDT'): SequenceData {
  const d = buildTrainingData([{ symbol, candles: readCandles(file) }], {
    mode: 'single_symbol', encoding: 'one_hot', window: WINDOW, horizon: 1, threshold: 0.002,
    valFraction: 0.15, testFraction: 0.15, timeframeMs: 3_600_000,
  });
  return windowsFor(d, 'train', WINDOW);
}

/** Write windows for the torch peer (float32 / uint8, little-endian, no header). */
export function writeForPeer(d: SequenceData, xFile: string, yFile: string): void {
  writeFileSync(xFile, new Uint8Array(d.x.buffer, d.x.byteOffset, d.x.byteLength));
  writeFileSync(yFile, new Uint8Array(d.y.buffer, d.y.byteOffset, d.y.byteLength));
}

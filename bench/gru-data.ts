/** The GRU bench's shape and its uniform random windows (speed does not depend on the values). */
import { mulberry32, type SequenceData } from '../src/models/rnn/index.js';

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

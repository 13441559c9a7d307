import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Candle } from '../../src/market/types.js';

export const OHLCV_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/data/ohlcv');
export const hasOhlcv = existsSync(OHLCV_DIR);

export function readCandles(file: string): Candle[] {
  const lines = readFileSync(resolve(OHLCV_DIR, file), 'utf8').trim().split('\n').slice(1);
  return lines.map((l) => {
    const [timestamp, open, high, low, close, volume] = l.split(',').map(Number);
    return { timestamp, open, high, low, close, volume };
  });
}

/** Geometric series close = 100 * g^i, hourly from `start`, with a varying volume. */
export function geometricCandles(n: number, g = 1.01, start = Date.UTC(2024, 0, 1)): Candle[] {
  return Array.from({ length: n }, (_, i) => {
    const close = 100 * g ** i;
    const open = i === 0 ? close : 100 * g ** (i - 1);
    return { timestamp: start + i * 3_600_000, open, high: close * 1.002, low: open * 0.998, close, volume: 10 + (i % 7) };
  });
}

/** Real candles for the benches, read from ../shared/data/ohlcv with the project's own CSV parser. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCandleCsv } from '../src/market/csv.js';
import type { Candle } from '../src/market/types.js';

export const DATA = resolve(dirname(fileURLToPath(import.meta.url)), '../../shared/data/ohlcv');

/** Benches need the real data: without it they say so and exit 0. */
export function requireData(): void {
  if (!existsSync(DATA)) {
    console.log(`no data at ${DATA}; skipping`);
    process.exit(0);
  }
}

/** Candles of one file (a name in DATA or a path), optionally only the last `days` of hourly rows. */
export function readCandles(file: string, days?: number): Candle[] {
  const { candles } = parseCandleCsv(readFileSync(file.includes('/') ? file : join(DATA, file), 'utf8'));
  return days === undefined ? candles : candles.slice(-days * 24);
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

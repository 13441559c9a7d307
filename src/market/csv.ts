import { readFile } from 'node:fs/promises';
import type { Candle } from './types.js';

export const CSV_HEADER = 'timestamp,open,high,low,close,volume';

export interface BadRow {
  /** 1-based line in the file. */
  line: number;
  reason: string;
}

export interface ParsedCsv {
  candles: Candle[];
  badRows: BadRow[];
}

/**
 * Parse `timestamp,open,high,low,close,volume` text. Rows that do not parse are reported with their
 * line and never kept; semantic checks (gaps, OHLC consistency) are validateCandles' job.
 */
export function parseCandleCsv(text: string): ParsedCsv {
  const candles: Candle[] = [];
  const badRows: BadRow[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    if (line.trim() === '') continue;
    if (i === 0 && /^[a-z]/i.test(line)) {
      if (line.trim() !== CSV_HEADER) badRows.push({ line: 1, reason: `unexpected header "${line}" (expected ${CSV_HEADER})` });
      continue;
    }
    const cells = line.split(',');
    if (cells.length !== 6) {
      badRows.push({ line: i + 1, reason: `expected 6 columns, got ${cells.length}` });
      continue;
    }
    const nums = cells.map((c) => (c.trim() === '' ? NaN : Number(c)));
    const badCol = nums.findIndex((n) => !Number.isFinite(n));
    if (badCol >= 0) {
      badRows.push({ line: i + 1, reason: `${CSV_HEADER.split(',')[badCol]} is not a number: "${cells[badCol]}"` });
      continue;
    }
    if (!Number.isInteger(nums[0])) {
      badRows.push({ line: i + 1, reason: `timestamp is not an integer: "${cells[0]}"` });
      continue;
    }
    const [timestamp, open, high, low, close, volume] = nums;
    candles.push({ timestamp, open, high, low, close, volume });
  }
  return { candles, badRows };
}

export class CsvFormatError extends Error {
  constructor(
    readonly file: string,
    readonly badRows: BadRow[],
  ) {
    super(`${file}: ${badRows.length} bad row(s): ${badRows.slice(0, 3).map((b) => `line ${b.line}: ${b.reason}`).join('; ')}`);
    this.name = 'CsvFormatError';
  }
}

export async function readCandleCsv(file: string): Promise<ParsedCsv> {
  return parseCandleCsv(await readFile(file, 'utf8'));
}

/** Shortest exact text for a number: the CSV round-trips to the same doubles. */
export function formatCandleCsv(candles: readonly Candle[]): string {
  const rows = candles.map((c) => `${c.timestamp},${c.open},${c.high},${c.low},${c.close},${c.volume}`);
  return `${CSV_HEADER}\n${rows.join('\n')}${rows.length ? '\n' : ''}`;
}

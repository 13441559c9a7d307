import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Candle } from './types.js';
import { absurdCandle } from './validate.js';

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
export type ParsedLine = { candle: Candle } | { bad: BadRow } | null;

/**
 * One line of the file (without its newline); `line` is 1-based. Null for blank lines and a good
 * header; a bad header, a row that does not parse or an absurd row is a BadRow with its line.
 */
export function parseCandleLine(raw: string, line: number): ParsedLine {
  const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  if (text.trim() === '') return null;
  if (line === 1 && /^[a-z]/i.test(text)) {
    return text.trim() === CSV_HEADER ? null : { bad: { line: 1, reason: `unexpected header "${text}" (expected ${CSV_HEADER})` } };
  }
  const cells = text.split(',');
  if (cells.length !== 6) return { bad: { line, reason: `expected 6 columns, got ${cells.length}` } };
  const nums = cells.map((c) => (c.trim() === '' ? NaN : Number(c)));
  const badCol = nums.findIndex((n) => !Number.isFinite(n));
  if (badCol >= 0) return { bad: { line, reason: `${CSV_HEADER.split(',')[badCol]} is not a number: "${cells[badCol]}"` } };
  if (!Number.isInteger(nums[0])) return { bad: { line, reason: `timestamp is not an integer: "${cells[0]}"` } };
  const [timestamp, open, high, low, close, volume] = nums;
  const candle = { timestamp, open, high, low, close, volume };
  // Quarantined with its line, like a row that does not parse: it never becomes a candle.
  const absurd = absurdCandle(candle);
  if (absurd) return { bad: { line, reason: absurd } };
  return { candle };
}

/**
 * Parse `timestamp,open,high,low,close,volume` text. Rows that do not parse (or carry absurd
 * values) are reported with their line and never kept; semantic checks (gaps, OHLC consistency)
 * are validateCandles' job.
 */
export function parseCandleCsv(text: string): ParsedCsv {
  const candles: Candle[] = [];
  const badRows: BadRow[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const r = parseCandleLine(lines[i], i + 1);
    if (!r) continue;
    if ('bad' in r) badRows.push(r.bad);
    else candles.push(r.candle);
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

/**
 * The lines of a file, split on '\n' exactly as parseCandleCsv splits text (a '\r' before it is
 * the line's business), read in chunks: a large file is never held whole as text or as a line array.
 */
export async function* fileLines(file: string): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const parts = (rest + (chunk as string)).split('\n');
    rest = parts.pop()!;
    yield* parts;
  }
  yield rest;
}

/** readCandleCsv() streamed (`kilo data check`): the same candles and bad rows, without the file's text in memory. */
export async function streamCandleCsv(file: string): Promise<ParsedCsv> {
  const candles: Candle[] = [];
  const badRows: BadRow[] = [];
  let line = 0;
  for await (const raw of fileLines(file)) {
    const r = parseCandleLine(raw, ++line);
    if (!r) continue;
    if ('bad' in r) badRows.push(r.bad);
    else candles.push(r.candle);
  }
  return { candles, badRows };
}

/** Shortest exact text for a number: the CSV round-trips to the same doubles. */
export function formatCandleCsv(candles: readonly Candle[]): string {
  const rows = candles.map((c) => `${c.timestamp},${c.open},${c.high},${c.low},${c.close},${c.volume}`);
  return `${CSV_HEADER}\n${rows.join('\n')}${rows.length ? '\n' : ''}`;
}

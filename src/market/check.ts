import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Timeframe } from './types.js';
import { readCandleCsv } from './csv.js';
import { historyStats, validateCandles, type ValidationReport } from './validate.js';

export interface FileCheck extends ValidationReport {
  file: string;
  symbol: string;
  timeframe: Timeframe;
  historyDays: number;
  coveragePct: number;
}

const FILE_RE = /^([A-Z0-9]+)-([A-Z0-9]+)-(1m|5m|15m|30m|1h|4h|1d)\.csv$/;

async function candleFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    if (e.isDirectory()) out.push(...(await candleFiles(join(dir, e.name))));
    else if (FILE_RE.test(e.name)) out.push(join(dir, e.name));
  }
  return out.sort();
}

/** Validate every `BASE-QUOTE-tf.csv` under the folders (recursively): what `kilo data check` prints. */
export async function checkCandleFolders(folders: string[], opts: { symbol?: string; now: number; windowDays: number }): Promise<FileCheck[]> {
  const out: FileCheck[] = [];
  for (const folder of folders) {
    for (const file of await candleFiles(folder)) {
      const m = FILE_RE.exec(file.split('/').pop()!)!;
      const symbol = `${m[1]}/${m[2]}`;
      if (opts.symbol && opts.symbol !== symbol) continue;
      const tf = m[3] as Timeframe;
      const parsed = await readCandleCsv(file);
      const report = validateCandles(parsed.candles, tf, { file, badRows: parsed.badRows, now: opts.now });
      const stats = historyStats(parsed.candles, tf, opts.windowDays, opts.now);
      out.push({ ...report, file, symbol, timeframe: tf, ...stats });
    }
  }
  return out;
}

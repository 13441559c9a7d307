import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TIMEFRAME_MS, type Timeframe } from './types.js';
import { streamCandleCsv } from './csv.js';
import { historyStats, validateCandles, type Gap, type ValidationReport } from './validate.js';
import { findSuspects, type SuspectCandle, type SuspectOptions } from './suspicious.js';

/**
 * `kilo data check` exit codes (README "kilo data check"):
 *   0  every file is sound: no bad rows, no invalid candles, no unconfirmed hole, nothing stale
 *   1  unusable rows or candles (unparseable, absurd, non-positive, inconsistent, duplicate, out of order)
 *   4  usable but incomplete: a hole the source has not confirmed (an interrupted fetch: `kilo data
 *      fetch` heals it), coverage below model.min_history_coverage_pct (CSV folders), or a stale
 *      store file (newest candle older than data.max_staleness_candles timeframes)
 * The worse code wins (1 over 4).
 */
export const CHECK_EXIT = { ok: 0, invalid: 1, incomplete: 4 } as const;

export interface FileCheck extends ValidationReport {
  file: string;
  symbol: string;
  timeframe: Timeframe;
  /** 'store': the candle cache (holes can be healed, staleness applies); 'csv': a data folder as given. */
  origin: 'store' | 'csv';
  historyDays: number;
  coveragePct: number;
  /** Gaps the source confirmed empty (store sidecar): reported, not counted as problems. */
  confirmedGaps: Gap[];
  /** Gaps nobody confirmed: an interrupted fetch left them. */
  openGaps: Gap[];
  /** Age of the newest candle at `now` (ms after its close). */
  ageMs: number | null;
  suspects: SuspectCandle[];
  /** The verdict: 0 / 1 / 4 as in CHECK_EXIT, and why. */
  exitCode: 0 | 1 | 4;
  problems: string[];
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

async function confirmedRanges(file: string): Promise<[number, number][]> {
  try {
    const raw = JSON.parse(await readFile(`${file}.gaps.json`, 'utf8')) as { confirmed?: [number, number][] };
    return Array.isArray(raw.confirmed) ? raw.confirmed : [];
  } catch {
    return [];
  }
}

export interface CheckOptions {
  symbol?: string;
  now: number;
  windowDays: number;
  /** data.max_staleness_candles */
  maxStaleCandles: number;
  /** model.min_history_coverage_pct */
  minCoverage: number;
  suspect?: Partial<SuspectOptions>;
}

/** Validate every `BASE-QUOTE-tf.csv` under the folders (recursively): what `kilo data check` prints. */
export async function checkCandleFolders(folders: { dir: string; origin: 'store' | 'csv' }[], opts: CheckOptions): Promise<FileCheck[]> {
  const out: FileCheck[] = [];
  for (const { dir, origin } of folders) {
    for (const file of await candleFiles(dir)) {
      const m = FILE_RE.exec(file.split('/').pop()!)!;
      const symbol = `${m[1]}/${m[2]}`;
      if (opts.symbol && opts.symbol !== symbol) continue;
      const tf = m[3] as Timeframe;
      const step = TIMEFRAME_MS[tf];
      // Streamed: a 500 MB CSV is not held as text (and a line array) beside its candles.
      const parsed = await streamCandleCsv(file);
      const report = validateCandles(parsed.candles, tf, { file, badRows: parsed.badRows, now: opts.now, staleAfterMs: opts.maxStaleCandles * step });
      const stats = historyStats(parsed.candles, tf, opts.windowDays, opts.now);
      const confirmed = origin === 'store' ? await confirmedRanges(file) : [];
      const isConfirmed = (g: Gap) => confirmed.some(([a, b]) => g.from >= a && g.to <= b);
      const confirmedGaps = report.gaps.filter(isConfirmed);
      const openGaps = report.gaps.filter((g) => !isConfirmed(g));
      const ageMs = report.last === null ? null : opts.now - (report.last + step);
      const problems: string[] = [];
      if (!report.ok) problems.push('unusable rows or candles');
      if (origin === 'store' && openGaps.length) problems.push(`${openGaps.length} hole(s) not confirmed by the source (run kilo data fetch to heal)`);
      if (origin === 'csv' && stats.coveragePct < opts.minCoverage && report.gaps.length) {
        problems.push(`coverage ${(stats.coveragePct * 100).toFixed(1)}% < ${(opts.minCoverage * 100).toFixed(0)}% (model.min_history_coverage_pct)`);
      }
      // A data folder is history as given; staleness is about the store a live source keeps up to date.
      const stale = origin === 'store' && report.stale;
      if (stale) problems.push(`stale: newest candle closed ${ageMs === null ? 'never' : `${(ageMs / 3_600_000).toFixed(1)} h`} ago (> ${opts.maxStaleCandles} x ${tf})`);
      const exitCode: 0 | 1 | 4 = !report.ok ? 1 : problems.length ? 4 : 0;
      out.push({
        ...report,
        stale,
        file,
        symbol,
        timeframe: tf,
        origin,
        ...stats,
        confirmedGaps,
        openGaps,
        ageMs,
        suspects: findSuspects(parsed.candles, opts.suspect),
        exitCode,
        problems,
      });
    }
  }
  return out;
}

/** The command's exit code: the worst file's (1 over 4 over 0). */
export const checkExitCode = (reports: readonly FileCheck[]): 0 | 1 | 4 =>
  reports.some((r) => r.exitCode === 1) ? 1 : reports.some((r) => r.exitCode === 4) ? 4 : 0;

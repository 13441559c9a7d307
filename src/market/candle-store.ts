import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../clock.js';
import { writeFileAtomic } from '../util/atomic.js';
import { TIMEFRAME_MS, symbolToFileStem, type Candle, type MarketDataSource, type Timeframe } from './types.js';
import { CsvFormatError, formatCandleCsv, parseCandleCsv } from './csv.js';
import { cleanCandles, validateCandles, type ValidationReport } from './validate.js';
import { checkSymbolSyntax } from './symbols.js';
import { UnsafeSymbolError } from './csv-source.js';

export interface StoreProgress {
  symbol: string;
  timeframe: Timeframe;
  fetched: number;
  /** Open time reached so far. */
  cursor: number;
  until: number;
}

export interface UpdateResult {
  added: number;
  total: number;
  /** Candles the source sent that failed validation and were not stored. */
  rejected: number;
  report: ValidationReport;
}

/**
 * On-disk candle cache: <root>/<source>/<BTC-USDT>-<tf>.csv, written atomically after every chunk so
 * an interrupted fetch resumes where it stopped. Only validated candles are stored.
 *
 * Holes are filled wherever they are: before the first candle, after the last, and inside (a
 * backfill interrupted by an outage leaves one there). A hole the source itself confirms - it
 * answered the range without error, with candles after the hole but none in it (a listing gap, an
 * exchange maintenance) - is recorded in `<file>.gaps.json` and not asked again.
 */
export class CandleStore {
  constructor(
    readonly root: string,
    private readonly clock: Clock,
    private readonly opts: { expiryMs?: number; chunkCandles?: number } = {},
  ) {}

  file(sourceName: string, symbol: string, tf: Timeframe): string {
    // The symbol becomes a file name: only BASE/QUOTE may (a planted "X/../../" never opens a file).
    const ok = checkSymbolSyntax(symbol, { normalise: false });
    if (!ok.ok) throw new UnsafeSymbolError(symbol, ok.reason);
    return join(this.root, sourceName, `${symbolToFileStem(symbol)}-${tf}.csv`);
  }

  gapsFile(sourceName: string, symbol: string, tf: Timeframe): string {
    return `${this.file(sourceName, symbol, tf)}.gaps.json`;
  }

  /** Stored candles; a corrupt file is an error naming the file and the bad lines. */
  async read(sourceName: string, symbol: string, tf: Timeframe): Promise<Candle[]> {
    const file = this.file(sourceName, symbol, tf);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const parsed = parseCandleCsv(text);
    if (parsed.badRows.length) throw new CsvFormatError(file, parsed.badRows);
    return parsed.candles;
  }

  /** Ranges of open times the source confirmed empty ([from, to], inclusive). */
  async confirmedGaps(sourceName: string, symbol: string, tf: Timeframe): Promise<[number, number][]> {
    try {
      const raw = JSON.parse(await readFile(this.gapsFile(sourceName, symbol, tf), 'utf8')) as { confirmed?: unknown };
      return Array.isArray(raw.confirmed) ? raw.confirmed.filter((g): g is [number, number] => Array.isArray(g) && g.length === 2 && g.every(Number.isFinite)) : [];
    } catch {
      // Missing or unreadable: nothing is confirmed, so holes are simply asked again.
      return [];
    }
  }

  /** True when the newest stored candle is older than the expiry allows. */
  async isStale(sourceName: string, symbol: string, tf: Timeframe): Promise<boolean> {
    const candles = await this.read(sourceName, symbol, tf);
    const last = candles.at(-1);
    if (!last) return true;
    const expiry = this.opts.expiryMs ?? 3_600_000;
    return this.clock.now() - (last.timestamp + TIMEFRAME_MS[tf]) > expiry;
  }

  /**
   * Fill the store for [since, now): before the first stored candle, every unconfirmed hole inside,
   * then after the last one. Existing candles are never fetched again.
   */
  async update(
    source: MarketDataSource,
    sourceName: string,
    symbol: string,
    tf: Timeframe,
    since: number,
    onProgress?: (p: StoreProgress) => void,
  ): Promise<UpdateResult> {
    const step = TIMEFRAME_MS[tf];
    const file = this.file(sourceName, symbol, tf);
    let candles = await this.read(sourceName, symbol, tf);
    let confirmed = await this.confirmedGaps(sourceName, symbol, tf);
    const before = candles.length;
    const now = this.clock.now();
    const start = Math.ceil(since / step) * step;
    const ranges = missingRanges(candles, start, now, step, confirmed);
    const chunk = (this.opts.chunkCandles ?? 1000) * step;
    let rejected = 0;
    let fetched = 0;
    for (const [from, to] of ranges) {
      for (let cursor = from; cursor < to; cursor += chunk) {
        const end = Math.min(to, cursor + chunk);
        const got = await source.fetchCandles(symbol, tf, cursor, end);
        const clean = cleanCandles(got, tf).filter((c) => c.timestamp + step <= now);
        rejected += got.length - clean.length;
        fetched += clean.length;
        if (clean.length) {
          candles = mergeCandles(candles, clean);
          await writeFileAtomic(file, formatCandleCsv(candles));
        }
        // The source answered this chunk: an open time it sent nothing for, with a stored candle
        // after it, is a real hole. (A candle it sent but that failed validation is not: asked again.)
        const sent = new Set(got.map((c) => c.timestamp));
        const newest = candles.length ? candles[candles.length - 1].timestamp : -Infinity;
        const more = confirmEmpty(candles, cursor, Math.min(end, newest), step, sent);
        if (more.length) {
          confirmed = mergeRanges([...confirmed, ...more], step);
          await writeFileAtomic(this.gapsFile(sourceName, symbol, tf), JSON.stringify({ confirmed }));
        }
        onProgress?.({ symbol, timeframe: tf, fetched, cursor: end, until: to });
      }
    }
    return { added: candles.length - before, total: candles.length, rejected, report: validateCandles(candles, tf, { file, now }) };
  }

  /** Candles in [since, until), topping the store up first when it is stale or has unconfirmed holes there. */
  async get(source: MarketDataSource, sourceName: string, symbol: string, tf: Timeframe, since: number, until: number): Promise<Candle[]> {
    const stored = await this.read(sourceName, symbol, tf);
    const step = TIMEFRAME_MS[tf];
    const holes = () =>
      this.confirmedGaps(sourceName, symbol, tf).then((g) =>
        missingRanges(stored, Math.ceil(since / step) * step, Math.min(until, this.clock.now()), step, g).some(([, b]) => b <= stored[stored.length - 1].timestamp),
      );
    // Unconfirmed holes before the first candle or inside (not the tail: that is what isStale is for).
    if (!stored.length || (await this.isStale(sourceName, symbol, tf)) || (await holes())) {
      await this.update(source, sourceName, symbol, tf, since);
    }
    return (await this.read(sourceName, symbol, tf)).filter((c) => c.timestamp >= since && c.timestamp < until);
  }
}

/**
 * Open-time ranges [from, to) to ask for between `start` and `now`: before the first candle, every
 * hole inside not covered by a confirmed gap, and after the last candle.
 */
export function missingRanges(candles: readonly Candle[], start: number, now: number, step: number, confirmed: readonly [number, number][] = []): [number, number][] {
  if (!candles.length) return start < now ? [[start, now]] : [];
  const out: [number, number][] = [];
  const isConfirmed = (t: number) => confirmed.some(([a, b]) => t >= a && t <= b);
  const push = (from: number, to: number) => {
    // Split around confirmed gaps so they are never asked again.
    let cur = from;
    while (cur < to) {
      while (cur < to && isConfirmed(cur)) cur += step;
      let end = cur;
      while (end < to && !isConfirmed(end)) end += step;
      if (end > cur) out.push([cur, end]);
      cur = end;
    }
  };
  if (start < candles[0].timestamp) push(start, candles[0].timestamp);
  for (let i = 1; i < candles.length; i++) {
    const prev = candles[i - 1].timestamp;
    const next = candles[i].timestamp;
    if (next - prev > step && next > start) push(Math.max(prev + step, start), next);
  }
  const last = candles[candles.length - 1].timestamp;
  if (last + step < now) out.push([last + step, now]);
  return out;
}

/** Open times in [from, to) on the grid with no stored candle and none sent: confirmed empty, as ranges. */
function confirmEmpty(candles: readonly Candle[], from: number, to: number, step: number, sent: ReadonlySet<number>): [number, number][] {
  const have = new Set(candles.map((c) => c.timestamp));
  const out: [number, number][] = [];
  for (let t = Math.ceil(from / step) * step; t < to; t += step) {
    if (have.has(t) || sent.has(t)) continue;
    const lastRange = out[out.length - 1];
    if (lastRange && lastRange[1] === t - step) lastRange[1] = t;
    else out.push([t, t]);
  }
  return out;
}

function mergeRanges(ranges: [number, number][], step: number): [number, number][] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + step) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

/** Union by timestamp; the newer fetch wins on conflicts. */
export function mergeCandles(a: readonly Candle[], b: readonly Candle[]): Candle[] {
  const m = new Map<number, Candle>();
  for (const c of a) m.set(c.timestamp, c);
  for (const c of b) m.set(c.timestamp, c);
  return [...m.values()].sort((x, y) => x.timestamp - y.timestamp);
}

export const storeSourceName = (kind: string, exchangeId: string, seed?: number): string =>
  kind === 'exchange' ? exchangeId : kind === 'sim' ? `sim-${seed ?? 0}` : 'csv';


import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../clock.js';
import { writeFileAtomic } from '../util/atomic.js';
import { TIMEFRAME_MS, symbolToFileStem, type Candle, type MarketDataSource, type Timeframe } from './types.js';
import { CsvFormatError, formatCandleCsv, parseCandleCsv } from './csv.js';
import { cleanCandles, validateCandles, type ValidationReport } from './validate.js';

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
 */
export class CandleStore {
  constructor(
    readonly root: string,
    private readonly clock: Clock,
    private readonly opts: { expiryMs?: number; chunkCandles?: number } = {},
  ) {}

  file(sourceName: string, symbol: string, tf: Timeframe): string {
    return join(this.root, sourceName, `${symbolToFileStem(symbol)}-${tf}.csv`);
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

  /** True when the newest stored candle is older than the expiry allows. */
  async isStale(sourceName: string, symbol: string, tf: Timeframe): Promise<boolean> {
    const candles = await this.read(sourceName, symbol, tf);
    const last = candles.at(-1);
    if (!last) return true;
    const expiry = this.opts.expiryMs ?? 3_600_000;
    return this.clock.now() - (last.timestamp + TIMEFRAME_MS[tf]) > expiry;
  }

  /**
   * Fill the store for [since, now): backfill before the first stored candle when `since` is
   * earlier, then top up after the last one. Existing candles are never fetched again.
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
    const before = candles.length;
    const now = this.clock.now();
    const start = Math.ceil(since / step) * step;
    const ranges: [number, number][] = [];
    if (!candles.length) ranges.push([start, now]);
    else {
      if (start < candles[0].timestamp) ranges.push([start, candles[0].timestamp]);
      ranges.push([candles[candles.length - 1].timestamp + step, now]);
    }
    const chunk = (this.opts.chunkCandles ?? 1000) * step;
    let rejected = 0;
    let fetched = 0;
    for (const [from, to] of ranges) {
      for (let cursor = from; cursor < to; cursor += chunk) {
        const got = await source.fetchCandles(symbol, tf, cursor, Math.min(to, cursor + chunk));
        const clean = cleanCandles(got, tf).filter((c) => c.timestamp + step <= now);
        rejected += got.length - clean.length;
        fetched += clean.length;
        if (clean.length) {
          candles = mergeCandles(candles, clean);
          await writeFileAtomic(file, formatCandleCsv(candles));
        }
        onProgress?.({ symbol, timeframe: tf, fetched, cursor: Math.min(to, cursor + chunk), until: to });
      }
    }
    return { added: candles.length - before, total: candles.length, rejected, report: validateCandles(candles, tf, { file, now }) };
  }

  /** Candles in [since, until), topping the store up first when it is stale. */
  async get(source: MarketDataSource, sourceName: string, symbol: string, tf: Timeframe, since: number, until: number): Promise<Candle[]> {
    const stored = await this.read(sourceName, symbol, tf);
    if (!stored.length || stored[0].timestamp > since || (await this.isStale(sourceName, symbol, tf))) {
      await this.update(source, sourceName, symbol, tf, since);
    }
    return (await this.read(sourceName, symbol, tf)).filter((c) => c.timestamp >= since && c.timestamp < until);
  }
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


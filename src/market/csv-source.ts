import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../clock.js';
import { TIMEFRAME_MS, fileStemToSymbol, symbolToFileStem, type Candle, type MarketDataSource, type SymbolInfo, type Timeframe } from './types.js';
import { CsvFormatError, readCandleCsv } from './csv.js';
import { cleanCandles, validateCandles } from './validate.js';

export class UnknownSymbolError extends Error {
  constructor(
    readonly symbol: string,
    readonly where: string,
  ) {
    super(`unknown symbol ${symbol} in ${where}`);
    this.name = 'UnknownSymbolError';
  }
}

const FILE_RE = /^([A-Z0-9]+-[A-Z0-9]+)-(1m|5m|15m|30m|1h|4h|1d)\.csv$/;

/**
 * Replays a folder of `BTC-USDT-1h.csv` files as if live: the injected clock's now() bounds what
 * is visible, so a replay sees exactly the candles that had closed at that moment.
 */
export class CsvMarketSource implements MarketDataSource {
  readonly kind = 'csv' as const;
  readonly description: string;
  private cache = new Map<string, Promise<Candle[]>>();

  constructor(
    private readonly dir: string,
    private readonly clock: Clock,
    private readonly opts: { strict?: boolean } = {},
  ) {
    this.description = `csv replay ${dir}`;
  }

  async listSymbols(tf: Timeframe = '1h'): Promise<SymbolInfo[]> {
    const files = (await readdir(this.dir)).map((f) => FILE_RE.exec(f)).filter((m): m is RegExpExecArray => !!m && m[2] === tf);
    const out: SymbolInfo[] = [];
    for (const m of files) {
      const symbol = fileStemToSymbol(m[1]);
      const visible = await this.visible(symbol, tf);
      const last24 = visible.slice(-24);
      const quoteVolume24h = last24.reduce((s, c) => s + c.volume, 0) * (last24.at(-1)?.close ?? 0);
      const [base, quote] = symbol.split('/');
      out.push({ symbol, base, quote, quoteVolume24h });
    }
    return out.sort((a, b) => b.quoteVolume24h - a.quoteVolume24h);
  }

  async fetchCandles(symbol: string, tf: Timeframe, since: number, until: number): Promise<Candle[]> {
    const all = await this.allCandles(symbol, tf);
    const end = Math.min(this.visibleCount(all, tf), firstAtOrAfter(all, until));
    return all.slice(Math.min(end, firstAtOrAfter(all, since)), end);
  }

  async latestClosedCandle(symbol: string, tf: Timeframe): Promise<Candle | undefined> {
    const all = await this.allCandles(symbol, tf);
    const n = this.visibleCount(all, tf);
    return n > 0 ? all[n - 1] : undefined;
  }

  /** Every candle in the file, including those in the replay's future (for validation). */
  async allCandles(symbol: string, tf: Timeframe): Promise<Candle[]> {
    let p = this.cache.get(`${symbol}|${tf}`);
    if (!p) {
      p = this.load(symbol, tf);
      this.cache.set(`${symbol}|${tf}`, p);
      p.catch(() => this.cache.delete(`${symbol}|${tf}`));
    }
    return p;
  }

  fileFor(symbol: string, tf: Timeframe): string {
    return join(this.dir, `${symbolToFileStem(symbol)}-${tf}.csv`);
  }

  private async visible(symbol: string, tf: Timeframe): Promise<Candle[]> {
    const all = await this.allCandles(symbol, tf);
    return all.slice(0, this.visibleCount(all, tf));
  }

  /** How many candles had closed (timestamp + tf <= now) at the clock's now. */
  private visibleCount(all: readonly Candle[], tf: Timeframe): number {
    return firstAtOrAfter(all, this.clock.now() - TIMEFRAME_MS[tf] + 1);
  }

  private async load(symbol: string, tf: Timeframe): Promise<Candle[]> {
    const file = this.fileFor(symbol, tf);
    let parsed;
    try {
      parsed = await readCandleCsv(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UnknownSymbolError(symbol, this.dir);
      throw err;
    }
    const report = validateCandles(parsed.candles, tf, { file, badRows: parsed.badRows });
    // Bad rows are never silently kept: strict mode refuses the file, lenient mode drops them
    // (they were never parsed into candles) and the report says so through `kilo data check`.
    if (this.opts.strict && !report.ok) throw new CsvFormatError(file, report.badRows.length ? report.badRows : [{ line: 0, reason: 'invalid candles (see kilo data check)' }]);
    return cleanCandles(parsed.candles, tf);
  }
}

/** Index of the first candle with timestamp >= t (binary search over the sorted series). */
function firstAtOrAfter(all: readonly Candle[], t: number): number {
  let lo = 0;
  let hi = all.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (all[mid].timestamp < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

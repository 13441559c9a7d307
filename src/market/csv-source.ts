import { readdir } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { Clock } from '../clock.js';
import {
  TIMEFRAME_MS,
  fileStemToSymbol,
  symbolToFileStem,
  type Candle,
  type DataSourceInfo,
  type MarketDataSource,
  type SymbolInfo,
  type Timeframe,
} from './types.js';
import { CsvFormatError } from './csv.js';
import { indexCsv, lastCandleBefore, readCsvRange, type CsvIndex } from './csv-index.js';
import { checkSymbolSyntax } from './symbols.js';

export class UnknownSymbolError extends Error {
  constructor(
    readonly symbol: string,
    readonly where: string,
  ) {
    super(`unknown symbol ${symbol} in ${where}`);
    this.name = 'UnknownSymbolError';
  }
}

/** A symbol that is not BASE/QUOTE, or whose file would lie outside the folder: never opened. */
export class UnsafeSymbolError extends Error {
  constructor(
    readonly symbol: string,
    reason: string,
  ) {
    super(`refused symbol ${JSON.stringify(symbol)}: ${reason}`);
    this.name = 'UnsafeSymbolError';
  }
}

const FILE_RE = /^([A-Z0-9]+-[A-Z0-9]+)-(1m|5m|15m|30m|1h|4h|1d)\.csv$/;

export interface CsvSourceOptions {
  /** Refuse a file with any bad or invalid row instead of dropping those rows. */
  strict?: boolean;
  /** Timeframe whose files make the market list (listedSymbols). @default '1h' */
  timeframe?: Timeframe;
}

/**
 * Replays a folder of `BTC-USDT-1h.csv` files as if live: the injected clock's now() bounds what
 * is visible, so a replay sees exactly the candles that had closed at that moment. Files are
 * indexed once in a streaming pass and read back by range (csv-index.ts), never held whole.
 */
export class CsvMarketSource implements MarketDataSource {
  readonly kind = 'csv' as const;
  readonly description: string;
  readonly listName: string;
  readonly dir: string;
  private readonly indexes = new Map<string, Promise<CsvIndex>>();

  constructor(
    dir: string,
    private readonly clock: Clock,
    private readonly opts: CsvSourceOptions = {},
  ) {
    this.dir = resolve(dir);
    this.description = `csv replay ${this.dir}`;
    this.listName = `csv folder ${this.dir}`;
  }

  async listSymbols(tf: Timeframe = this.opts.timeframe ?? '1h'): Promise<SymbolInfo[]> {
    const now = this.clock.now();
    const out: SymbolInfo[] = [];
    for (const symbol of await this.symbolsWithFiles(tf)) {
      const last24 = await this.fetchCandles(symbol, tf, now - 25 * TIMEFRAME_MS[tf], now);
      const recent = last24.slice(-24);
      const quoteVolume24h = recent.reduce((s, c) => s + c.volume, 0) * (recent.at(-1)?.close ?? 0);
      const [base, quote] = symbol.split('/');
      out.push({ symbol, base, quote, quoteVolume24h });
    }
    return out.sort((a, b) => b.quoteVolume24h - a.quoteVolume24h);
  }

  listedSymbols(): Promise<string[]> {
    return this.symbolsWithFiles(this.opts.timeframe ?? '1h');
  }

  async fetchCandles(symbol: string, tf: Timeframe, since: number, until: number): Promise<Candle[]> {
    const idx = await this.index(symbol, tf);
    return readCsvRange(idx, tf, since, Math.min(until, this.visibleBound(tf)));
  }

  async latestClosedCandle(symbol: string, tf: Timeframe): Promise<Candle | undefined> {
    return lastCandleBefore(await this.index(symbol, tf), tf, this.visibleBound(tf));
  }

  /** Every candle in the file, including those in the replay's future (validation, small files). */
  async allCandles(symbol: string, tf: Timeframe): Promise<Candle[]> {
    return readCsvRange(await this.index(symbol, tf), tf, -Infinity, Infinity);
  }

  /** First and last candle of the whole file (future included), without reading it. */
  async range(symbol: string, tf: Timeframe): Promise<{ first: number | null; last: number | null; rows: number }> {
    const idx = await this.index(symbol, tf);
    return { first: idx.first, last: idx.last, rows: idx.rows };
  }

  async provenance(symbols: readonly string[], tf: Timeframe): Promise<DataSourceInfo> {
    const files: Record<string, string> = {};
    for (const s of symbols) {
      const idx = await this.index(s, tf);
      files[idx.file.slice(this.dir.length + 1)] = idx.sha256;
    }
    return { kind: 'csv', dir: this.dir, files };
  }

  /** The file of a symbol; refuses a symbol that is not BASE/QUOTE or a path outside the folder. */
  fileFor(symbol: string, tf: Timeframe): string {
    const ok = checkSymbolSyntax(symbol, { normalise: false });
    if (!ok.ok) throw new UnsafeSymbolError(symbol, ok.reason);
    const file = resolve(join(this.dir, `${symbolToFileStem(symbol)}-${tf}.csv`));
    // Belt and braces: the syntax already excludes separators and dots.
    if (!file.startsWith(this.dir + sep)) throw new UnsafeSymbolError(symbol, `its file would be outside ${this.dir}`);
    return file;
  }

  /** The streaming index of a file, built once per source. */
  index(symbol: string, tf: Timeframe): Promise<CsvIndex> {
    const key = `${symbol}|${tf}`;
    let p = this.indexes.get(key);
    if (!p) {
      p = this.load(symbol, tf);
      this.indexes.set(key, p);
      p.catch(() => this.indexes.delete(key));
    }
    return p;
  }

  private async symbolsWithFiles(tf: Timeframe): Promise<string[]> {
    return (await readdir(this.dir))
      .map((f) => FILE_RE.exec(f))
      .filter((m): m is RegExpExecArray => !!m && m[2] === tf)
      .map((m) => fileStemToSymbol(m[1]));
  }

  /** Open times below this have closed (timestamp + tf <= now). */
  private visibleBound(tf: Timeframe): number {
    return this.clock.now() - TIMEFRAME_MS[tf] + 1;
  }

  private async load(symbol: string, tf: Timeframe): Promise<CsvIndex> {
    const file = this.fileFor(symbol, tf);
    let idx: CsvIndex;
    try {
      idx = await indexCsv(file, tf);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UnknownSymbolError(symbol, this.dir);
      throw err;
    }
    // Bad rows are never silently kept: strict mode refuses the file, lenient mode drops them
    // (they were never parsed into candles) and `kilo data check` lists them.
    if (this.opts.strict && (idx.badRowCount || idx.invalidRows)) {
      throw new CsvFormatError(file, idx.badRows.length ? idx.badRows : [{ line: 0, reason: `${idx.invalidRows} invalid candle(s) (see kilo data check)` }]);
    }
    return idx;
  }
}

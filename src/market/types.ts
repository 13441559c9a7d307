/** One OHLCV candle; timestamp is the candle open time in ms UTC. */
export interface Candle {
  timestamp: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

export type Timeframe = '1m' | '5m' | '15m' | '30m' | '1h' | '4h' | '1d';

export const TIMEFRAME_MS: Record<Timeframe, number> = {
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '30m': 1_800_000,
  '1h': 3_600_000,
  '4h': 14_400_000,
  '1d': 86_400_000,
};

export interface SymbolInfo {
  /** Unified ccxt form, e.g. "BTC/USDT". */
  symbol: string;
  base: string;
  quote: string;
  /** 24h traded volume in quote currency (0 when unknown). */
  quoteVolume24h: number;
}

/** Where candles come from: a ccxt exchange, a folder of CSV files, or the seeded simulator. */
export interface MarketDataSource {
  readonly kind: 'exchange' | 'csv' | 'sim';
  /** Human description for headers and logs, e.g. "binance (ccxt)" or "simulator seed 42". */
  readonly description: string;
  listSymbols(): Promise<SymbolInfo[]>;
  /** Closed candles with since <= timestamp < until, ascending, no duplicates. */
  fetchCandles(symbol: string, timeframe: Timeframe, since: number, until: number): Promise<Candle[]>;
  /** The most recent fully closed candle at the source's notion of "now". */
  latestClosedCandle(symbol: string, timeframe: Timeframe): Promise<Candle | undefined>;
  close?(): Promise<void>;
  /** Name used in "not listed on <name>" (default: description). */
  readonly listName?: string;
  /** Every symbol the source lists (no volumes, no extra request when markets are cached). */
  listedSymbols?(): Promise<string[]>;
  /** Where the candles of these symbols come from, for an artifact's metadata (never credentials). */
  provenance?(symbols: readonly string[], timeframe: Timeframe): Promise<DataSourceInfo>;
}

/** The kind of source and what identifies it; recorded in every artifact as `data_source`. */
export type DataSourceInfo =
  | { kind: 'exchange'; exchange: string; sandbox: boolean; api_host: string }
  | { kind: 'csv'; dir: string; files: Record<string, string> }
  | { kind: 'sim'; seed: number };

/** "BTC/USDT" -> "BTC-USDT" (file names), and back. */
export const symbolToFileStem = (symbol: string): string => symbol.replace('/', '-');
export const fileStemToSymbol = (stem: string): string => stem.replace('-', '/');

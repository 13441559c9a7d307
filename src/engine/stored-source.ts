/**
 * A live exchange seen through the on-disk candle store: every candle the engine uses was
 * validated and cached first (data/candles/<exchange>/...), restarts top up incrementally instead
 * of refetching years of history, and a bad candle from the exchange never reaches a model.
 */
import type { Clock } from '../clock.js';
import { CandleStore } from '../market/candle-store.js';
import type { Candle, DataSourceInfo, MarketDataSource, SymbolInfo, Timeframe } from '../market/types.js';

export class StoredSource implements MarketDataSource {
  readonly kind: MarketDataSource['kind'];
  readonly description: string;
  readonly listName?: string;

  private readonly staleSymbols = new Set<string>();
  /** Told once per outage per symbol when cached candles stand in for the exchange. */
  onStale?: (symbol: string, message: string) => void;

  constructor(
    readonly inner: MarketDataSource,
    readonly store: CandleStore,
    private readonly storeName: string,
  ) {
    this.kind = inner.kind;
    this.description = inner.description;
    this.listName = inner.listName;
  }

  static create(inner: MarketDataSource, root: string, storeName: string, clock: Clock, expiryMs: number): StoredSource {
    return new StoredSource(inner, new CandleStore(root, clock, { expiryMs }), storeName);
  }

  listSymbols(): Promise<SymbolInfo[]> {
    return this.inner.listSymbols();
  }

  async listedSymbols(): Promise<string[]> {
    return this.inner.listedSymbols ? this.inner.listedSymbols() : (await this.inner.listSymbols()).map((s) => s.symbol);
  }

  provenance(symbols: readonly string[], tf: Timeframe): Promise<DataSourceInfo> {
    if (!this.inner.provenance) throw new Error(`${this.description}: no provenance`);
    return this.inner.provenance(symbols, tf);
  }

  /** True while `symbol` is served from the cache because the exchange failed (its newest candles may be missing). */
  degraded(symbol: string): boolean {
    return this.staleSymbols.has(symbol);
  }

  /**
   * Candles from the store, topped up from the exchange. When the exchange cannot be reached the
   * cached candles are served (the caller is told once through `onStale`) so the engine keeps
   * running on what it had; with nothing cached the error goes up and the symbol is skipped.
   */
  async fetchCandles(symbol: string, tf: Timeframe, since: number, until: number): Promise<Candle[]> {
    try {
      const got = await this.store.get(this.inner, this.storeName, symbol, tf, since, until);
      if (this.staleSymbols.delete(symbol)) this.onStale?.(symbol, `${symbol}: exchange answers again; cache topped up`);
      return got;
    } catch (err) {
      const cached = (await this.store.read(this.storeName, symbol, tf).catch(() => [])).filter((c) => c.timestamp >= since && c.timestamp < until);
      if (!cached.length) throw err;
      if (!this.staleSymbols.has(symbol)) {
        this.staleSymbols.add(symbol);
        const last = new Date(cached[cached.length - 1].timestamp).toISOString();
        this.onStale?.(symbol, `${symbol}: exchange unavailable (${(err as Error).message}); using ${cached.length} cached candles up to ${last}`);
      }
      return cached;
    }
  }

  /** The exchange's newest closed candle; while it is unreachable, the newest cached one. */
  async latestClosedCandle(symbol: string, tf: Timeframe): Promise<Candle | undefined> {
    try {
      return await this.inner.latestClosedCandle(symbol, tf);
    } catch (err) {
      const cached = await this.store.read(this.storeName, symbol, tf).catch(() => []);
      if (!cached.length) throw err;
      return cached[cached.length - 1];
    }
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }
}

/**
 * A live exchange seen through the on-disk candle store: every candle the engine uses was
 * validated and cached first (data/candles/<exchange>/...), restarts top up incrementally instead
 * of refetching years of history, and a bad candle from the exchange never reaches a model.
 */
import type { Clock } from '../clock.js';
import { CandleStore } from '../market/candle-store.js';
import type { Candle, MarketDataSource, SymbolInfo, Timeframe } from '../market/types.js';

export class StoredSource implements MarketDataSource {
  readonly kind: MarketDataSource['kind'];
  readonly description: string;

  private readonly staleSymbols = new Set<string>();
  /** Told once per outage per symbol when cached candles stand in for the exchange. */
  onStale?: (symbol: string, message: string) => void;

  constructor(
    private readonly inner: MarketDataSource,
    readonly store: CandleStore,
    private readonly storeName: string,
  ) {
    this.kind = inner.kind;
    this.description = inner.description;
  }

  static create(inner: MarketDataSource, root: string, storeName: string, clock: Clock, expiryMs: number): StoredSource {
    return new StoredSource(inner, new CandleStore(root, clock, { expiryMs }), storeName);
  }

  listSymbols(): Promise<SymbolInfo[]> {
    return this.inner.listSymbols();
  }

  /**
   * Candles from the store, topped up from the exchange. When the exchange cannot be reached the
   * cached candles are served (the caller is told once through `onStale`) so the engine keeps
   * running on what it had; with nothing cached the error goes up and the symbol is skipped.
   */
  async fetchCandles(symbol: string, tf: Timeframe, since: number, until: number): Promise<Candle[]> {
    try {
      const got = await this.store.get(this.inner, this.storeName, symbol, tf, since, until);
      this.staleSymbols.delete(symbol);
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

  latestClosedCandle(symbol: string, tf: Timeframe): Promise<Candle | undefined> {
    return this.inner.latestClosedCandle(symbol, tf);
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }
}

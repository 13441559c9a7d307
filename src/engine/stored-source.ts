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

  fetchCandles(symbol: string, tf: Timeframe, since: number, until: number): Promise<Candle[]> {
    return this.store.get(this.inner, this.storeName, symbol, tf, since, until);
  }

  latestClosedCandle(symbol: string, tf: Timeframe): Promise<Candle | undefined> {
    return this.inner.latestClosedCandle(symbol, tf);
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }
}

/**
 * Rolling per-symbol candle buffers for the live loop. The first poll of a symbol loads enough
 * history for the predictors' warm-up; later polls ask only for what closed since the last candle.
 * A symbol whose fetch fails is reported and skipped; the others go on.
 */
import { TIMEFRAME_MS, type Candle, type MarketDataSource, type Timeframe } from '../market/types.js';
import { cleanCandles } from '../market/validate.js';

export interface FeedPoll {
  /** Candles that closed since the previous poll, per symbol, ascending. */
  fresh: Map<string, Candle[]>;
  failures: { symbol: string; error: string }[];
}

export class MarketFeed {
  private readonly buffers = new Map<string, Candle[]>();
  private readonly step: number;

  constructor(
    private readonly source: MarketDataSource,
    private readonly tf: Timeframe,
    /** Candles kept per symbol (predictor warm-up + window + margin). */
    private readonly keep: number,
  ) {
    this.step = TIMEFRAME_MS[tf];
  }

  candles(symbol: string): readonly Candle[] {
    return this.buffers.get(symbol) ?? [];
  }

  last(symbol: string): Candle | undefined {
    const b = this.buffers.get(symbol);
    return b?.[b.length - 1];
  }

  forget(symbol: string): void {
    this.buffers.delete(symbol);
  }

  /** Fetch what closed up to `now` for every symbol, in parallel, isolating failures. */
  async poll(symbols: readonly string[], now: number): Promise<FeedPoll> {
    const fresh = new Map<string, Candle[]>();
    const failures: FeedPoll['failures'] = [];
    const until = Math.floor(now / this.step) * this.step;
    await Promise.all(
      symbols.map(async (symbol) => {
        try {
          const buf = this.buffers.get(symbol);
          const since = buf?.length ? buf[buf.length - 1].timestamp + this.step : until - this.keep * this.step;
          if (since >= until) return;
          const got = cleanCandles(await this.source.fetchCandles(symbol, this.tf, since, until), this.tf).filter(
            (c) => c.timestamp >= since && c.timestamp + this.step <= now,
          );
          if (!got.length) return;
          const next = (buf ?? []).concat(got);
          if (next.length > this.keep) next.splice(0, next.length - this.keep);
          this.buffers.set(symbol, next);
          // The first load is history, not news: only the newest candle counts as fresh.
          fresh.set(symbol, buf?.length ? got : got.slice(-1));
        } catch (err) {
          failures.push({ symbol, error: err instanceof Error ? err.message : String(err) });
        }
      }),
    );
    return { fresh, failures };
  }
}

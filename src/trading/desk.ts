/**
 * The per-candle trading step shared by the live engine, replay and backtests, so all of them
 * turn candles and signals into orders and outcomes the same way:
 *   onCandle: mark the price, count the candle toward pending signal outcomes, track volatility;
 *   onSignal: record the signal's outcome, pick the symbol's volatility-scaled threshold,
 *             decideOrder, and execute it on the paper broker (never for a blocked symbol).
 */
import type { Config } from '../config/schema.js';
import type { SignalView, TradeEvent } from '../engine-api.js';
import type { PaperBroker } from './broker.js';
import type { OutcomeTracker } from './outcomes.js';
import type { PendingSignal, ResolvedSignal } from './outcome-types.js';
import { decideOrder, entryThreshold, medianOf, realisedVolatility, type OrderDecision } from './sizing.js';

export interface DeskOptions {
  broker: PaperBroker;
  outcomes: OutcomeTracker;
  config: Pick<Config, 'paper_trading' | 'model'>;
  /** Closes per symbol used for its volatility. @default 168 (a week of hourly bars) */
  volWindow?: number;
}

export interface SignalResult {
  decision: OrderDecision;
  threshold: number;
  trade: TradeEvent | null;
  recorded: PendingSignal | null;
}

export class TradingDesk {
  private readonly closes = new Map<string, number[]>();
  private readonly vols = new Map<string, number>();
  private readonly volWindow: number;

  constructor(private readonly o: DeskOptions) {
    this.volWindow = Math.max(3, o.volWindow ?? 168);
  }

  onCandle(symbol: string, candle: { timestamp: number; close: number }): ResolvedSignal[] {
    this.o.broker.markPrice(symbol, candle.close);
    const xs = this.closes.get(symbol) ?? [];
    xs.push(candle.close);
    if (xs.length > this.volWindow) xs.splice(0, xs.length - this.volWindow);
    this.closes.set(symbol, xs);
    this.vols.set(symbol, realisedVolatility(xs));
    return this.o.outcomes.observe(symbol, candle);
  }

  /** Threshold for `symbol` given every tracked symbol's current volatility. */
  thresholdFor(symbol: string): number {
    return entryThreshold(this.vols.get(symbol) ?? 0, medianOf(this.vols.values()), this.o.config.paper_trading.entry_threshold);
  }

  volatility(symbol: string): number {
    return this.vols.get(symbol) ?? 0;
  }

  /**
   * `price` is the close of the candle the signal was made on (timestamp `barAt`). `instead`, when
   * given, is what the broker acts on instead of the signal (the edge gate's fallback for a model
   * without an edge); the signal itself is still recorded and scored.
   */
  onSignal(signal: SignalView, price: number, barAt: number, horizonBars = this.o.config.model.horizon, instead?: Pick<SignalView, 'direction' | 'confidence'>): SignalResult {
    const recorded = this.o.outcomes.record(signal, { price, horizonBars, barAt });
    const threshold = this.thresholdFor(signal.symbol);
    if (this.o.broker.isBlocked(signal.symbol)) {
      return { decision: { action: 'hold', reason: 'symbol is blocked' }, threshold, trade: null, recorded };
    }
    const decision = decideOrder(instead ?? signal, this.o.broker.positionQty(signal.symbol), price, threshold);
    const trade = this.o.broker.execute(signal.symbol, decision, price, signal.at);
    return { decision, threshold, trade, recorded };
  }
}

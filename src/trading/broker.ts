/**
 * Paper broker and portfolio: simulated fills on closed-candle prices with fees and adverse
 * slippage. Long-only spot: one position per symbol, opened whole and closed whole (see
 * decideOrder). Realised PnL is booked net of both fees; unrealised PnL is marked at the last
 * price seen, net of the entry fee already paid. Blocked symbols never trade.
 */
import { z } from 'zod';
import type { Config } from '../config/schema.js';
import type { PortfolioView, TradeEvent } from '../engine-api.js';
import type { OrderDecision } from './sizing.js';

export type PaperConfig = Config['paper_trading'];

export class BlockedSymbolError extends Error {
  constructor(readonly symbol: string) {
    super(`paper broker refused an order for ${symbol}: the symbol is blocked`);
    this.name = 'BlockedSymbolError';
  }
}

export class BrokerStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BrokerStateError';
  }
}

export interface Position {
  symbol: string;
  qty: number;
  /** Fill price of the entry (after slippage). */
  avgPrice: number;
  /** Cash spent on the entry including its fee. */
  costBasis: number;
  openedAt: number;
}

export interface BrokerOptions {
  /** Points kept on the equity curve (oldest dropped). @default 500 */
  equityCurveSize?: number;
  /** Orders smaller than this (quote currency) are skipped. @default 1 */
  minNotional?: number;
}

const stateSchema = z.strictObject({
  version: z.literal(1),
  startingCash: z.number().positive(),
  cash: z.number().min(0),
  realisedPnl: z.number(),
  feesPaid: z.number().min(0),
  trades: z.number().int().min(0),
  positions: z.array(
    z.strictObject({
      symbol: z.string().min(1),
      qty: z.number().positive(),
      avgPrice: z.number().positive(),
      costBasis: z.number().positive(),
      openedAt: z.number(),
    }),
  ),
  lastPrices: z.record(z.string(), z.number().positive()),
  blocked: z.array(z.string()),
  equityCurve: z.array(z.number()),
});

export type BrokerState = z.infer<typeof stateSchema>;

export class PaperBroker {
  private cashBal: number;
  private realised = 0;
  private fees = 0;
  private tradeCount = 0;
  private readonly positions = new Map<string, Position>();
  private readonly lastPrices = new Map<string, number>();
  private readonly blocked = new Set<string>();
  private curve: number[] = [];
  private readonly curveSize: number;
  private readonly minNotional: number;
  private readonly startingCash: number;

  constructor(
    private readonly cfg: PaperConfig,
    opts: BrokerOptions = {},
  ) {
    this.startingCash = cfg.starting_cash;
    this.cashBal = cfg.starting_cash;
    this.curveSize = Math.max(1, opts.equityCurveSize ?? 500);
    this.minNotional = opts.minNotional ?? 1;
  }

  get cash(): number {
    return this.cashBal;
  }
  get realisedPnl(): number {
    return this.realised;
  }
  get feesPaid(): number {
    return this.fees;
  }
  get tradesCount(): number {
    return this.tradeCount;
  }

  setBlocked(symbol: string, blocked: boolean): void {
    if (blocked) this.blocked.add(symbol);
    else this.blocked.delete(symbol);
  }
  isBlocked(symbol: string): boolean {
    return this.blocked.has(symbol);
  }

  position(symbol: string): Position | undefined {
    const p = this.positions.get(symbol);
    return p && { ...p };
  }
  /** Held quantity (0 when flat) - what decideOrder takes. */
  positionQty(symbol: string): number {
    return this.positions.get(symbol)?.qty ?? 0;
  }
  openPositions(): Position[] {
    return [...this.positions.values()].map((p) => ({ ...p }));
  }

  /** Record the latest price of a symbol (for unrealised PnL, equity and sizing). */
  markPrice(symbol: string, price: number): void {
    if (price > 0 && Number.isFinite(price)) this.lastPrices.set(symbol, price);
  }

  marketValue(): number {
    let v = 0;
    for (const p of this.positions.values()) v += p.qty * (this.lastPrices.get(p.symbol) ?? p.avgPrice);
    return v;
  }
  equity(): number {
    return this.cashBal + this.marketValue();
  }
  unrealisedPnl(): number {
    let u = 0;
    for (const p of this.positions.values()) u += p.qty * (this.lastPrices.get(p.symbol) ?? p.avgPrice) - p.costBasis;
    return u;
  }
  /** Market value of open positions as a fraction of equity (0..1). */
  exposure(): number {
    const eq = this.equity();
    return eq > 0 ? this.marketValue() / eq : 0;
  }

  /** Carry out a decideOrder result at `price`; returns the fill, or null when nothing traded. */
  execute(symbol: string, decision: OrderDecision, price: number, at: number): TradeEvent | null {
    if (decision.action === 'hold') return null;
    return decision.action === 'buy' ? this.buy(symbol, price, at, decision.reason) : this.sell(symbol, price, at, decision.reason);
  }

  /**
   * Open a position worth position_fraction of equity, capped so cash covers notional + fee.
   * Returns null when already long or the order would be below minNotional.
   */
  buy(symbol: string, price: number, at: number, reason = 'buy'): TradeEvent | null {
    this.refuseBlocked(symbol);
    assertPrice(symbol, price);
    if (this.positions.has(symbol)) return null;
    this.markPrice(symbol, price);
    const feeRate = this.cfg.fee_rate;
    const notional = Math.min(this.cfg.position_fraction * this.equity(), this.cashBal / (1 + feeRate));
    if (!(notional >= this.minNotional)) return null;
    const fill = price * (1 + this.cfg.slippage_bps / 10_000);
    const qty = notional / fill;
    const fee = notional * feeRate;
    this.cashBal = Math.max(0, this.cashBal - notional - fee);
    this.fees += fee;
    this.tradeCount++;
    this.positions.set(symbol, { symbol, qty, avgPrice: fill, costBasis: notional + fee, openedAt: at });
    return { at, symbol, side: 'buy', qty, price: fill, fee, reason };
  }

  /** Close the whole position; returns null when flat. */
  sell(symbol: string, price: number, at: number, reason = 'sell'): TradeEvent | null {
    this.refuseBlocked(symbol);
    assertPrice(symbol, price);
    const pos = this.positions.get(symbol);
    if (!pos) return null;
    this.markPrice(symbol, price);
    const fill = price * (1 - this.cfg.slippage_bps / 10_000);
    const proceeds = pos.qty * fill;
    const fee = proceeds * this.cfg.fee_rate;
    this.cashBal += proceeds - fee;
    this.fees += fee;
    const pnl = proceeds - fee - pos.costBasis;
    this.realised += pnl;
    this.tradeCount++;
    this.positions.delete(symbol);
    return { at, symbol, side: 'sell', qty: pos.qty, price: fill, fee, reason, realisedPnl: pnl };
  }

  /** Append the current equity to the bounded curve (call once per round). */
  recordEquity(): number {
    const eq = this.equity();
    this.curve.push(eq);
    if (this.curve.length > this.curveSize) this.curve.splice(0, this.curve.length - this.curveSize);
    return eq;
  }

  view(): PortfolioView {
    const equity = this.equity();
    const pnl = equity - this.startingCash;
    return {
      cash: this.cashBal,
      equity,
      pnl,
      pnlPct: (pnl / this.startingCash) * 100,
      exposure: this.exposure(),
      equityCurve: [...this.curve],
    };
  }

  toJSON(): BrokerState {
    return {
      version: 1,
      startingCash: this.startingCash,
      cash: this.cashBal,
      realisedPnl: this.realised,
      feesPaid: this.fees,
      trades: this.tradeCount,
      positions: this.openPositions(),
      lastPrices: Object.fromEntries(this.lastPrices),
      blocked: [...this.blocked],
      equityCurve: [...this.curve],
    };
  }

  /** Rebuild from toJSON output; `source` names the file in the error when the state is invalid. */
  static fromJSON(raw: unknown, cfg: PaperConfig, opts: BrokerOptions = {}, source = 'broker state'): PaperBroker {
    const parsed = stateSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new BrokerStateError(`${source}: invalid at "${issue.path.join('.') || '(root)'}": ${issue.message}`);
    }
    const s = parsed.data;
    const b = new PaperBroker({ ...cfg, starting_cash: s.startingCash }, opts);
    b.cashBal = s.cash;
    b.realised = s.realisedPnl;
    b.fees = s.feesPaid;
    b.tradeCount = s.trades;
    for (const p of s.positions) b.positions.set(p.symbol, { ...p });
    for (const [k, v] of Object.entries(s.lastPrices)) b.lastPrices.set(k, v);
    for (const sym of s.blocked) b.blocked.add(sym);
    b.curve = s.equityCurve.slice(-b.curveSize);
    return b;
  }

  private refuseBlocked(symbol: string): void {
    if (this.blocked.has(symbol)) throw new BlockedSymbolError(symbol);
  }
}

function assertPrice(symbol: string, price: number): void {
  if (!(price > 0) || !Number.isFinite(price)) throw new RangeError(`invalid price ${price} for ${symbol}`);
}

import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/schema.js';
import { BlockedSymbolError, BrokerStateError, PaperBroker } from '../../src/trading/broker.js';
import { decideOrder } from '../../src/trading/sizing.js';

const cfg = { ...defaultConfig().paper_trading, starting_cash: 10_000, fee_rate: 0.001, slippage_bps: 5, position_fraction: 0.1 };

describe('PaperBroker', () => {
  it('buys position_fraction of equity with adverse slippage and a fee', () => {
    const b = new PaperBroker(cfg);
    const fill = b.buy('BTC/USDT', 100, 1, 'test')!;
    expect(fill.price).toBeCloseTo(100.05, 12);
    expect(fill.qty).toBeCloseTo(1000 / 100.05, 12);
    expect(fill.fee).toBeCloseTo(1, 12);
    expect(b.cash).toBeCloseTo(8999, 9);
    expect(b.position('BTC/USDT')!.costBasis).toBeCloseTo(1001, 9);
    // entry costs the fee plus the slippage: equity at the same price is below the start
    expect(b.equity()).toBeCloseTo(8999 + (1000 / 100.05) * 100, 9);
    expect(b.buy('BTC/USDT', 100, 2)).toBeNull();
  });

  it('books realised PnL net of both fees and slippage', () => {
    const b = new PaperBroker(cfg);
    b.buy('BTC/USDT', 100, 1);
    b.markPrice('BTC/USDT', 110);
    expect(b.unrealisedPnl()).toBeCloseTo((1000 / 100.05) * 110 - 1001, 9);
    expect(b.exposure()).toBeCloseTo(((1000 / 100.05) * 110) / b.equity(), 12);
    const sell = b.sell('BTC/USDT', 110, 2)!;
    const proceeds = (1000 * 109.945) / 100.05;
    expect(sell.price).toBeCloseTo(109.945, 12);
    expect(sell.fee).toBeCloseTo(proceeds * 0.001, 12);
    expect(b.realisedPnl).toBeCloseTo(proceeds * 0.999 - 1001, 9);
    // The sell carries what the round trip earned, for per-symbol PnL.
    expect(sell.realisedPnl).toBeCloseTo(proceeds * 0.999 - 1001, 9);
    expect(b.cash).toBeCloseTo(8999 + proceeds * 0.999, 9);
    expect(b.feesPaid).toBeCloseTo(1 + proceeds * 0.001, 9);
    expect(b.exposure()).toBe(0);
    expect(b.view().pnl).toBeCloseTo(b.realisedPnl, 9);
    expect(b.sell('BTC/USDT', 110, 3)).toBeNull();
  });

  it('caps the entry by cash so cash never goes negative', () => {
    const b = new PaperBroker({ ...cfg, position_fraction: 1 });
    const f = b.buy('ETH/USDT', 2000, 1)!;
    expect(f.qty * f.price + f.fee).toBeCloseTo(10_000, 6);
    expect(b.cash).toBeGreaterThanOrEqual(0);
    expect(b.cash).toBeLessThan(1e-6);
    expect(b.buy('SOL/USDT', 20, 2)).toBeNull(); // nothing left to spend
  });

  it('refuses any order for a blocked symbol', () => {
    const b = new PaperBroker(cfg);
    b.buy('ADA/USDT', 0.5, 1);
    b.setBlocked('ADA/USDT', true);
    expect(() => b.sell('ADA/USDT', 0.5, 2)).toThrow(BlockedSymbolError);
    expect(() => b.execute('ADA/USDT', { action: 'buy', reason: 'x' }, 0.5, 2)).toThrow(/ADA\/USDT.*blocked/);
    expect(b.positionQty('ADA/USDT')).toBeGreaterThan(0);
    b.setBlocked('ADA/USDT', false);
    expect(b.sell('ADA/USDT', 0.5, 3)).not.toBeNull();
  });

  it('executes decideOrder results end to end', () => {
    const b = new PaperBroker(cfg);
    const sym = 'BTC/USDT';
    const buy = b.execute(sym, decideOrder({ direction: 'bullish', confidence: 0.8 }, b.positionQty(sym), 100, 0.55), 100, 1);
    expect(buy?.side).toBe('buy');
    const hold = b.execute(sym, decideOrder({ direction: 'bullish', confidence: 0.8 }, b.positionQty(sym), 101, 0.55), 101, 2);
    expect(hold).toBeNull();
    const sell = b.execute(sym, decideOrder({ direction: 'bearish', confidence: 0.8 }, b.positionQty(sym), 90, 0.55), 90, 3);
    expect(sell?.side).toBe('sell');
    expect(b.realisedPnl).toBeLessThan(0);
    expect(b.tradesCount).toBe(2);
  });

  it('keeps a bounded equity curve', () => {
    const b = new PaperBroker(cfg, { equityCurveSize: 3 });
    b.buy('BTC/USDT', 100, 0);
    for (const p of [100, 101, 102, 103, 104]) {
      b.markPrice('BTC/USDT', p);
      b.recordEquity();
    }
    const qty = 1000 / 100.05;
    expect(b.view().equityCurve.map((e) => +e.toFixed(6))).toEqual([102, 103, 104].map((p) => +(8999 + qty * p).toFixed(6)));
  });

  it('round-trips through JSON exactly', () => {
    const b = new PaperBroker(cfg);
    b.buy('BTC/USDT', 100, 1);
    b.buy('ETH/USDT', 2000, 1);
    b.sell('ETH/USDT', 2100, 2);
    b.markPrice('BTC/USDT', 105);
    b.recordEquity();
    b.setBlocked('DOGE/USDT', true);
    const json = JSON.parse(JSON.stringify(b.toJSON()));
    const c = PaperBroker.fromJSON(json, cfg);
    expect(c.toJSON()).toEqual(b.toJSON());
    expect(c.view()).toEqual(b.view());
    expect(c.isBlocked('DOGE/USDT')).toBe(true);
  });

  it('names the bad key of an invalid state', () => {
    const b = new PaperBroker(cfg);
    const json = { ...b.toJSON(), cash: -5 };
    expect(() => PaperBroker.fromJSON(json, cfg, {}, 'data/portfolio.json')).toThrow(BrokerStateError);
    expect(() => PaperBroker.fromJSON(json, cfg, {}, 'data/portfolio.json')).toThrow(/data\/portfolio\.json.*"cash"/);
  });
});

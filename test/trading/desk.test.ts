import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/schema.js';
import type { Direction, SignalView, TradeEvent } from '../../src/engine-api.js';
import { PaperBroker } from '../../src/trading/broker.js';
import { TradingDesk } from '../../src/trading/desk.js';
import { OutcomeTracker } from '../../src/trading/outcomes.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kilo-desk-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const config = defaultConfig();
const signal = (symbol: string, at: number, direction: Direction, confidence: number): SignalView => ({
  symbol,
  at,
  direction,
  confidence,
  contributions: {},
  modelVersion: '1.0',
});

describe('TradingDesk', () => {
  it('scales thresholds by relative volatility and never trades a blocked symbol', async () => {
    const broker = new PaperBroker(config.paper_trading);
    const desk = new TradingDesk({ broker, outcomes: await OutcomeTracker.open(join(dir, 'p.json'), { feeRate: 0.001 }), config });
    for (let i = 0; i < 50; i++) {
      desk.onCandle('CALM/USDT', { timestamp: i, close: 100 * (1 + 0.001 * (i % 2)) });
      desk.onCandle('WILD/USDT', { timestamp: i, close: 100 * (1 + 0.01 * (i % 2)) });
      desk.onCandle('MID/USDT', { timestamp: i, close: 100 * (1 + 0.003 * (i % 2)) }); // the median
    }
    const base = config.paper_trading.entry_threshold;
    expect(desk.thresholdFor('WILD/USDT')).toBeCloseTo(base * Math.SQRT2, 12); // ratio clamped at 2
    expect(desk.thresholdFor('CALM/USDT')).toBeCloseTo(base * Math.SQRT1_2, 12);
    const wild = desk.onSignal(signal('WILD/USDT', 50, 'bullish', 0.7), 100, 49);
    expect(wild.decision.action).toBe('hold'); // 0.7 < 0.778
    expect(desk.onSignal(signal('MID/USDT', 50, 'bullish', 0.55), 100, 49).decision.action).toBe('buy'); // 0.55 >= base
    expect(wild.recorded).not.toBeNull();
    broker.setBlocked('CALM/USDT', true);
    const calm = desk.onSignal(signal('CALM/USDT', 50, 'bullish', 0.99), 100, 49);
    expect(calm).toMatchObject({ trade: null, decision: { action: 'hold', reason: 'symbol is blocked' } });
    expect(broker.openPositions().map((p) => p.symbol)).toEqual(['MID/USDT']);
  });

  const dataDir = resolve(process.cwd(), '../shared/data/ohlcv');
  it.skipIf(!existsSync(dataDir))('replays real BTC and ETH candles with consistent accounting', async () => {
    const load = (stem: string) =>
      readFileSync(join(dataDir, `${stem}-1h.csv`), 'utf8').trim().split('\n').slice(1, 2501).map((l) => l.split(',').map(Number));
    const series = { 'BTC/USDT': load('BTC-USDT'), 'ETH/USDT': load('ETH-USDT') };
    const broker = new PaperBroker(config.paper_trading, { equityCurveSize: 1000 });
    const outcomes = await OutcomeTracker.open(join(dir, 'p.json'), { feeRate: config.paper_trading.fee_rate });
    const desk = new TradingDesk({ broker, outcomes, config });
    const trades: TradeEvent[] = [];
    let directional = 0;
    const n = 2500;
    for (let i = 0; i < n; i++) {
      if (i === 2000) broker.setBlocked('ETH/USDT', true);
      for (const [sym, rows] of Object.entries(series)) {
        const [ts, , , , close] = rows[i];
        desk.onCandle(sym, { timestamp: ts, close });
        if (i < 3 || i + 1 >= n) continue;
        const r = close / rows[i - 3][4] - 1; // 3-bar momentum as a stand-in model
        const dirn: Direction = r > 0.003 ? 'bullish' : r < -0.003 ? 'bearish' : 'neutral';
        if (dirn !== 'neutral') directional++;
        const res = desk.onSignal(signal(sym, ts, dirn, Math.min(0.95, 0.5 + Math.abs(r) * 20)), close, ts);
        if (res.trade) trades.push(res.trade);
      }
      broker.recordEquity();
    }
    expect(trades.length).toBeGreaterThan(20);
    // per symbol the broker alternates buy, sell, buy, ...
    for (const sym of Object.keys(series)) {
      const sides = trades.filter((t) => t.symbol === sym).map((t) => t.side);
      sides.forEach((s, k) => expect(s).toBe(k % 2 === 0 ? 'buy' : 'sell'));
    }
    expect(trades.filter((t) => t.symbol === 'ETH/USDT' && t.at >= series['ETH/USDT'][2000][0])).toEqual([]);
    const fees = trades.reduce((s, t) => s + t.fee, 0);
    expect(broker.feesPaid).toBeCloseTo(fees, 6);
    const last = (sym: keyof typeof series) => series[sym][n - 1][4];
    const held = broker.openPositions().reduce((s, p) => s + p.qty * last(p.symbol as keyof typeof series), 0);
    expect(broker.equity()).toBeCloseTo(broker.cash + held, 6);
    const v = broker.view();
    expect(v.pnl).toBeCloseTo(broker.realisedPnl + broker.unrealisedPnl(), 6);
    expect(v.equityCurve).toHaveLength(1000);
    expect(v.equityCurve.at(-1)).toBeCloseTo(v.equity, 9);
    // every directional signal made before the last horizon bar was resolved
    const resolved = outcomes.overall().signals;
    expect(resolved + outcomes.pending().length).toBe(directional);
    expect(outcomes.pending().length).toBeLessThanOrEqual(2 * config.model.horizon);
  });
});

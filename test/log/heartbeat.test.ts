import { describe, expect, it } from 'vitest';
import type { HeartbeatEvent } from '../../src/engine-api.js';
import { formatHeartbeatLine, formatPrice } from '../../src/log/heartbeat.js';

describe('formatHeartbeatLine', () => {
  it('lists the portfolio and every symbol with its retrain need and reason', () => {
    const ev: HeartbeatEvent = {
      at: Date.UTC(2026, 10, 21, 6),
      portfolio: { cash: 9000, equity: 10123.456, pnl: 123.456, pnlPct: 1.23456, exposure: 0.111, equityCurve: [] },
      symbols: [
        {
          symbol: 'BTC/USDT',
          state: 'live',
          price: 43210.5,
          candles: 1200,
          signals: 23,
          winRate: 0.41,
          needsRetrain: true,
          retrainReason: 'win rate 41.0% < 45% over 23 signals',
          lastRetrain: Date.UTC(2026, 10, 20, 12, 30),
        },
        { symbol: 'DOGE/USDT', state: 'blocked', price: 0.081234, candles: 0, signals: 0, winRate: null, needsRetrain: false, retrainReason: '', lastRetrain: null },
      ],
    };
    expect(formatHeartbeatLine(ev)).toBe(
      'heartbeat 2026-11-21T06:00:00.000Z equity 10,123.46 (+123.46, +1.23%) cash 9,000.00 exposure 11.1%' +
        ' | BTC/USDT live price 43,210.50 candles 1200 signals 23 win 41.0% retrain RETRAIN (win rate 41.0% < 45% over 23 signals) last retrain 2026-11-20 12:30' +
        ' | DOGE/USDT blocked price 0.081234 candles 0 signals 0 win n/a retrain ok last retrain never',
    );
  });
  it('shows losses with their sign and unknown prices as n/a', () => {
    const line = formatHeartbeatLine({
      at: 0,
      portfolio: { cash: 100, equity: 95, pnl: -5, pnlPct: -5, exposure: 0, equityCurve: [] },
      symbols: [],
    });
    expect(line).toBe('heartbeat 1970-01-01T00:00:00.000Z equity 95.00 (-5.00, -5.00%) cash 100.00 exposure 0.0%');
    expect(formatPrice(null)).toBe('n/a');
    expect(formatPrice(2.5)).toBe('2.5000');
  });
});

/**
 * Suspicious candles on the real Binance files: a 40 % hour on BTC is flagged (and judged by what
 * follows), the real history yields only a handful of flags, and a brand-new coin's wild first
 * hours are not flagged.
 */
import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { CsvMarketSource } from '../../src/market/csv-source.js';
import { findSuspects } from '../../src/market/suspicious.js';
import type { Candle } from '../../src/market/types.js';

const DATA = resolve(import.meta.dirname, '../../../shared/data/ohlcv');
const H = 3_600_000;

const scale = (c: Candle, k: number): Candle => ({ ...c, open: c.open * k, high: c.high * k, low: c.low * k, close: c.close * k });

describe.skipIf(!existsSync(DATA))('suspicious candles on real data', () => {
  const src = new CsvMarketSource(DATA, new ManualClock(Date.UTC(2030, 0, 1)));

  it('flags only a handful of real BTC hours in 2.7 years, and each was confirmed by the next candle', async () => {
    const btc = await src.allCandles('BTC/USDT', '1h');
    const s = findSuspects(btc);
    expect(s.length).toBeGreaterThan(0);
    expect(s.length).toBeLessThan(8);
    // Real moves hold: none of the real flags is a bad print.
    expect(s.filter((x) => x.status === 'reverted')).toEqual([]);
    expect(Math.max(...s.map((x) => Math.abs(x.movePct)))).toBeLessThan(10);
  });

  it('a 40 % BTC hour is pending while it is the newest candle, a bad print when the price comes back, real when it holds', async () => {
    const btc = (await src.allCandles('BTC/USDT', '1h')).slice(-2000);
    const i = 1500;
    const spiked = btc.slice(0, i + 1);
    spiked[i] = scale(btc[i], 1.4);
    const pending = findSuspects(spiked).at(-1)!;
    expect(pending).toMatchObject({ timestamp: btc[i].timestamp, status: 'pending' });
    expect(pending.movePct).toBeGreaterThan(35);
    expect(pending.reason).toMatch(/waiting for the next candle to confirm it/);

    const reverted = btc.slice(0, i + 5).map((c, k) => (k === i ? scale(c, 1.4) : c));
    expect(findSuspects(reverted).find((x) => x.timestamp === btc[i].timestamp)).toMatchObject({ status: 'reverted' });

    const held = btc.slice(0, i + 5).map((c, k) => (k >= i ? scale(c, 1.4) : c));
    const v = findSuspects(held).filter((x) => x.timestamp >= btc[i].timestamp);
    expect(v).toEqual([expect.objectContaining({ timestamp: btc[i].timestamp, status: 'confirmed' })]);
  });

  it('a brand-new coin moving 40 % in its first hours is not flagged; the same move on BTC is', () => {
    const t0 = Date.UTC(2024, 0, 1);
    const young: Candle[] = [1, 1.4, 1.1, 1.5, 1.2, 1.6].map((p, k) => ({ timestamp: t0 + k * H, open: p, high: p * 1.01, low: p * 0.99, close: p, volume: 10 }));
    expect(findSuspects(young)).toEqual([]);
    // Doubling within one hour is beyond even a young coin's bound.
    const doubled = [...young, { ...young[5], timestamp: t0 + 6 * H, open: 3.4, high: 3.5, low: 3.3, close: 3.4 }];
    expect(findSuspects(doubled).at(-1)).toMatchObject({ status: 'pending' });
  });
});

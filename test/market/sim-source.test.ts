import { describe, it, expect } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { SimMarketSource, SIM_SYMBOLS, SIM_UNIVERSE } from '../../src/market/sim-source.js';
import { SimPaths, SIM_CHUNK_HOURS, SIM_KEEP_CHUNKS } from '../../src/market/sim-model.js';
import { validateCandles } from '../../src/market/validate.js';
import type { Candle } from '../../src/market/types.js';

const NOW = Date.UTC(2025, 5, 1, 12, 30);
const H = 3_600_000;

const logReturns = (c: Candle[]) => c.slice(1).map((x, i) => Math.log(x.close / c[i].close));
const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
function excessKurtosis(a: number[]): number {
  const m = mean(a);
  const v = mean(a.map((x) => (x - m) ** 2));
  return mean(a.map((x) => (x - m) ** 4)) / v ** 2 - 3;
}
function acf(a: number[], lag: number): number {
  const m = mean(a);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    den += (a[i] - m) ** 2;
    if (i >= lag) num += (a[i] - m) * (a[i - lag] - m);
  }
  return num / den;
}

describe('SimMarketSource', () => {
  it('is deterministic for a seed and differs for another seed', async () => {
    const a = new SimMarketSource(7, new ManualClock(NOW));
    const b = new SimMarketSource(7, new ManualClock(NOW));
    const c = new SimMarketSource(8, new ManualClock(NOW));
    const since = NOW - 30 * 24 * H;
    const ca = await a.fetchCandles('ETH/USDT', '1h', since, NOW);
    expect(ca).toHaveLength(30 * 24 - 1); // since is mid-hour: the first whole candle opens at 13:00
    expect(await b.fetchCandles('ETH/USDT', '1h', since, NOW)).toEqual(ca);
    const cc = await c.fetchCandles('ETH/USDT', '1h', since, NOW);
    expect(cc[10].close).not.toBe(ca[10].close);
  });

  it('the same timestamp gives the same candle whatever range is asked', async () => {
    const s = new SimMarketSource(42, new ManualClock(NOW));
    const wide = await s.fetchCandles('BTC/USDT', '1h', NOW - 400 * 24 * H, NOW);
    const fresh = new SimMarketSource(42, new ManualClock(NOW));
    const narrow = await fresh.fetchCandles('BTC/USDT', '1h', NOW - 10 * H, NOW - 5 * H);
    expect(narrow).toHaveLength(5);
    expect(wide.slice(-9, -4)).toEqual(narrow);
  });

  it('candles are valid and only closed ones are visible; the clock advances the market', async () => {
    const clock = new ManualClock(NOW);
    const s = new SimMarketSource(1, clock);
    const c = await s.fetchCandles('SOL/USDT', '1h', NOW - 200 * H, NOW + 10 * H);
    const rep = validateCandles(c, '1h');
    expect(rep.ok).toBe(true);
    expect(rep.gaps).toEqual([]);
    expect(c.at(-1)!.timestamp).toBe(Date.UTC(2025, 5, 1, 11));
    expect((await s.latestClosedCandle('SOL/USDT', '1h'))!.timestamp).toBe(Date.UTC(2025, 5, 1, 11));
    clock.advance(2 * H);
    const later = await s.latestClosedCandle('SOL/USDT', '1h');
    expect(later!.timestamp).toBe(Date.UTC(2025, 5, 1, 13));
    // 4h candles aggregate the hours exactly.
    const h4 = await s.fetchCandles('SOL/USDT', '4h', Date.UTC(2025, 4, 31, 0), Date.UTC(2025, 4, 31, 4));
    const hrs = await s.fetchCandles('SOL/USDT', '1h', Date.UTC(2025, 4, 31, 0), Date.UTC(2025, 4, 31, 4));
    expect(h4).toHaveLength(1);
    expect(h4[0].open).toBe(hrs[0].open);
    expect(h4[0].close).toBe(hrs[3].close);
    expect(h4[0].high).toBe(Math.max(...hrs.map((x) => x.high)));
    // 15m candles lie within their hour.
    const m15 = await s.fetchCandles('SOL/USDT', '15m', Date.UTC(2025, 4, 31, 0), Date.UTC(2025, 4, 31, 1));
    expect(m15).toHaveLength(4);
    expect(m15[0].open).toBeCloseTo(hrs[0].open, 10);
    expect(m15[3].close).toBeCloseTo(hrs[0].close, 10);
    for (const m of m15) expect(m.high).toBeLessThanOrEqual(hrs[0].high);
  });

  it('has the default universe, a stablecoin near 1 and a brand-new coin', async () => {
    const s = new SimMarketSource(42, new ManualClock(NOW));
    expect(SIM_SYMBOLS).toEqual(expect.arrayContaining(['BTC/USDT', 'USDC/USDT', 'NOVA/USDT', 'MATIC/USDT']));
    const symbols = (await s.listSymbols()).map((x) => x.symbol);
    expect(symbols).toHaveLength(SIM_SYMBOLS.length);
    const usdc = await s.fetchCandles('USDC/USDT', '1h', NOW - 60 * 24 * H, NOW);
    for (const c of usdc) expect(Math.abs(c.close - 1)).toBeLessThan(0.01);
    const nova = await s.fetchCandles('NOVA/USDT', '1h', NOW - 365 * 24 * H, NOW);
    const days = (NOW - nova[0].timestamp) / (24 * H);
    expect(days).toBeGreaterThan(20);
    expect(days).toBeLessThan(22);
  });

  it('MEASURED: fat tails and volatility clustering in hourly returns', async () => {
    const s = new SimMarketSource(42, new ManualClock(NOW));
    for (const sym of ['BTC/USDT', 'SOL/USDT']) {
      const r = logReturns(await s.fetchCandles(sym, '1h', NOW - 3 * 365 * 24 * H, NOW));
      expect(r.length).toBeGreaterThan(25_000);
      const k = excessKurtosis(r);
      expect(k).toBeGreaterThan(1);
      const abs = r.map(Math.abs);
      const bound = 3 / Math.sqrt(r.length); // ~3 standard errors of an acf under independence
      for (let lag = 1; lag <= 5; lag++) {
        const aAbs = acf(abs, lag);
        expect(aAbs).toBeGreaterThan(bound);
        expect(aAbs).toBeGreaterThan(Math.abs(acf(r, lag)));
      }
    }
  });

  it('moves are correlated across coins (common factor)', async () => {
    const s = new SimMarketSource(42, new ManualClock(NOW));
    const a = logReturns(await s.fetchCandles('BTC/USDT', '1h', NOW - 365 * 24 * H, NOW));
    const b = logReturns(await s.fetchCandles('ETH/USDT', '1h', NOW - 365 * 24 * H, NOW));
    const ma = mean(a);
    const mb = mean(b);
    let cov = 0;
    let va = 0;
    let vb = 0;
    for (let i = 0; i < a.length; i++) {
      cov += (a[i] - ma) * (b[i] - mb);
      va += (a[i] - ma) ** 2;
      vb += (b[i] - mb) ** 2;
    }
    expect(cov / Math.sqrt(va * vb)).toBeGreaterThan(0.5);
  });

  it('keeps a few chunks of the paths and generates older hours again, the same numbers as the first time', () => {
    const hours = 40 * SIM_CHUNK_HOURS + 123;
    const old = [5 * SIM_CHUNK_HOURS - 3, 5 * SIM_CHUNK_HOURS + 2, 17 * SIM_CHUNK_HOURS + 400];
    // First time: each of those hours generated at the frontier (the paths stop right after it).
    const first = old.map((h) => {
      const p = new SimPaths(42, SIM_UNIVERSE);
      p.ensure(h + 1);
      return SIM_UNIVERSE.map((_, i) => p.candle(i, h, h));
    });
    const p = new SimPaths(42, SIM_UNIVERSE);
    p.ensure(hours);
    expect(p.storedChunks()).toBeLessThanOrEqual(SIM_KEEP_CHUNKS);
    // Again: long after, from the chunks' checkpoints (read in an order that evicts between reads).
    for (const k of [2, 1, 0]) expect(SIM_UNIVERSE.map((_, i) => p.candle(i, old[k], old[k]))).toEqual(first[k]);
    expect(p.storedChunks()).toBeLessThanOrEqual(SIM_KEEP_CHUNKS);
    // The newest hours are still served and the paths go on from where they were.
    const fresh = new SimPaths(42, SIM_UNIVERSE);
    fresh.ensure(hours + 50);
    p.ensure(hours + 50);
    for (const h of [hours - 1, hours, hours + 49]) expect(p.candle(3, h, h)).toEqual(fresh.candle(3, h, h));
  });
});

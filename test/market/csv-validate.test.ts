import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { CsvMarketSource } from '../../src/market/csv-source.js';
import { parseCandleCsv, formatCandleCsv } from '../../src/market/csv.js';
import { validateCandles, historyStats } from '../../src/market/validate.js';

const DATA = resolve(import.meta.dirname, '../../../shared/data/ohlcv');
const H = 3_600_000;
const utc = (s: string) => Date.parse(`${s}:00Z`.replace(' ', 'T'));

describe.skipIf(!existsSync(DATA))('CSV source on the real Binance files', () => {
  it('finds the 12 known missing hours of BTC-USDT-1h', async () => {
    const src = new CsvMarketSource(DATA, new ManualClock(Date.UTC(2030, 0, 1)));
    const candles = await src.allCandles('BTC/USDT', '1h');
    expect(candles).toHaveLength(23987);
    const rep = validateCandles(candles, '1h');
    expect(rep.ok).toBe(true);
    expect(rep.missing).toBe(12);
    expect(rep.gaps).toEqual([
      { from: utc('2021-04-20 02:00'), to: utc('2021-04-20 03:00'), missing: 2 },
      { from: utc('2021-04-25 05:00'), to: utc('2021-04-25 07:00'), missing: 3 },
      { from: utc('2021-08-13 02:00'), to: utc('2021-08-13 05:00'), missing: 4 },
      { from: utc('2021-09-29 07:00'), to: utc('2021-09-29 08:00'), missing: 2 },
      { from: utc('2023-03-24 13:00'), to: utc('2023-03-24 13:00'), missing: 1 },
    ]);
  });

  it('finds the long USDC gap', async () => {
    const src = new CsvMarketSource(DATA, new ManualClock(Date.UTC(2030, 0, 1)));
    const rep = validateCandles(await src.allCandles('USDC/USDT', '1h'), '1h');
    expect(rep.missing).toBe(4007);
    expect(rep.gaps).toContainEqual({ from: utc('2022-09-26 03:00'), to: utc('2023-03-11 13:00'), missing: 3995 });
  });

  it('replays as if live: the clock bounds what is visible', async () => {
    const clock = new ManualClock(utc('2022-01-10 05:30'));
    const src = new CsvMarketSource(DATA, clock);
    expect((await src.latestClosedCandle('ETH/USDT', '1h'))!.timestamp).toBe(utc('2022-01-10 04:00'));
    const got = await src.fetchCandles('ETH/USDT', '1h', utc('2022-01-10 00:00'), utc('2022-01-11 00:00'));
    expect(got.map((c) => c.timestamp)).toEqual([0, 1, 2, 3, 4].map((h) => utc('2022-01-10 00:00') + h * H));
    clock.advance(H);
    expect((await src.latestClosedCandle('ETH/USDT', '1h'))!.timestamp).toBe(utc('2022-01-10 05:00'));
    const syms = await src.listSymbols('1h');
    expect(syms.map((s) => s.symbol)).toEqual(expect.arrayContaining(['BTC/USDT', 'USDC/USDT', 'DOGE/USDT']));
    expect(syms.map((s) => s.symbol)).not.toContain('LTC/USDT'); // LTC has only a 1d file
    const btc = syms.find((s) => s.symbol === 'BTC/USDT')!;
    const last24 = got.length; // sanity that volume is computed from visible candles only
    expect(last24).toBe(5);
    expect(btc.quoteVolume24h).toBeGreaterThan(1e6);
    expect(syms[0].quoteVolume24h).toBeGreaterThanOrEqual(syms[1].quoteVolume24h);
  });

  it('historyStats reports coverage with the USDC hole', async () => {
    const src = new CsvMarketSource(DATA, new ManualClock(Date.UTC(2030, 0, 1)));
    const usdc = await src.allCandles('USDC/USDT', '1h');
    const now = utc('2023-12-30 20:00');
    const s = historyStats(usdc, '1h', 730, now);
    expect(s.historyDays).toBe(730);
    expect(s.coveragePct).toBeGreaterThan(0.75);
    expect(s.coveragePct).toBeLessThan(0.79); // 3995+ of ~17520 hours missing
    const btc = historyStats(await src.allCandles('BTC/USDT', '1h'), '1h', 730, now);
    expect(btc.coveragePct).toBeGreaterThan(0.999);
  });
});

describe('CSV parsing and validation', () => {
  it('reports bad rows with their line and never keeps them', () => {
    const text = 'timestamp,open,high,low,close,volume\n3600000,1,2,0.5,1.5,10\n7200000,1,2,x,1.5,10\n10800000,1,2\n\n14400000,1,2,0.5,1.5,\n';
    const p = parseCandleCsv(text);
    expect(p.candles.map((c) => c.timestamp)).toEqual([3600000]);
    expect(p.badRows).toEqual([
      { line: 3, reason: 'low is not a number: "x"' },
      { line: 4, reason: 'expected 6 columns, got 3' },
      { line: 6, reason: 'volume is not a number: ""' },
    ]);
  });

  it('finds duplicates, non-positive prices, inconsistent OHLC and out-of-order rows', () => {
    const c = (t: number, o = 10, h = 11, l = 9, cl = 10.5) => ({ timestamp: t * H, open: o, high: h, low: l, close: cl, volume: 1 });
    const rep = validateCandles([c(1), c(2), c(2), c(3, 0, 11, 0), c(4, 10, 9, 8, 10.5), c(6), c(5)], '1h', { now: 100 * H });
    expect(rep.duplicates).toEqual([2 * H]);
    expect(rep.nonPositive).toEqual([3 * H]);
    expect(rep.inconsistentOhlc).toEqual([4 * H]);
    expect(rep.outOfOrder).toEqual([5 * H]);
    expect(rep.gaps).toEqual([{ from: 5 * H, to: 5 * H, missing: 1 }]);
    expect(rep.stale).toBe(true);
    expect(rep.ok).toBe(false);
  });

  it('a file with bad rows: strict mode refuses it naming the file and line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kilo-csv-'));
    await writeFile(join(dir, 'ABC-USDT-1h.csv'), 'timestamp,open,high,low,close,volume\n3600000,1,2,0.5,1.5,10\n7200000,1,2,0.5,oops,10\n');
    const strict = new CsvMarketSource(dir, new ManualClock(100 * H), { strict: true });
    await expect(strict.fetchCandles('ABC/USDT', '1h', 0, 100 * H)).rejects.toThrow(/ABC-USDT-1h\.csv.*line 3: close is not a number/);
    const lenient = new CsvMarketSource(dir, new ManualClock(100 * H));
    expect(await lenient.fetchCandles('ABC/USDT', '1h', 0, 100 * H)).toHaveLength(1);
  });

  it('formatCandleCsv round-trips exactly', () => {
    const cs = [{ timestamp: H, open: 0.1 + 0.2, high: 1e-8, low: 1e-9, close: 123456.789, volume: 0 }];
    expect(parseCandleCsv(formatCandleCsv(cs)).candles).toEqual(cs);
  });
});

/**
 * An exchange outage in the middle of a backfill leaves a hole inside the candle store; the next
 * fetch heals it (real ccxt against the loopback Binance server). Holes the exchange itself
 * confirms (it answers around them) are recorded and never asked again. `kilo data check`'s
 * verdict follows: 4 while the hole is open, 0 once healed.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { defaultConfig } from '../../src/config/schema.js';
import { CcxtMarketSource, ExchangeUnreachableError } from '../../src/market/ccxt-source.js';
import { CandleStore, missingRanges } from '../../src/market/candle-store.js';
import { parseCandleCsv } from '../../src/market/csv.js';
import { checkCandleFolders, checkExitCode } from '../../src/market/check.js';
import { startBinanceServer, DEFAULT_DATA_DIR, type BinanceServer } from '../helpers/binance-server.js';
import type { Candle, MarketDataSource } from '../../src/market/types.js';

const H = 3_600_000;
const NOW = Date.UTC(2023, 5, 1, 0, 30);
const c = (h: number): Candle => ({ timestamp: h * H, open: 1, high: 1, low: 1, close: 1, volume: 1 });

describe('missingRanges', () => {
  it('before the first candle, every hole inside, after the last; confirmed gaps are skipped', () => {
    const have = [c(10), c(11), c(14), c(15), c(20)];
    expect(missingRanges(have, 5 * H, 23 * H, H)).toEqual([
      [5 * H, 10 * H],
      [12 * H, 14 * H],
      [16 * H, 20 * H],
      [21 * H, 23 * H],
    ]);
    expect(missingRanges(have, 5 * H, 23 * H, H, [[17 * H, 18 * H]])).toEqual([
      [5 * H, 10 * H],
      [12 * H, 14 * H],
      [16 * H, 17 * H],
      [19 * H, 20 * H],
      [21 * H, 23 * H],
    ]);
    expect(missingRanges([], 5 * H, 8 * H, H)).toEqual([[5 * H, 8 * H]]);
  });
});

describe.skipIf(!existsSync(DEFAULT_DATA_DIR))('an outage in the middle of a backfill', () => {
  let srv: BinanceServer;
  let real: Candle[];
  beforeAll(async () => {
    srv = await startBinanceServer({ symbols: ['BTC/USDT'], now: () => NOW });
    real = parseCandleCsv(await readFile(join(DEFAULT_DATA_DIR, 'BTC-USDT-1h.csv'), 'utf8')).candles;
  });
  afterAll(async () => srv?.close());

  it('leaves a hole the next fetch heals; real exchange gaps are confirmed and not asked again', async () => {
    const home = await mkdtemp(join(tmpdir(), 'kilo-holes-'));
    const config = defaultConfig();
    config.data.source = 'exchange';
    Object.assign(config.exchange, { api_base_url: srv.url, max_retries: 1, timeout_ms: 2000 });
    const clock = new ManualClock(NOW);
    const ccxt = new CcxtMarketSource(config, { home, clock, sleep: async () => undefined });
    // The outage starts after two chunks of the backfill have landed.
    let calls = 0;
    const source: MarketDataSource = {
      kind: 'exchange',
      description: ccxt.description,
      listSymbols: () => ccxt.listSymbols(),
      latestClosedCandle: (s, tf) => ccxt.latestClosedCandle(s, tf),
      fetchCandles: (s, tf, a, b) => {
        if (++calls === 3) srv.failNext({ kind: 'status', status: 503, path: '/api/v3/klines' }, 50);
        return ccxt.fetchCandles(s, tf, a, b);
      },
    };
    const root = join(home, 'data/candles');
    const store = new CandleStore(root, clock, { chunkCandles: 200 });
    const since = NOW - 90 * 24 * H;
    const expected = real.filter((x) => x.timestamp >= since && x.timestamp + H <= NOW);

    // The recent 10 days first (a short first run), then the backfill to 90 days is cut by the outage.
    await store.update(source, 'binance', 'BTC/USDT', '1h', NOW - 10 * 24 * H);
    calls = 0;
    await expect(store.update(source, 'binance', 'BTC/USDT', '1h', since)).rejects.toBeInstanceOf(ExchangeUnreachableError);
    const holed = await store.read('binance', 'BTC/USDT', '1h');
    expect(holed[0].timestamp).toBe(expected[0].timestamp);
    expect(holed.length).toBeLessThan(expected.length);
    const opts = { now: NOW, windowDays: 90, maxStaleCandles: 2, minCoverage: 0.95 };
    const before = await checkCandleFolders([{ dir: root, origin: 'store' }], opts);
    expect(before[0].openGaps.length).toBe(1);
    expect(before[0].problems.join()).toMatch(/1 hole\(s\) not confirmed by the source \(run kilo data fetch to heal\)/);
    expect(checkExitCode(before)).toBe(4);

    // The exchange is back: the next fetch fills the hole inside the stored range, not only after its end.
    srv.clearFaults();
    const r = await store.update(source, 'binance', 'BTC/USDT', '1h', since);
    expect(await store.read('binance', 'BTC/USDT', '1h')).toEqual(expected);
    // The exchange's own missing hour (2023-03-24 13:00) is a confirmed gap, recorded beside the file.
    expect(r.report.gaps).toEqual([{ from: Date.UTC(2023, 2, 24, 13), to: Date.UTC(2023, 2, 24, 13), missing: 1 }]);
    expect(await store.confirmedGaps('binance', 'BTC/USDT', '1h')).toContainEqual([Date.UTC(2023, 2, 24, 13), Date.UTC(2023, 2, 24, 13)]);
    const after = await checkCandleFolders([{ dir: root, origin: 'store' }], opts);
    expect(after[0].openGaps).toEqual([]);
    expect(after[0].confirmedGaps).toHaveLength(1);
    expect(checkExitCode(after)).toBe(0);

    // Nothing is missing now: neither get() nor update() asks the exchange again.
    const klines = srv.count('/api/v3/klines');
    await store.get(source, 'binance', 'BTC/USDT', '1h', since, NOW);
    await store.update(source, 'binance', 'BTC/USDT', '1h', since);
    expect(srv.count('/api/v3/klines')).toBe(klines);
    await ccxt.close();
  });
});

import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { defaultConfig } from '../../src/config/schema.js';
import { createMarketSource, CsvDirError } from '../../src/market/index.js';
import { startBinanceServer, DEFAULT_DATA_DIR } from '../helpers/binance-server.js';

const NOW = Date.UTC(2023, 11, 31);

describe('createMarketSource', () => {
  it('defaults to the offline simulator', async () => {
    const home = await mkdtemp(join(tmpdir(), 'kilo-factory-'));
    const r = await createMarketSource(defaultConfig(), { home, clock: new ManualClock(NOW) });
    expect(r.source.kind).toBe('sim');
    expect(r.notice).toBeNull();
    expect(r.storeName).toBe('sim-42');
  });

  it('csv with a missing folder names it', async () => {
    const home = await mkdtemp(join(tmpdir(), 'kilo-factory-'));
    const c = defaultConfig();
    c.data.source = 'csv';
    await expect(createMarketSource(c, { home, clock: new ManualClock(NOW) })).rejects.toBeInstanceOf(CsvDirError);
  });

  it('--offline runs the simulator whatever data.source says, and says so', async () => {
    const home = await mkdtemp(join(tmpdir(), 'kilo-factory-'));
    const c = defaultConfig();
    c.data.source = 'exchange';
    const r = await createMarketSource(c, { home, clock: new ManualClock(NOW), offline: true, env: {} });
    expect(r.source.kind).toBe('sim');
    expect(r.notice).toMatch(/offline: the simulator \(seed 42\) instead of data.source exchange/);
  });

  it.skipIf(!existsSync(DEFAULT_DATA_DIR))('exchange when it answers; when it does not: no simulator, a waiting source that retries with backoff', async () => {
    const home = await mkdtemp(join(tmpdir(), 'kilo-factory-'));
    const srv = await startBinanceServer({ symbols: ['BTC/USDT'], now: () => NOW });
    const c = defaultConfig();
    c.data.source = 'exchange';
    c.exchange.api_base_url = srv.url;
    c.exchange.max_retries = 1;
    const fast = { sleep: async () => undefined, random: () => 0 };
    const up = await createMarketSource(c, { home: join(home, 'a'), clock: new ManualClock(Date.UTC(2023, 11, 30, 19, 30)), env: {}, ccxt: fast });
    expect(up.source.kind).toBe('exchange');
    expect(up.waiting ?? null).toBeNull();
    expect(up.notice).toContain('public market data only');
    expect((await up.source.latestClosedCandle('BTC/USDT', '1h'))?.timestamp).toBe(Date.UTC(2023, 11, 30, 18));
    await up.source.close?.();
    await srv.close();
    const logs: string[] = [];
    const clock = new ManualClock(Date.UTC(2023, 11, 31, 12, 4));
    const down = await createMarketSource(c, { home: join(home, 'b'), clock, env: {}, ccxt: fast, log: (_l, m) => logs.push(m) });
    expect(down.source.kind).toBe('exchange');
    expect(down.waiting).toMatch(/^waiting for binance since 12:04 UTC, retry in 30 s \(binance unreachable at http:\/\/127\.0\.0\.1:\d+/);
    expect(down.notice).toBe(down.waiting);
    expect(logs.some((l) => l.startsWith('waiting for binance'))).toBe(true);
    expect(logs.join('\n')).not.toMatch(/simulator/);
    // Until the retry time, calls fail at once with the waiting message (no request, no backoff sleep).
    await expect(down.source.fetchCandles('BTC/USDT', '1h', NOW - 5 * 3_600_000, NOW)).rejects.toThrow(/waiting for binance since 12:04 UTC, retry in 30 s/);
    clock.advance(10_000);
    await expect(down.source.listedSymbols!()).rejects.toThrow(/retry in 20 s/);
    // At the retry time one attempt is made; it fails again and the wait doubles.
    clock.advance(20_000);
    await expect(down.source.fetchCandles('BTC/USDT', '1h', NOW - 5 * 3_600_000, NOW)).rejects.toThrow(/unreachable/);
    await expect(down.source.fetchCandles('BTC/USDT', '1h', NOW - 5 * 3_600_000, NOW)).rejects.toThrow(/since 12:04 UTC, retry in 60 s/);
  });
});

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

  it.skipIf(!existsSync(DEFAULT_DATA_DIR))('exchange when it answers; simulator with a notice when it does not', async () => {
    const home = await mkdtemp(join(tmpdir(), 'kilo-factory-'));
    const srv = await startBinanceServer({ symbols: ['BTC/USDT'], now: () => NOW });
    const c = defaultConfig();
    c.data.source = 'exchange';
    c.exchange.api_base_url = srv.url;
    c.exchange.max_retries = 1;
    const fast = { sleep: async () => undefined };
    const up = await createMarketSource(c, { home: join(home, 'a'), clock: new ManualClock(Date.UTC(2023, 11, 30, 19, 30)), env: {}, ccxt: fast });
    expect(up.source.kind).toBe('exchange');
    expect(up.notice).toContain('public market data only');
    expect((await up.source.latestClosedCandle('BTC/USDT', '1h'))?.timestamp).toBe(Date.UTC(2023, 11, 30, 18));
    await up.source.close?.();
    await srv.close();
    const logs: string[] = [];
    const down = await createMarketSource(c, { home: join(home, 'b'), clock: new ManualClock(NOW), env: {}, ccxt: fast, log: (_l, m) => logs.push(m) });
    expect(down.source.kind).toBe('sim');
    expect(down.notice).toContain(`binance unreachable at ${srv.url}`);
    expect(down.notice).toContain('falling back to the simulator (seed 42)');
    expect(logs.some((l) => l.includes('falling back'))).toBe(true);
  });
});

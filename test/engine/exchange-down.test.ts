/**
 * The engine on the real ccxt client pointed (exchange.api_base_url) at a loopback server speaking
 * Binance's REST format: it caches markets and candles; when the exchange goes down the rounds go on
 * on the cached candles, and a restart with the exchange still down starts from the cached markets.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { createEngine } from '../../src/engine.js';
import { startBinanceServer } from '../helpers/binance-server.js';
import { hasData, testConfig } from './helpers.js';

const HOUR = 3_600_000;
const START = Date.UTC(2023, 5, 1);

describe.skipIf(!hasData)('engine against a loopback exchange that goes down', () => {
  let home: string;
  afterAll(async () => {
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('keeps running on cached candles, then restarts from the cached markets', async () => {
    home = await mkdtemp(join(tmpdir(), 'kilo-exdown-'));
    const srv = await startBinanceServer({ symbols: ['BTC/USDT', 'ETH/USDT'], now: () => clock.now() });
    const clock = new ManualClock(START);
    const config = testConfig((c) => {
      c.data.source = 'exchange';
      c.exchange.api_base_url = srv.url;
      c.exchange.max_retries = 1;
      c.exchange.timeout_ms = 1000;
      c.model.auto_train_new_symbols = false;
      c.model.block_untrained_symbols = false;
    });
    const engine = await createEngine({ home, config, configPath: join(home, 'config.yaml'), clock, marketClock: clock, env: {} });
    expect(engine.source.source.kind).toBe('exchange');
    await engine.start({ loop: false });
    await engine.runRound();
    const before = engine.getSnapshot().symbols.find((r) => r.symbol === 'BTC/USDT')!;
    expect(before.candles).toBeGreaterThan(100);
    expect(existsSync(join(home, 'data', 'candles', 'binance', 'BTC-USDT-1h.csv'))).toBe(true);

    await srv.close();
    const signalsDuringOutage: string[] = [];
    const off = engine.on('signal', (s) => signalsDuringOutage.push(s.symbol));
    for (let i = 0; i < 3; i++) {
      clock.advance(HOUR);
      await engine.runRound();
    }
    off();
    const snap = engine.getSnapshot();
    expect(snap.round).toBe(4);
    const logs = engine.logger.entries().map((e) => e.message);
    // No new candle can exist while the exchange is down: the symbol is skipped with the reason,
    // the URL and the error - said once when it starts, not every round - and the rounds go on.
    expect(logs.filter((m) => /BTC\/USDT: market data failed, skipped this round: .*127\.0\.0\.1.*ECONNREFUSED/.test(m))).toHaveLength(1);
    // Three hours without a candle is beyond data.max_staleness_candles (2): held, with its age.
    expect(logs.filter((m) => /BTC\/USDT: no new signals or entries - stale: newest candle 2023-05-31 23:00 closed 3\.0 h ago/.test(m))).toHaveLength(1);
    const row = snap.symbols.find((r) => r.symbol === 'BTC/USDT')!;
    expect(row.stateReason).toMatch(/^stale: newest candle 2023-05-31 23:00 closed 3\.0 h ago/);
    expect(row.lastSignal).not.toBeNull();
    expect(signalsDuringOutage).toEqual([]);
    await engine.stop();

    const again = await createEngine({ home, config, configPath: join(home, 'config.yaml'), clock, marketClock: clock, env: {} });
    expect(again.source.source.kind).toBe('exchange');
    // Markets come from the on-disk cache: no fallback to the simulator.
    expect(again.source.notice ?? '').not.toMatch(/simulator/);
    await again.start({ loop: false });
    await again.runRound();
    // The restart has its history from the candle cache, and says so.
    expect(again.getSnapshot().symbols.find((r) => r.symbol === 'BTC/USDT')!.candles).toBeGreaterThan(100);
    expect(again.logger.entries().some((e) => /BTC\/USDT: exchange unavailable .*using \d+ cached candles up to 2023-05-31T23:00/.test(e.message))).toBe(true);
    await again.stop();
  });
});

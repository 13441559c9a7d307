/**
 * Reliability round two, the data layer (issue 17 items 3, 4, 5):
 *  - absurd prices: a well-formed 1e308 candle from the exchange or a CSV is never stored or
 *    scored (rejected naming exchange/symbol/time, or file/line); stats never take a non-finite value;
 *  - symbols from state files: a queue entry `X/../../planted` is rejected naming the file and
 *    entry, never trained or retried, and the planted CSV outside csv_dir is never read;
 *  - API keys: with a key configured, the engine's market data goes out unsigned - no request with
 *    the key header or a signature, none to Binance's private margin endpoints.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { defaultConfig } from '../../src/config/schema.js';
import { CcxtMarketSource } from '../../src/market/ccxt-source.js';
import { CandleStore } from '../../src/market/candle-store.js';
import { checkCandleFolders, checkExitCode } from '../../src/market/check.js';
import { OutcomeTracker } from '../../src/trading/outcomes.js';
import { createEngine } from '../../src/engine.js';
import { startBinanceServer, DEFAULT_DATA_DIR } from '../helpers/binance-server.js';
import { testConfig } from '../engine/helpers.js';
import { freshHome } from './helpers.js';

const H = 3_600_000;
const NOW = Date.UTC(2023, 5, 1, 0, 30);
const homes: string[] = [];
const home = async (tag: string) => {
  const h = await freshHome(tag);
  homes.push(h);
  return h;
};
afterAll(async () => {
  for (const h of homes) await rm(h, { recursive: true, force: true });
});

describe.skipIf(!existsSync(DEFAULT_DATA_DIR))('absurd prices', () => {
  it('a 1e308 candle from the exchange is never stored; the log names exchange, symbol and time', async () => {
    const h = await home('absurd-x');
    const srv = await startBinanceServer({ symbols: ['ETH/USDT'], now: () => NOW });
    try {
      const config = defaultConfig();
      config.data.source = 'exchange';
      Object.assign(config.exchange, { api_base_url: srv.url, max_retries: 2 });
      const logs: string[] = [];
      const source = new CcxtMarketSource(config, { home: h, clock: new ManualClock(NOW), sleep: async () => undefined, log: (_l, m) => logs.push(m) });
      const store = new CandleStore(join(h, 'data/candles'), new ManualClock(NOW));
      // Every answer carries the absurd candle: after the retries only the candles before it are kept.
      srv.corruptNext('absurd-price', 50);
      const r = await store.update(source, 'binance', 'ETH/USDT', '1h', NOW - 10 * 24 * H);
      const stored = await store.read('binance', 'ETH/USDT', '1h');
      expect(stored.length).toBeGreaterThan(0);
      expect(Math.max(...stored.map((c) => c.high))).toBeLessThan(1e5);
      expect(r.report.ok).toBe(true);
      expect(logs.some((l) => /^binance ETH\/USDT 1h: rejected absurd candle\(s\) at 2023-05-\d\dT\d\d:00:00\.000Z; kept only the candles before them$/.test(l))).toBe(true);
      const check = await checkCandleFolders([{ dir: join(h, 'data/candles'), origin: 'store' }], { now: NOW, windowDays: 30, maxStaleCandles: 10_000, minCoverage: 0 });
      expect(check[0].absurd).toEqual([]);
      // The exchange answers soundly again: the next top-up completes the store.
      srv.clearFaults();
      await store.update(source, 'binance', 'ETH/USDT', '1h', NOW - 10 * 24 * H);
      expect((await store.read('binance', 'ETH/USDT', '1h')).at(-1)!.timestamp).toBe(NOW - 1.5 * H);
      await source.close();
    } finally {
      await srv.close();
    }
  });

  it('a 1e308 row in a CSV folder fails kilo data check naming the file and line', async () => {
    const h = await home('absurd-csv');
    await mkdir(join(h, 'csv'));
    const rows = ['timestamp,open,high,low,close,volume', `${H},10,11,9,10,1`, `${2 * H},10,1e308,9,1e308,1`, `${3 * H},10,11,9,10,1`];
    await writeFile(join(h, 'csv/ZZZ-USDT-1h.csv'), rows.join('\n') + '\n');
    const r = await checkCandleFolders([{ dir: join(h, 'csv'), origin: 'csv' }], { now: 10 * H, windowDays: 1, maxStaleCandles: 2, minCoverage: 0 });
    expect(r[0].badRows).toEqual([{ line: 3, reason: 'high 1e+308 is absurd (above 1000000000000)' }]);
    expect(checkExitCode(r)).toBe(1);
  });

  it('stats never take a non-finite or absurd value', async () => {
    const h = await home('absurd-stats');
    const file = join(h, 'data/performance.json');
    const warns: string[] = [];
    const t = await OutcomeTracker.open(file, { feeRate: 0.001, onWarn: (m) => warns.push(m) });
    expect(() => t.record({ symbol: 'BTC/USDT', at: H, direction: 'bullish', confidence: 0.9, modelVersion: '1.0' }, { price: 1e308, horizonBars: 1 })).toThrow(RangeError);
    t.record({ symbol: 'BTC/USDT', at: H, direction: 'bullish', confidence: 0.9, modelVersion: '1.0' }, { price: 30_000, horizonBars: 1 });
    expect(t.observe('BTC/USDT', { timestamp: 2 * H, close: 1e308 })).toEqual([]);
    // A close within the price bounds but 10,000x the entry: voided, not a "correct" signal.
    expect(t.observe('BTC/USDT', { timestamp: 3 * H, close: 3e8 })).toEqual([]);
    const o = t.overall();
    expect(o).toMatchObject({ signals: 0, pnlSum: 0 });
    expect(warns.join('\n')).toMatch(/close 1e\+308 is not a sound price/);
    expect(warns.join('\n')).toMatch(/signal s1 would resolve with a 999900% move .*voided/);
    // A stats file carrying a path-like symbol: that entry is rejected by name. (A non-finite sum
    // cannot even be written: JSON turns it into null, and the file is recovered from its .bak.)
    await t.save();
    const data = JSON.parse(await readFile(file, 'utf8'));
    data.symbols['X/../../etc'] = { stats: { signals: 1, correct: 1, pnlSum: 5, lastRetrainAt: null, signalsSinceRetrain: 0, correctSinceRetrain: 0, pnlSinceRetrain: 0 }, byVersion: {}, history: [] };
    await writeFile(file, JSON.stringify(data));
    const warns2: string[] = [];
    const t2 = await OutcomeTracker.open(file, { feeRate: 0.001, onWarn: (m) => warns2.push(m) });
    expect(t2.symbols()).not.toContain('X/../../etc');
    expect(warns2.join('\n')).toContain(`${file}: symbols["X/../../etc"]: expected a symbol like BTC/USDT`);
    expect(Number.isFinite(t2.overall().pnlSum)).toBe(true);
  });
});

describe.skipIf(!existsSync(DEFAULT_DATA_DIR))('symbols read from state files', () => {
  it('a queue entry X/../../planted is rejected naming the file and entry, never trained or retried', async () => {
    const h = await home('traversal');
    await mkdir(join(h, 'data'), { recursive: true });
    // The planted CSV sits outside csv_dir, where the entry's "symbol" would have led.
    const planted = join(h, 'planted-1h.csv');
    await writeFile(planted, 'timestamp,open,high,low,close,volume\n3600000,1,2,0.5,1.5,10\n');
    const qfile = join(h, 'data/new_symbol_training_queue.json');
    const entry = (id: string, symbol: string) => ({
      id,
      symbol,
      priority: 100,
      state: 'queued',
      attempts: 0,
      last_error: null,
      reason: 'planted',
      next_attempt_at: null,
      added_at: 1,
      started_at: null,
      finished_at: null,
      last_trained_at: null,
    });
    await writeFile(qfile, JSON.stringify({ queued_symbols: [], queued_at: {}, entries: [entry('q1', 'X/../../planted')], next_seq: 2 }));
    const clock = new ManualClock(Date.UTC(2023, 5, 1));
    const config = testConfig((c) => {
      c.model.auto_train_new_symbols = false;
    });
    const engine = await createEngine({ home: h, config, configPath: join(h, 'config.yaml'), clock, marketClock: clock });
    await engine.start({ loop: false });
    for (let i = 0; i < 3; i++) {
      await engine.runRound();
      await engine.pumpQueue();
      await engine.idle();
      clock.advance(H);
    }
    const q = engine.queue.list().find((e) => e.id === 'q1')!;
    expect(q.state).toBe('failed');
    expect(q.attempts).toBe(0);
    expect(q.last_error).toContain(`${qfile}: entry q1: symbol "X/../../planted" is not a symbol like BTC/USDT; entry rejected, never retried`);
    const warned = engine.logger.entries().filter((e) => e.message.includes('entry q1'));
    expect(warned).toHaveLength(1);
    expect(engine.registry.list()).toEqual([]);
    await engine.stop();
    // On disk too: a later start does not pick it up again.
    const onDisk = JSON.parse(await readFile(qfile, 'utf8'));
    expect(onDisk.entries[0]).toMatchObject({ id: 'q1', state: 'failed' });
  });
});

describe.skipIf(!existsSync(DEFAULT_DATA_DIR))('API keys go only where needed', () => {
  it('with a key configured, market data goes out unsigned and never to the private margin endpoints', async () => {
    const h = await home('unsigned');
    const clock = new ManualClock(Date.UTC(2023, 5, 1, 0, 0, 5));
    const srv = await startBinanceServer({ symbols: ['BTC/USDT', 'ETH/USDT'], now: () => clock.now() });
    const apiKey = 'AKEYunsigned0123456789';
    const secret = 'SSECRETunsigned0123456789';
    try {
      const config = testConfig((c) => {
        c.data.source = 'exchange';
        c.exchange.api_base_url = srv.url;
        c.universe.symbols = ['BTC/USDT'];
        c.model.auto_train_new_symbols = false;
      });
      const engine = await createEngine({ home: h, config, configPath: join(h, 'config.yaml'), clock, marketClock: clock, env: { KILO_API_KEY: apiKey, KILO_API_SECRET: secret } });
      await engine.start({ loop: false });
      await engine.runRound();
      clock.advance(H);
      await engine.runRound();
      expect(engine.getSnapshot().symbols[0].price).not.toBeNull();
      await engine.stop();
      expect(srv.count('/api/v3/exchangeInfo')).toBe(1);
      expect(srv.count('/api/v3/klines')).toBeGreaterThan(0);
      expect(srv.requests.filter((r) => r.path.startsWith('/sapi'))).toEqual([]);
      const signed = srv.requests.filter((r) => 'signature' in r.query || 'x-mbx-apikey' in r.headers || JSON.stringify(r).includes(apiKey));
      expect(signed).toEqual([]);
    } finally {
      await srv.close();
    }
  });
});

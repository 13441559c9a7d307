import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { defaultConfig, type Config } from '../../src/config/schema.js';
import { CcxtMarketSource, ExchangeFailure, ExchangeUnreachableError, ExchangeConfigError, createCcxtExchange, rewriteApiUrls } from '../../src/market/ccxt-source.js';
import { CandleStore } from '../../src/market/candle-store.js';
import { parseCandleCsv } from '../../src/market/csv.js';
import { startBinanceServer, DEFAULT_DATA_DIR, type BinanceServer } from '../helpers/binance-server.js';

const H = 3_600_000;
const NOW = Date.UTC(2023, 11, 31, 0, 0);
const TWO_YEARS = 730 * 24 * H;

let srv: BinanceServer;
let csvBtc: { timestamp: number }[];
beforeAll(async () => {
  srv = await startBinanceServer({ symbols: ['BTC/USDT', 'ETH/USDT'], now: () => NOW });
  csvBtc = parseCandleCsv(await readFile(join(DEFAULT_DATA_DIR, 'BTC-USDT-1h.csv'), 'utf8')).candles;
});
afterAll(async () => srv?.close());

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'kilo-ccxt-'));
});

function setup(patch: Partial<Config['exchange']> = {}, extra: { apiKey?: string; secret?: string } = {}, start = NOW) {
  const config = defaultConfig();
  config.data.source = 'exchange';
  Object.assign(config.exchange, { api_base_url: srv.url, timeout_ms: 400, max_retries: 5 }, patch);
  const sleeps: number[] = [];
  const logs: string[] = [];
  const clock = new ManualClock(start);
  const source = new CcxtMarketSource(config, {
    home,
    clock,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    backoffBaseMs: 100,
    log: (_l, m) => logs.push(m),
    credentials: extra.apiKey ? { apiKey: extra.apiKey, secret: extra.secret, source: 'env' } : undefined,
  });
  return { config, source, sleeps, logs, clock };
}

const increasing = (xs: number[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]);

describe.skipIf(!existsSync(DEFAULT_DATA_DIR))('ccxt source against the loopback Binance server', () => {
  it('rewrites every api url to the base url, keeping paths', () => {
    const api = { public: 'https://api.binance.com/api/v3', nested: { x: 'https://fapi.binance.com:443/fapi/v1' }, list: ['wss://a.b/c'] };
    expect(rewriteApiUrls(api, 'http://127.0.0.1:9999/ignored')).toEqual({
      public: 'http://127.0.0.1:9999/api/v3',
      nested: { x: 'http://127.0.0.1:9999/fapi/v1' },
      list: ['http://127.0.0.1:9999/c'],
    });
  });

  it('a 2-year 1h fetch pages past the 1000 limit and matches the CSV exactly', async () => {
    const { source } = setup();
    const before = srv.count('/api/v3/klines');
    const got = await source.fetchCandles('BTC/USDT', '1h', NOW - TWO_YEARS, NOW);
    const expected = csvBtc.filter((c) => c.timestamp >= NOW - TWO_YEARS && c.timestamp + H <= NOW);
    expect(got.length).toBe(expected.length);
    expect(got).toEqual(expected);
    const pages = srv.count('/api/v3/klines') - before;
    expect(pages).toBeGreaterThanOrEqual(Math.ceil(expected.length / 1000));
    expect(pages).toBeLessThanOrEqual(Math.ceil(expected.length / 1000) + 3); // + re-asks of pages with real gaps
    await source.close();
  });

  it('survives 429/418/5xx, a slow response and truncated JSON with growing backoff; the store is complete', async () => {
    const { source, sleeps } = setup();
    await source.ensureMarkets();
    for (const status of [429, 418, 500, 502, 503] as const) srv.failNext({ kind: 'status', status, path: '/api/v3/klines' });
    const store = new CandleStore(join(home, 'data/candles'), new ManualClock(NOW));
    const since = NOW - 60 * 24 * H;
    const first = store.update(source, 'binance', 'ETH/USDT', '1h', since);
    const r = await first;
    expect(sleeps).toHaveLength(5);
    expect(increasing(sleeps)).toBe(true);
    expect(sleeps[4]).toBeGreaterThanOrEqual(sleeps[0] * 16);
    // Slow answer past the 400 ms timeout, then half a JSON body, on the top-up.
    sleeps.length = 0;
    srv.failNext({ kind: 'delay', ms: 1500, path: '/api/v3/klines' });
    srv.failNext({ kind: 'truncated', path: '/api/v3/klines' });
    await readFile(store.file('binance', 'ETH/USDT', '1h'), 'utf8');
    const again = new CandleStore(join(home, 'data/candles2'), new ManualClock(NOW));
    const r2 = await again.update(source, 'binance', 'ETH/USDT', '1h', since);
    expect(sleeps.length).toBe(2);
    expect(increasing(sleeps)).toBe(true);
    const csvEth = parseCandleCsv(await readFile(join(DEFAULT_DATA_DIR, 'ETH-USDT-1h.csv'), 'utf8')).candles.filter(
      (c) => c.timestamp >= since && c.timestamp + H <= NOW,
    );
    for (const [res, st] of [
      [r, store],
      [r2, again],
    ] as const) {
      expect(res.total).toBe(csvEth.length);
      expect(res.report.ok).toBe(true);
      expect(await st.read('binance', 'ETH/USDT', '1h')).toEqual(csvEth);
    }
    await source.close();
  });

  it('an ExchangeError is reported with the symbol and not retried', async () => {
    const { source, sleeps } = setup();
    await source.ensureMarkets();
    const before = srv.count('/api/v3/klines');
    srv.failNext({ kind: 'exchange-error', code: -1121, msg: 'Invalid symbol.', status: 400, path: '/api/v3/klines' });
    const err = await source.fetchCandles('BTC/USDT', '1h', NOW - 10 * H, NOW).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExchangeFailure);
    expect((err as ExchangeFailure).symbol).toBe('BTC/USDT');
    expect((err as Error).message).toContain('BTC/USDT');
    expect(srv.count('/api/v3/klines') - before).toBe(1);
    expect(sleeps).toEqual([]);
    await source.close();
  });

  it('retries are bounded by exchange.max_retries', async () => {
    const { source, sleeps } = setup({ max_retries: 2 });
    await source.ensureMarkets();
    srv.failNext({ kind: 'status', status: 503, path: '/api/v3/klines' }, 3);
    const err = await source.fetchCandles('BTC/USDT', '1h', NOW - 10 * H, NOW).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExchangeUnreachableError);
    expect((err as Error).message).toContain(srv.url);
    expect(sleeps).toHaveLength(2);
  });

  it('bad candles in a response (duplicate, disorder, zero/negative price, gap) are re-asked, never stored', async () => {
    const { source } = setup();
    await source.ensureMarkets();
    const store = new CandleStore(join(home, 'data/candles'), new ManualClock(NOW));
    const since = NOW - 30 * 24 * H;
    for (const d of ['duplicate', 'out-of-order', 'zero-price', 'negative-price', 'gap'] as const) srv.corruptNext(d);
    const r = await store.update(source, 'binance', 'BTC/USDT', '1h', since);
    const expected = csvBtc.filter((c) => c.timestamp >= since && c.timestamp + H <= NOW);
    expect(await store.read('binance', 'BTC/USDT', '1h')).toEqual(expected);
    expect(r.report.ok).toBe(true);
    expect(r.report.gaps).toEqual([]);
  });

  it('markets are cached on disk: a restart needs no exchangeInfo; with the exchange down a stale cache is used with its age', async () => {
    const a = setup();
    await a.source.ensureMarkets();
    const info = srv.count('/api/v3/exchangeInfo');
    const b = setup();
    await b.source.fetchCandles('BTC/USDT', '1h', NOW - 5 * H, NOW);
    expect(srv.count('/api/v3/exchangeInfo')).toBe(info);
    // Stale cache and nothing listening: start from the cache and say how old it is.
    const down = await startBinanceServer({ symbols: ['BTC/USDT'] });
    const deadUrl = down.url;
    await down.close();
    const c = setup({ api_base_url: deadUrl, max_retries: 1, markets_cache_max_age_h: 1 });
    c.clock.advance(5 * H);
    await c.source.ensureMarkets();
    expect(c.source.marketsNotice).toMatch(/unreachable; using markets cached 5\.0 h ago/);
    expect(c.source.exchange.markets?.['BTC/USDT']).toBeDefined();
  });

  it('secrets never appear in errors thrown through the source', async () => {
    const apiKey = 'AKEY-1234567890-abcdef';
    const secret = 'SSECRET-0987654321-zyx';
    const { source, logs } = setup({}, { apiKey, secret });
    await source.ensureMarkets();
    srv.failNext({ kind: 'exchange-error', code: -2014, msg: `API-key format invalid: ${apiKey} / ${secret}`, status: 400, path: '/api/v3/klines' });
    const err = (await source.fetchCandles('BTC/USDT', '1h', NOW - 5 * H, NOW).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(ExchangeFailure);
    expect(err.message).toContain('API-key format invalid');
    expect(err.message).not.toContain(apiKey);
    expect(err.message).not.toContain(secret);
    expect(err.message).toContain('***apiKey***');
    srv.failNext({ kind: 'status', status: 500, path: '/api/v3/klines' });
    await source.fetchCandles('BTC/USDT', '1h', NOW - 5 * H, NOW);
    expect(logs.join('\n')).not.toContain(apiKey);
  });

  it('sandbox mode uses the testnet urls; an exchange without one is refused by name', () => {
    const { source } = setup({ sandbox: true, api_base_url: null });
    expect(source.url).toContain('testnet');
    expect(() => setup({ id: 'bitstamp', sandbox: true, api_base_url: null })).toThrow(/bitstamp has no sandbox/);
  });

  it('drops the candle still in progress (timestamp + tf > now)', async () => {
    // The server has the 18:00 candle, which is still open at 18:30 on our clock.
    const { source, clock } = setup({}, {}, Date.UTC(2023, 11, 30, 18, 30));
    const got = await source.fetchCandles('BTC/USDT', '1h', Date.UTC(2023, 11, 30, 12), Date.UTC(2023, 11, 31));
    expect(got.at(-1)!.timestamp).toBe(Date.UTC(2023, 11, 30, 17));
    expect(got).toHaveLength(6);
    clock.set(Date.UTC(2023, 11, 30, 19, 0));
    expect((await source.latestClosedCandle('BTC/USDT', '1h'))!.timestamp).toBe(Date.UTC(2023, 11, 30, 18));
  });

  it('passes proxies to ccxt and refuses unknown exchange ids by name', () => {
    const c = defaultConfig();
    c.exchange.http_proxy = 'http://proxy.local:3128';
    c.exchange.https_proxy = 'http://proxy.local:3129';
    const ex = createCcxtExchange(c);
    expect(ex.httpProxy).toBe('http://proxy.local:3128');
    expect(ex.httpsProxy).toBe('http://proxy.local:3129');
    expect(ex.enableRateLimit).toBe(true);
    c.exchange.id = 'notanexchange';
    expect(() => createCcxtExchange(c)).toThrow(ExchangeConfigError);
    expect(() => createCcxtExchange(c)).toThrow(/exchange\.id: unknown ccxt exchange "notanexchange"/);
  });

  it('lists spot symbols of the quote currency with 24h quote volume from the ticker endpoint', async () => {
    const { source } = setup();
    const list = await source.listSymbols();
    expect(list.map((s) => s.symbol).sort()).toEqual(['BTC/USDT', 'ETH/USDT']);
    const btc = list.find((s) => s.symbol === 'BTC/USDT')!;
    const last24 = csvBtc.filter((c) => c.timestamp + H <= NOW).slice(-24) as unknown as { volume: number; close: number }[];
    expect(btc.quoteVolume24h).toBeCloseTo(last24.reduce((s, c) => s + c.volume * c.close, 0), 0);
    expect(btc).toMatchObject({ base: 'BTC', quote: 'USDT' });
  });
});

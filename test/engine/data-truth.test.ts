/**
 * The engine on the real ccxt client against the loopback Binance server (exchange.api_base_url):
 *  - the exchange unreachable and nothing cached: no simulator, nothing traded, the engine stays up
 *    and says `waiting for binance since HH:MM UTC, retry in N s` (snapshot, log, kilo doctor);
 *    when the exchange answers again at the retry time, market data flows;
 *  - an outage and the catch-up: no signal while the data is stale, and the first signal after it
 *    comes only once every missing candle is in the store;
 *  - an exchange whose clock lags three hours: a stale symbol, no signal and no entry on its old
 *    candles; it resumes by itself when fresh candles arrive.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { createEngine, type Engine } from '../../src/engine.js';
import { runDoctor } from '../../src/doctor/checks.js';
import { CandleStore } from '../../src/market/candle-store.js';
import { validateCandles } from '../../src/market/validate.js';
import { startBinanceServer, type BinanceServer } from '../helpers/binance-server.js';
import { hasData, testConfig } from './helpers.js';
import type { SignalView, TradeEvent } from '../../src/engine-api.js';

const H = 3_600_000;
const START = Date.UTC(2023, 5, 1, 0, 0, 5);

function exchangeConfig(url: string) {
  return testConfig((c) => {
    c.data.source = 'exchange';
    c.exchange.api_base_url = url;
    c.exchange.max_retries = 1;
    c.exchange.timeout_ms = 2000;
    c.universe.symbols = ['BTC/USDT'];
    c.model.auto_train_new_symbols = false;
    c.model.block_untrained_symbols = false;
    c.paper_trading.entry_threshold = 0;
  });
}

describe.skipIf(!hasData)('data truth on a loopback exchange', () => {
  let home: string;
  let srv: BinanceServer | null = null;
  let engine: Engine | null = null;
  afterEach(async () => {
    await engine?.stop().catch(() => undefined);
    engine = null;
    await srv?.close();
    srv = null;
    if (home) await rm(home, { recursive: true, force: true });
  });

  async function start(clock: ManualClock, config = exchangeConfig(srv!.url)) {
    home = home ?? (await mkdtemp(join(tmpdir(), 'kilo-truth-')));
    engine = await createEngine({ home, config, configPath: join(home, 'config.yaml'), clock, marketClock: clock, env: {} });
    const signals: SignalView[] = [];
    const trades: TradeEvent[] = [];
    engine.on('signal', (s) => signals.push(s));
    engine.on('trade', (t) => trades.push(t));
    await engine.start({ loop: false });
    return { engine, signals, trades };
  }

  it('exchange down with nothing cached: no simulator, no trades, waiting with backoff; data flows when it answers', async () => {
    home = await mkdtemp(join(tmpdir(), 'kilo-truth-'));
    const clock = new ManualClock(Date.UTC(2023, 5, 1, 12, 4));
    srv = await startBinanceServer({ symbols: ['BTC/USDT'], now: () => clock.now() });
    // Every request answers 503 (ccxt: ExchangeNotAvailable, a network error): the exchange is down.
    srv.failNext({ kind: 'status', status: 503 }, 10_000);
    const { engine, signals, trades } = await start(clock);
    expect(engine.source.source.kind).toBe('exchange');
    expect(engine.source.waiting).toMatch(/^waiting for binance since 12:04 UTC, retry in 30 s/);
    for (let i = 0; i < 3; i++) {
      await engine.runRound();
      clock.advance(5_000);
    }
    const snap = engine.getSnapshot();
    expect(snap.dataSource).toMatch(/^binance \(ccxt\): waiting for binance since 12:04 UTC, retry in \d+ s/);
    expect(signals).toEqual([]);
    expect(trades).toEqual([]);
    expect(snap.symbols.find((r) => r.symbol === 'BTC/USDT')!.price).toBeNull();
    const logs = engine.logger.entries().map((e) => e.message).join('\n');
    expect(logs).not.toMatch(/simulator/);
    expect(logs).toMatch(/waiting for binance since 12:04 UTC/);
    // kilo doctor reads what the engine said.
    const doc = await runDoctor({ home, configPath: join(home, 'config.yaml'), skipTf: true, env: {} });
    expect(doc.checks.find((c) => c.name === 'market data')).toMatchObject({ status: 'warn', detail: expect.stringMatching(/^waiting for binance since 12:04 UTC/) });

    // The exchange answers again; at the retry time the markets load and candles flow.
    srv.clearFaults();
    clock.advance(30_000);
    await engine.runRound();
    const row = engine.getSnapshot().symbols.find((r) => r.symbol === 'BTC/USDT')!;
    expect(row.price).not.toBeNull();
    expect(engine.getSnapshot().dataSource).toBe('binance (ccxt)');
    expect(signals.length).toBe(1);
    expect(engine.logger.entries().some((e) => /binance answers again after \d+ attempt\(s\): markets loaded/.test(e.message))).toBe(true);
  });

  it('an outage and the catch-up: no signal while stale; the gap is in the store before the next signal', async () => {
    const clock = new ManualClock(START);
    srv = await startBinanceServer({ symbols: ['BTC/USDT'], now: () => clock.now() });
    const { engine, signals } = await start(clock);
    const store = new CandleStore(join(home, 'data/candles'), clock);
    // At every signal, the store must hold every candle up to the signal's: never a half-filled window.
    const holesAtSignal: number[] = [];
    engine.on('signal', (s) => {
      void store.read('binance', s.symbol, '1h').then((cs) => {
        const upTo = cs.filter((c) => c.timestamp <= s.at && c.timestamp > s.at - 200 * H);
        holesAtSignal.push(validateCandles(upTo, '1h').missing + (upTo.at(-1)?.timestamp === s.at ? 0 : 1));
      });
    });
    await engine.runRound();
    expect(signals).toHaveLength(1);
    srv.failNext({ kind: 'status', status: 503, path: '/api/v3/klines' }, 10_000);
    for (let i = 0; i < 5; i++) {
      clock.advance(H);
      await engine.runRound();
    }
    expect(signals).toHaveLength(1);
    expect(engine.getSnapshot().symbols[0].stateReason).toMatch(/^stale: newest candle 2023-05-31 23:00 closed 5\.0 h ago/);
    srv.clearFaults();
    clock.advance(H);
    await engine.runRound();
    expect(signals).toHaveLength(2);
    expect(signals[1].at).toBe(Date.UTC(2023, 5, 1, 5));
    await new Promise((r) => setTimeout(r, 50));
    expect(holesAtSignal).toEqual([0, 0]);
    expect(engine.getSnapshot().symbols[0].stateReason).not.toMatch(/stale/);
  });

  it('an exchange whose clock is hours behind: stale, no signal and no entry on its old candles; resumes by itself', async () => {
    const clock = new ManualClock(START);
    let lagH = 0;
    srv = await startBinanceServer({ symbols: ['BTC/USDT'], now: () => clock.now() - lagH * H });
    const { engine, signals, trades } = await start(clock);
    await engine.runRound();
    expect(signals).toHaveLength(1);
    // Four hours behind (it also serves its candle in progress, so its newest closed one is 3 h old).
    lagH = 4;
    const before = trades.length;
    for (let i = 0; i < 6; i++) {
      clock.advance(H);
      await engine.runRound();
    }
    // Candles kept arriving (three hours late), yet nothing was signalled or traded on them.
    const row = engine.getSnapshot().symbols[0];
    expect(row.candles).toBeGreaterThan(300);
    expect(signals).toHaveLength(1);
    expect(trades.length).toBe(before);
    expect(row.stateReason).toMatch(/^stale: newest candle 2023-06-01 02:00 closed 3\.0 h ago \(data.max_staleness_candles: 2 x 1h\)/);
    expect(engine.getSnapshot().dataSource).toBe('binance (ccxt) (1 symbol(s) stale)');
    lagH = 0;
    clock.advance(H);
    await engine.runRound();
    expect(signals).toHaveLength(2);
    expect(signals[1].at).toBe(Date.UTC(2023, 5, 1, 6));
    expect(engine.logger.entries().some((e) => /BTC\/USDT: trading on its candles again \(was stale/.test(e.message))).toBe(true);
  });
});

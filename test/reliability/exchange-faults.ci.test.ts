/**
 * Exchange faults: the ENGINE on data.source 'exchange' talks to the loopback Binance server
 * through the real ccxt client while the server answers bursts of 429/418, 5xx, responses slower
 * than the timeout, truncated JSON and candle pages with gaps, duplicates, zero/negative prices and
 * rows out of order. Rounds must complete (a symbol that stays down is logged and skipped), backoff
 * delays must grow, no bad candle may reach data/candles/, and once faults stop the store must equal
 * the exchange's data exactly.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { defaultConfig } from '../../src/config/schema.js';
import { createEngine, type Engine } from '../../src/engine.js';
import { CcxtMarketSource } from '../../src/market/ccxt-source.js';
import { checkCandleFolders } from '../../src/market/check.js';
import { parseCandleCsv } from '../../src/market/csv.js';
import { startBinanceServer, DEFAULT_DATA_DIR, type BinanceServer, type Fault, type CandleDefect } from '../helpers/binance-server.js';
import { freshHome } from './helpers.js';

const H = 3_600_000;
const START = Date.UTC(2023, 5, 1, 0, 0);
const SYMBOLS = ['BTC/USDT', 'ETH/USDT', 'SOL/USDT'];
const MAX_RETRIES = 4;
const K = '/api/v3/klines';

type Step = { label: string; faults?: Fault[]; defects?: CandleDefect[] };
// One entry per round; faults are queued right before the round runs.
const PLAN: Step[] = [
  { label: 'bad pages on the first load', defects: ['gap', 'duplicate', 'zero-price', 'negative-price', 'out-of-order'] },
  { label: '429 burst', faults: Array(3).fill({ kind: 'status', status: 429, path: K }) },
  { label: '418 burst', faults: Array(2).fill({ kind: 'status', status: 418, path: K }) },
  { label: '5xx', faults: [500, 502, 503].map((status) => ({ kind: 'status', status, path: K }) as Fault) },
  { label: 'slower than the timeout', faults: [{ kind: 'delay', ms: 4000, path: K }] },
  { label: 'truncated JSON', faults: Array(2).fill({ kind: 'truncated', path: K }) },
  // More 429s than one symbol's retries: some symbol must give up this round and be skipped.
  { label: 'outage beyond the retry budget', faults: Array((MAX_RETRIES + 1) * SYMBOLS.length).fill({ kind: 'status', status: 429, path: K }) },
  { label: 'mixed burst', faults: [{ kind: 'status', status: 418, path: K }, { kind: 'truncated', path: K }, { kind: 'status', status: 502, path: K }] },
];
const CLEAN_ROUNDS = 4;

let srv: BinanceServer;
let home = '';
let engine: Engine | null = null;
const extraHomes: string[] = [];
beforeAll(async () => {
  srv = await startBinanceServer({ symbols: SYMBOLS, now: () => START });
  home = await freshHome('exchange');
});
afterAll(async () => {
  await engine?.stop().catch(() => undefined);
  await srv?.close();
  for (const h of [home, ...extraHomes]) if (h) await rm(h, { recursive: true, force: true });
});

describe.skipIf(!existsSync(DEFAULT_DATA_DIR))('exchange faults against the engine', () => {
  it('keeps running, backs off, never stores a bad candle, and converges to the source', async () => {
    const config = defaultConfig();
    config.data.source = 'exchange';
    config.exchange.api_base_url = srv.url;
    // The loopback server shares the engine's event loop: on a loaded machine a healthy 1000-candle
    // answer can take over a second, and a timeout there adds a retry the plan does not have. The
    // 'slower than the timeout' step waits past this.
    config.exchange.timeout_ms = 3000;
    config.exchange.max_retries = MAX_RETRIES;
    config.universe.symbols = SYMBOLS;
    config.universe.core_symbols = [];
    config.assets.pre_trained = [];
    config.assets.quick_train = SYMBOLS;
    config.model.models = ['gbdt'];
    config.model.window = 16;
    config.model.auto_train_new_symbols = false;
    config.model.block_untrained_symbols = false;
    config.auto_training.enabled = false;
    config.heartbeat_interval_s = 86_400;
    config.logging.file = 'data/trading.log';

    // Live rounds run a few seconds after the candle close (as the engine schedules them).
    const clock = new ManualClock(START + 5_000);
    const sleeps: number[] = [];
    let current: number[] = [];
    const source = new CcxtMarketSource(config, {
      home,
      clock,
      // Backoff waits are recorded, not slept: the delays are the measurement.
      sleep: async (ms) => {
        sleeps.push(ms);
        current.push(ms);
      },
      backoffBaseMs: 100,
      // Jitter fixed at +12.5% so each retry's delay is exact: 112.5, 225, 450, 900 ms.
      random: () => 0.5,
    });
    engine = await createEngine({ home, config, configPath: join(home, 'config.yaml'), clock, market: { source, notice: null, storeName: 'binance' } });
    await engine.start({ loop: false });

    const perStep: { label: string; delays: number[]; failures: number; faults: Record<string, number>; klines: number; ms: number }[] = [];
    const steps: Step[] = [...PLAN, ...Array.from({ length: CLEAN_ROUNDS }, () => ({ label: 'clean' }))];
    for (const [i, step] of steps.entries()) {
      if (i > 0) clock.advance(H);
      srv.setNow(clock.now());
      for (const f of step.faults ?? []) srv.failNext(f);
      for (const d of step.defects ?? []) srv.corruptNext(d);
      const seenReq = srv.requests.length;
      const logSeq = engine.logger.entries().length;
      current = [];
      const t0 = performance.now();
      await engine.runRound();
      const ms = performance.now() - t0;
      const faults: Record<string, number> = {};
      for (const r of srv.requests.slice(seenReq)) if (r.fault) faults[r.fault] = (faults[r.fault] ?? 0) + 1;
      const failures = engine.logger.entries().slice(logSeq).filter((e) => /market data failed, skipped this round/.test(e.message)).length;
      const klines = srv.requests.slice(seenReq).filter((r) => r.path === K).length;
      perStep.push({ label: step.label, delays: current, failures, faults, klines, ms });
      expect(engine.getSnapshot().round).toBe(i + 1);
    }

    const report = perStep.map(
      (s) =>
        `[exchange] ${s.label.padEnd(32)} faults ${JSON.stringify(s.faults)} klines requests ${s.klines} backoff ms [${s.delays.map((d) => Math.round(d)).join(', ')}] skipped symbols ${s.failures} round ${Math.round(s.ms)} ms`,
    );
    const injected: Record<string, number> = {};
    for (const r of srv.requests) if (r.fault) injected[r.fault] = (injected[r.fault] ?? 0) + 1;

    // Every status/timeout/truncation fault was consumed and retried with a delay.
    const faultCount = perStep.slice(1).reduce((n, s) => n + Object.values(s.faults).reduce((a, b) => a + b, 0), 0);
    expect(faultCount).toBe(PLAN.slice(1).reduce((n, s) => n + (s.faults?.length ?? 0), 0));
    for (const s of perStep.slice(1, PLAN.length)) expect(s.delays.length, s.label).toBeGreaterThan(0);
    // Every delay is a step of the doubling backoff; a symbol that keeps failing walks up the whole
    // ladder (faults are shared by the symbols' parallel requests, so bursts mostly hit attempt 0).
    const ladder = [112.5, 225, 450, 900];
    for (const s of perStep.slice(1)) for (const d of s.delays) expect(ladder, `${s.label}: ${d}`).toContain(d);
    // A corrupt page waits base * 2^attempt (no jitter) before it is asked again.
    for (const d of perStep[0].delays) expect([100, 200, 400, 800]).toContain(d);
    const outage = perStep.find((s) => s.label === 'outage beyond the retry budget')!;
    expect([...outage.delays].sort((a, b) => a - b)).toEqual(ladder.flatMap((d) => Array(SYMBOLS.length).fill(d)));
    // The outage beyond the budget skipped at least one symbol, and the round still completed.
    expect(perStep.find((s) => s.label === 'outage beyond the retry budget')!.failures).toBeGreaterThan(0);
    expect(perStep.filter((s) => s.label === 'clean').every((s) => s.failures === 0 && s.delays.length === 0)).toBe(true);
    // Each defective page was asked again (one extra request per defect), except the out-of-order
    // one: ccxt sorts a page by time before the engine sees it, so that one arrives already repaired.
    expect(perStep[0].klines).toBeGreaterThanOrEqual(SYMBOLS.length + PLAN[0].defects!.length - 1);
    expect(perStep[0].delays.length).toBeGreaterThan(0);

    // data/candles/binance validates clean and equals the exchange's candles exactly over its range.
    const storeDir = join(home, 'data', 'candles');
    const checks = await checkCandleFolders([{ dir: storeDir, origin: 'store' }], { now: clock.now(), windowDays: 30, maxStaleCandles: 2, minCoverage: 0 });
    expect(checks.map((c) => c.symbol).sort()).toEqual([...SYMBOLS].sort());
    let stored = 0;
    for (const c of checks) {
      expect(c.ok, `${c.file}: ${JSON.stringify(c)}`).toBe(true);
      expect([c.duplicates, c.nonPositive, c.outOfOrder, c.inconsistentOhlc, c.badRows]).toEqual([[], [], [], [], []]);
      const storeRows = parseCandleCsv(await readFile(c.file, 'utf8')).candles;
      const src = parseCandleCsv(await readFile(join(DEFAULT_DATA_DIR, `${c.symbol.replace('/', '-')}-1h.csv`), 'utf8')).candles;
      const expected = src.filter((x) => x.timestamp >= storeRows[0].timestamp && x.timestamp + H <= clock.now());
      expect(storeRows).toEqual(expected);
      stored += storeRows.length;
    }
    console.log(
      [
        ...report,
        `[exchange] faults injected by kind: ${JSON.stringify(injected)}, candle defects ${PLAN[0].defects!.join('/')} (1 each); backoff delays recorded ${sleeps.length} (min ${Math.round(Math.min(...sleeps))} ms, max ${Math.round(Math.max(...sleeps))} ms)`,
        `[exchange] rounds ${steps.length} all completed; candle store ${stored} candles in ${checks.length} files, validated clean and equal to the source`,
      ].join('\n'),
    );
    await engine.stop();
    engine = null;
  });
  it('a page that stays bad through every retry is not half-stored: once the exchange is sound again the store equals the source', async () => {
    const xhome = await freshHome('exchange-bad');
    extraHomes.push(xhome);
    const config = defaultConfig();
    config.data.source = 'exchange';
    config.exchange.api_base_url = srv.url;
    config.exchange.timeout_ms = 400;
    config.exchange.max_retries = 2;
    config.universe.symbols = ['BTC/USDT'];
    config.universe.core_symbols = [];
    config.assets.pre_trained = [];
    config.assets.quick_train = ['BTC/USDT'];
    config.model.models = ['gbdt'];
    config.model.auto_train_new_symbols = false;
    config.model.block_untrained_symbols = false;
    config.logging.file = 'data/trading.log';
    const clock = new ManualClock(START + 30 * 24 * H + 5_000);
    const source = new CcxtMarketSource(config, { home: xhome, clock, sleep: async () => undefined, backoffBaseMs: 100 });
    const eng = await createEngine({ home: xhome, config, configPath: join(xhome, 'config.yaml'), clock, market: { source, notice: null, storeName: 'binance' } });
    await eng.start({ loop: false });
    srv.setNow(clock.now());
    // Every answer to the first load carries a zero price (more than the retries allow).
    srv.corruptNext('zero-price', config.exchange.max_retries + 1);
    await eng.runRound();
    for (let i = 0; i < 3; i++) {
      clock.advance(H);
      srv.setNow(clock.now());
      await eng.runRound();
    }
    await eng.stop();
    const file = join(xhome, 'data', 'candles', 'binance', 'BTC-USDT-1h.csv');
    const stored = existsSync(file) ? parseCandleCsv(await readFile(file, 'utf8')).candles : [];
    const src = parseCandleCsv(await readFile(join(DEFAULT_DATA_DIR, 'BTC-USDT-1h.csv'), 'utf8')).candles;
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.every((c) => c.close > 0 && c.low > 0)).toBe(true);
    expect(stored).toEqual(src.filter((x) => x.timestamp >= stored[0].timestamp && x.timestamp + H <= clock.now()));
  });
});

/**
 * Load: 100 generated simulator symbols (data.sim_extra_symbols) trading on TA fallback signals for
 * KILO_LOAD_ROUNDS rounds (CI default below; `KILO_LOAD_ROUNDS=1000 npm run test:reliability` for
 * the full run), in-process through runRound. Memory must stay flat after GC, every buffer bounded
 * (log ring, equity curve, outcome history and pending list, queue, feed buffers), and every round
 * must emit exactly one signal per symbol, for the candle that just closed.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { ManualClock } from '../../src/clock.js';
import { defaultConfig } from '../../src/config/schema.js';
import { createEngine, type Engine } from '../../src/engine.js';
import { WARMUP_BARS } from '../../src/features/index.js';
import { envInt, freshHome } from './helpers.js';

const ROUNDS = envInt('KILO_LOAD_ROUNDS', 60);
const SYMBOLS = envInt('KILO_LOAD_SYMBOLS', 100);
const WARMUP_ROUNDS = Math.min(30, Math.floor(ROUNDS / 4));
// Outcome history (500/symbol) and the equity curve (500) fill up by ~round 520; from then on nothing may grow.
const SATURATED_ROUND = 560;
const H = 3_600_000;
const START = Date.UTC(2025, 0, 1);

function gcFn(): () => void {
  if (typeof globalThis.gc === 'function') return globalThis.gc as () => void;
  // Not started with --expose-gc: switch the flag on and take gc from a fresh context.
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}
const mb = (b: number): string => `${(b / 1024 / 1024).toFixed(1)} MB`;

let home = '';
let engine: Engine | null = null;
afterAll(async () => {
  await engine?.stop().catch(() => undefined);
  if (home) await rm(home, { recursive: true, force: true });
});

describe('load: 100 symbols, many rounds', () => {
  it(`${SYMBOLS} symbols x ${ROUNDS} rounds: flat memory, bounded buffers, one signal per fresh candle`, async () => {
    home = await freshHome('load');
    const symbols = Array.from({ length: SYMBOLS }, (_, i) => `S${String(i + 1).padStart(3, '0')}/USDT`);
    const config = defaultConfig();
    config.data.source = 'sim';
    config.data.sim_extra_symbols = SYMBOLS;
    config.universe.symbols = symbols;
    config.universe.core_symbols = [];
    config.assets.pre_trained = [];
    config.assets.quick_train = symbols;
    config.model.models = ['gbdt'];
    config.model.auto_train_new_symbols = false;
    config.model.block_untrained_symbols = false;
    config.auto_training.enabled = false;
    config.heartbeat_interval_s = 24 * 3600;
    config.logging.file = 'data/trading.log';
    const gc = gcFn();

    const marketClock = new ManualClock(START);
    engine = await createEngine({ home, config, configPath: join(home, 'config.yaml'), marketClock });
    await engine.start({ loop: false });
    const perRound: { symbol: string; at: number }[][] = [];
    let current: { symbol: string; at: number }[] = [];
    engine.on('signal', (s) => current.push({ symbol: s.symbol, at: s.at }));

    const mem = (): { rss: number; heap: number; external: number } => {
      gc();
      gc();
      const m = process.memoryUsage();
      return { rss: m.rss, heap: m.heapUsed, external: m.external };
    };
    let startMem = mem();
    let satMem: ReturnType<typeof mem> | null = null;
    const t0 = performance.now();
    let tWarm = t0;
    for (let r = 0; r < ROUNDS; r++) {
      if (r > 0) marketClock.advance(H);
      current = [];
      await engine.runRound();
      perRound.push(current);
      if (r + 1 === SATURATED_ROUND && ROUNDS >= SATURATED_ROUND + 200) satMem = mem();
      if (r + 1 === WARMUP_ROUNDS) {
        startMem = mem();
        tWarm = performance.now();
      }
    }
    const endMem = mem();
    const msPerRound = (performance.now() - tWarm) / Math.max(1, ROUNDS - WARMUP_ROUNDS);

    // Every round: one signal per symbol, for the candle that closed at this round's market time.
    const bad: string[] = [];
    perRound.forEach((sigs, r) => {
      const expectAt = START + r * H - H;
      const syms = new Set(sigs.map((s) => s.symbol));
      if (sigs.length !== SYMBOLS || syms.size !== SYMBOLS) bad.push(`round ${r + 1}: ${sigs.length} signals for ${syms.size} symbols`);
      const stale = sigs.filter((s) => s.at !== expectAt);
      if (stale.length) bad.push(`round ${r + 1}: ${stale.length} signals not on the candle that just closed`);
    });
    expect(bad.slice(0, 10)).toEqual([]);

    // Bounded buffers.
    const snap = engine.getSnapshot();
    const feedMax = Math.max(...snap.symbols.map((s) => s.candles));
    expect(feedMax).toBeLessThanOrEqual(WARMUP_BARS + config.model.window + 400);
    expect(engine.logger.entries().length).toBeLessThanOrEqual(1000);
    expect(snap.portfolio.equityCurve.length).toBeLessThanOrEqual(500);
    expect(snap.logs.length).toBeLessThanOrEqual(300);
    expect(engine.queue.list().length).toBe(0);
    const perf = (engine.outcomes as unknown as { store: { data: { pending: unknown[]; symbols: Record<string, { history: unknown[] }> } } }).store.data;
    const historyMax = Math.max(...Object.values(perf.symbols).map((b) => b.history.length));
    expect(historyMax).toBeLessThanOrEqual(500);
    expect(perf.pending.length).toBeLessThanOrEqual(10_000);
    const overall = engine.outcomes.overall();
    const perfFile = (await stat(join(home, 'data', 'performance.json'))).size;
    const logFile = (await stat(join(home, 'data', 'trading.log'))).size;
    expect(logFile).toBeLessThanOrEqual(config.logging.max_bytes);

    const heapGrowth = endMem.heap - startMem.heap;
    const rssGrowth = endMem.rss - startMem.rss;
    console.log(
      [
        `[load] ${SYMBOLS} symbols x ${ROUNDS} rounds: ${perRound.reduce((s, x) => s + x.length, 0)} signals (${SYMBOLS} every round), ${overall.signals} scored, ${msPerRound.toFixed(1)} ms/round after warm-up`,
        `[load] after GC: heap ${mb(startMem.heap)} -> ${mb(endMem.heap)} (${heapGrowth >= 0 ? '+' : ''}${mb(heapGrowth)}), external (simulator paths, buffers) ${mb(startMem.external)} -> ${mb(endMem.external)}, RSS ${mb(startMem.rss)} -> ${mb(endMem.rss)} (${rssGrowth >= 0 ? '+' : ''}${mb(rssGrowth)}), measured from round ${WARMUP_ROUNDS}`,
        ...(satMem ? [`[load] once every buffer is full (round ${SATURATED_ROUND} -> ${ROUNDS}): heap ${mb(satMem.heap)} -> ${mb(endMem.heap)} (${endMem.heap - satMem.heap >= 0 ? '+' : ''}${mb(endMem.heap - satMem.heap)}), RSS ${mb(satMem.rss)} -> ${mb(endMem.rss)}`] : []),
        `[load] bounds: feed <= ${feedMax} candles/symbol, log ring ${engine.logger.entries().length}, equity curve ${snap.portfolio.equityCurve.length}, outcome history <= ${historyMax}/symbol, pending ${perf.pending.length}, queue ${engine.queue.list().length}; performance.json ${mb(perfFile)}, trading.log ${mb(logFile)}`,
      ].join('\n'),
    );
    // The heap may grow while the bounded buffers fill (outcome history: up to 500 resolved signals
    // x 100 symbols), then must stay flat: it cannot grow with the number of rounds.
    expect(heapGrowth).toBeLessThan(64 * 1024 * 1024);
    if (satMem) expect(endMem.heap - satMem.heap).toBeLessThan(8 * 1024 * 1024);
    await engine.stop();
    engine = null;
  }, 3_600_000);
});

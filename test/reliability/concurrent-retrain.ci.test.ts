/**
 * Issue 17 item 6: with 20 symbols and 2 concurrent trainings, two retrains failed with
 * "Container 'sequential_1' is already disposed." and ended cancelled. The cause was in the main
 * thread, not the workers: the engine's predictor cache disposed the old champion's models when a
 * new one started loading but left the entry in its map, so the promotion's invalidate() (or the
 * registry rescan's clear()) that ran during that load disposed the same tfjs models again; the
 * throw came out of the registry refresh after the finished training and failed the retrain.
 *
 * Before the fix, the engine run below with KILO_RETRAIN_STRESS_SYMBOLS=6 KILO_RETRAIN_STRESS_ROUNDS=2
 * ended "ADA/USDT cancelled: Container 'sequential_1' is already disposed." (19 trainings, 8
 * retrains promoted); the cache test fails on every run. The same run also hit a second race:
 * the storage check walked a worker's .tmp- folder as it was renamed into place (ENOENT, fixed in
 * src/registry/cleanup.ts).
 * Real artifacts (GRU + PPO + trees, so there are tfjs containers), real worker threads, tiny
 * profile. KILO_RETRAIN_STRESS_SYMBOLS / _ROUNDS size the engine run (CI: 3 symbols, 1 retrain each;
 * `KILO_RETRAIN_STRESS_SYMBOLS=9 KILO_RETRAIN_STRESS_ROUNDS=3 npm run test:reliability` for more).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { defaultConfig, type Config } from '../../src/config/schema.js';
import { createEngine } from '../../src/engine.js';
import { PredictorCache } from '../../src/engine/predictors.js';
import { SimMarketSource, SIM_SYMBOLS } from '../../src/market/sim-source.js';
import { WorkerPool } from '../../src/training/pool.js';
import { candlesToColumns } from '../../src/training/pipeline-data.js';
import type { PipelineJobSpec } from '../../src/training/protocol.js';
import type { Candle } from '../../src/market/types.js';
import { envInt } from './helpers.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = Date.UTC(2026, 0, 1);
const TINY = { name: 'quick' as const, epochs: 1, patience: 1, trees: 6, data_days: 100, batch_size: 256, ppo_steps: 256 };

const homes: string[] = [];
afterAll(async () => {
  for (const h of homes) await rm(h, { recursive: true, force: true });
});

async function simCandles(symbol: string, days: number): Promise<Candle[]> {
  const src = new SimMarketSource(7, new ManualClock(START), { createdAt: START });
  return src.fetchCandles(symbol, '1h', START - days * DAY, START);
}

describe('predictor cache under a promotion (real GRU/PPO artifacts)', () => {
  let home: string;
  const dirs: string[] = [];
  const pool = new WorkerPool({ maxConcurrent: 1, timeoutMs: 300_000 });

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'kilo-rel-cache-'));
    homes.push(home);
    const candles = await simCandles('BTC/USDT', 60);
    const spec = (version: string): PipelineJobSpec => ({
      kind: 'train', symbols: ['BTC/USDT'], trainingMode: 'single_symbol', symbolEncoding: 'one_hot', models: ['gru', 'gbdt', 'ppo'],
      profile: TINY, version, modelsDir: join(home, 'models'), candles: [candlesToColumns('BTC/USDT', candles)], timeframe: '1h',
      window: 16, horizon: 1, labelThreshold: 0.002, valFraction: 0.15, testFraction: 0.15, rnnCell: 'gru', feeRate: 0.001, seed: 1,
      // The cache is under test, not the verdict: no fold models (they tripled the hook's time on a busy machine).
      walkForwardFolds: 0,
    });
    for (const v of ['1.0', '1.1']) dirs.push((await pool.run(spec(v))).artifactDir!);
  });
  afterAll(() => pool.close());

  it('invalidate()/clear() while the new champion loads dispose each model once and never throw', async () => {
    const lines: string[] = [];
    const cache = new PredictorCache({ info: (m: string) => void lines.push(m), warn: (m: string) => void lines.push(`WARN ${m}`), error: (m: string) => void lines.push(`ERROR ${m}`) } as never);
    const candles = await simCandles('BTC/USDT', 20);
    const old = await cache.get('BTC/USDT', dirs[0]);
    expect(old?.predict('BTC/USDT', candles).modelVersion).toBe('1.0');
    // The promotion: the next round starts loading v1.1 while the decision's invalidate() runs.
    const next = cache.get('BTC/USDT', dirs[1]);
    expect(() => cache.invalidate('BTC/USDT')).not.toThrow();
    expect(() => cache.clear()).not.toThrow();
    const p = await next;
    expect(p?.version).toBe('1.1');
    // The landed load was dropped by invalidate; a fresh one serves and predicts.
    const again = await cache.load('BTC/USDT', dirs[1]);
    expect(again.predict('BTC/USDT', candles).modelVersion).toBe('1.1');
    // Two concurrent loads of one folder share one load (one set of tfjs models to dispose).
    const [x, y] = await Promise.all([cache.load('ETH/USDT', dirs[0]), cache.load('ETH/USDT', dirs[0])]);
    expect(x).toBe(y);
    cache.clear();
    // A disposed artifact can be disposed again without a throw (cleanup never fails the work).
    expect(() => again.artifact.dispose()).not.toThrow();
    expect(lines.filter((l) => !l.startsWith('BTC/USDT: loaded') && !l.startsWith('ETH/USDT: loaded'))).toEqual([]);
  });
});

describe('concurrent retrains and gates in a running engine', () => {
  it('N symbols, 2 concurrent trainings, forced retrains while rounds load predictors: no job fails, nothing is disposed twice', async () => {
    const nSymbols = Math.min(envInt('KILO_RETRAIN_STRESS_SYMBOLS', 3), SIM_SYMBOLS.length - 2);
    const retrains = envInt('KILO_RETRAIN_STRESS_ROUNDS', 1);
    const home = await mkdtemp(join(tmpdir(), 'kilo-rel-retrain-'));
    homes.push(home);
    const symbols = SIM_SYMBOLS.filter((s) => s !== 'USDC/USDT' && s !== 'NOVA/USDT').slice(0, nSymbols);
    const config: Config = defaultConfig();
    config.data.source = 'sim';
    config.data.sim_seed = 7;
    config.universe.symbols = symbols;
    config.universe.core_symbols = [];
    config.assets.pre_trained = [];
    config.assets.quick_train = symbols;
    config.model.models = ['gru', 'gbdt', 'ppo'];
    config.model.window = 16;
    config.model.min_history_days_to_train = 30;
    config.training.quick = { epochs: 1, patience: 1, trees: 6, data_days: 40, batch_size: 256, ppo_steps: 256 };
    config.training.auto_profile = 'quick';
    config.auto_training.enabled = false;
    config.resources.max_concurrent_trainings = 2;
    config.resources.training_timeout_s = 600;
    config.heartbeat_interval_s = 3600;
    config.logging.file = 'data/trading.log';
    const clock = new ManualClock(START);
    const engine = await createEngine({ home, config, configPath: join(home, 'config.yaml'), marketClock: clock, clock });
    const errors: string[] = [];
    engine.on('log', (e) => {
      if (e.level === 'error' || /disposed/.test(e.message)) errors.push(e.message);
    });
    await engine.start({ loop: false });
    const round = async (): Promise<void> => {
      clock.advance(HOUR);
      await engine.runRound();
    };
    try {
      // First models: every symbol is queued as untrained and trained two at a time.
      await round();
      while (engine.queue.list().some((e) => e.state === 'queued' || e.state === 'running')) {
        await round();
        await new Promise((r) => setTimeout(r, 50));
      }
      await engine.idle();
      console.log(`[retrain-stress] first models: ${engine.queue.list().map((e) => `${e.symbol} ${e.state}`).join(', ')}`);
      for (let k = 0; k < retrains; k++) {
        for (const s of symbols) {
          const r = await engine.train({ symbol: s, force: true, quick: true, reason: 'retrain: stress' });
          expect(r.ok, r.message).toBe(true);
        }
        console.log(`[retrain-stress] pass ${k + 1}: queued ${symbols.length} retrains`);
        // Rounds back to back keep loading predictors (hot reload) while trainings finish, gate and promote.
        while (engine.queue.list().some((e) => e.state === 'queued' || e.state === 'running')) await round();
        await engine.idle();
        await round();
      }
      const jobs = engine.queue.list();
      const bad = jobs.filter((j) => j.state !== 'done').map((j) => `${j.symbol} ${j.state}: ${j.last_error ?? ''}`);
      const promoted = engine.promotions.list().filter((d) => d.kind === 'promoted' && d.championVersion !== null).length;
      console.log(`[retrain-stress] ${symbols.length} symbols, ${jobs.length} trainings (2 concurrent), ${engine.promotions.list().length} gate decisions (${promoted} retrains promoted), ${bad.length} not done, ${errors.length} error lines`);
      expect(bad).toEqual([]);
      expect(errors).toEqual([]);
      // Every retrain went through the gate (champion and challenger loaded in the worker).
      const gated = engine.promotions.list().filter((d) => d.championVersion !== null && d.challengerVersion !== '-');
      expect(gated.length).toBe(symbols.length * retrains);
      // Every symbol still produces model signals after all the hot reloads.
      await round();
      for (const s of symbols) expect(engine.getSnapshot().symbols.find((r) => r.symbol === s)?.lastSignal?.modelVersion, s).toMatch(/^\d+\.\d+$/);
    } finally {
      await engine.stop();
    }
  }, 900_000);
});

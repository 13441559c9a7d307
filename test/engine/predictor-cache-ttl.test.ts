/**
 * resources.model_cache_ttl_min: a loaded predictor that no one asked for during the TTL is
 * unloaded (its artifact disposed once, a line says why), one in use stays the same instance, the
 * next request loads it again, 0 never expires, and serving() follows the config as it changes.
 * Real artifacts (GRU + trees, trained in a worker on simulator candles) and a real registry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { configSchema, defaultConfig } from '../../src/config/schema.js';
import { PredictorCache } from '../../src/engine/predictors.js';
import { SimMarketSource } from '../../src/market/sim-source.js';
import { ModelRegistry, registryPaths } from '../../src/registry/registry.js';
import { WorkerPool } from '../../src/training/pool.js';
import { candlesToColumns } from '../../src/training/pipeline-data.js';
import type { PipelineJobSpec } from '../../src/training/protocol.js';
import type { SymbolPredictor } from '../../src/models/predictor.js';
import type { Candle } from '../../src/market/types.js';

const MIN = 60_000;
const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 1);
const SYMBOLS = ['BTC/USDT', 'ETH/USDT'];
const TINY = { name: 'quick' as const, epochs: 1, patience: 1, trees: 6, data_days: 60, batch_size: 256, ppo_steps: 256 };

async function simCandles(symbol: string, days: number): Promise<Candle[]> {
  const src = new SimMarketSource(7, new ManualClock(START), { createdAt: START });
  return src.fetchCandles(symbol, '1h', START - days * DAY, START);
}

/** Counts the real dispose() calls of a predictor's artifact. */
function disposals(p: SymbolPredictor): { count: number } {
  const seen = { count: 0 };
  const real = p.artifact.dispose.bind(p.artifact);
  p.artifact.dispose = () => {
    seen.count++;
    real();
  };
  return seen;
}

/** The dispose of a dropped predictor runs on a later turn of the event loop (after its load settles). */
type CacheLog = ConstructorParameters<typeof PredictorCache>[0];

const nextTurn = async () => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
};

describe('predictor cache expiry (resources.model_cache_ttl_min)', () => {
  let home: string;
  const dirs: Record<string, string> = {};
  const candles: Record<string, Candle[]> = {};

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'kilo-cache-ttl-'));
    const pool = new WorkerPool({ maxConcurrent: 1, timeoutMs: 300_000 });
    try {
      for (const symbol of SYMBOLS) {
        candles[symbol] = await simCandles(symbol, 60);
        const spec: PipelineJobSpec = {
          kind: 'train', symbols: [symbol], trainingMode: 'single_symbol', symbolEncoding: 'one_hot', models: ['gru', 'gbdt'],
          profile: TINY, version: '1.0', modelsDir: join(home, 'models'), candles: [candlesToColumns(symbol, candles[symbol])], timeframe: '1h',
          window: 16, horizon: 1, labelThreshold: 0.002, valFraction: 0.15, testFraction: 0.15, rnnCell: 'gru', feeRate: 0.001, seed: 1,
        };
        dirs[symbol] = (await pool.run(spec)).artifactDir!;
      }
    } finally {
      await pool.close();
    }
  }, 600_000);
  afterAll(async () => {
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('unloads a predictor unused for longer than the TTL, keeps the one in use, reloads on the next request', async () => {
    let now = START;
    const lines: string[] = [];
    const log = { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(`WARN ${m}`), error: (m: string) => lines.push(`ERROR ${m}`) } as unknown as CacheLog;
    const cache = new PredictorCache(log, { now: () => now, ttlMin: 30 });
    const btc = await cache.load('BTC/USDT', dirs['BTC/USDT']);
    const eth = await cache.load('ETH/USDT', dirs['ETH/USDT']);
    const btcGone = disposals(btc);
    const ethGone = disposals(eth);
    expect(cache.loaded().sort()).toEqual(SYMBOLS);

    now += 20 * MIN;
    expect(await cache.load('BTC/USDT', dirs['BTC/USDT'])).toBe(btc);
    now += 15 * MIN; // ETH unused 35 min, BTC 15 min
    expect(await cache.load('BTC/USDT', dirs['BTC/USDT'])).toBe(btc);
    expect(cache.loaded()).toEqual(['BTC/USDT']);
    await nextTurn();
    expect(ethGone.count).toBe(1);
    expect(btcGone.count).toBe(0);
    expect(lines.filter((l) => /unloaded/.test(l))).toEqual([
      `ETH/USDT: model at ${dirs['ETH/USDT']} unloaded after 35 min unused (resources.model_cache_ttl_min 30)`,
    ]);

    // The next request loads it again, and it predicts.
    const eth2 = await cache.load('ETH/USDT', dirs['ETH/USDT']);
    expect(eth2).not.toBe(eth);
    expect(eth2.predict('ETH/USDT', candles['ETH/USDT']).modelVersion).toBe('1.0');
    // The symbol asked for is never the one swept, however long it waited.
    now += 500 * MIN;
    expect(await cache.load('BTC/USDT', dirs['BTC/USDT'])).toBe(btc);
    expect(cache.loaded()).toEqual(['BTC/USDT']);
    await nextTurn();
    expect(btcGone.count).toBe(0);
    expect(ethGone.count).toBe(1);
    cache.clear();
    await nextTurn();
    expect(btcGone.count).toBe(1);
    expect(lines.filter((l) => l.startsWith('WARN') || l.startsWith('ERROR'))).toEqual([]);
  });

  it('serving() takes the TTL from the config each call: 0 never expires, a lower value applies at once', async () => {
    let now = START;
    const cache = new PredictorCache({ info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as CacheLog, { now: () => now });
    const registry = new ModelRegistry(registryPaths(home));
    await registry.refresh();
    const config = defaultConfig();
    config.data.source = 'sim';
    config.universe.symbols = SYMBOLS;
    config.model.models = ['gru', 'gbdt'];
    config.model.window = 16;
    config.resources.model_cache_ttl_min = 0;
    const btc = await cache.serving(registry, config, 'BTC/USDT', START);
    const eth = await cache.serving(registry, config, 'ETH/USDT', START);
    expect(btc?.predictor.version).toBe('1.0');
    expect(eth?.predictor.version).toBe('1.0');
    const ethGone = disposals(eth!.predictor);
    now += 100_000 * MIN;
    expect((await cache.serving(registry, config, 'BTC/USDT', START))?.predictor).toBe(btc!.predictor);
    expect((await cache.serving(registry, config, 'ETH/USDT', START))?.predictor).toBe(eth!.predictor);
    expect(cache.loaded().sort()).toEqual(SYMBOLS);

    config.resources.model_cache_ttl_min = 60;
    now += 61 * MIN;
    await cache.serving(registry, config, 'BTC/USDT', START);
    expect(cache.loaded()).toEqual(['BTC/USDT']);
    await nextTurn();
    expect(ethGone.count).toBe(1);
    cache.clear();
  });

  it('the config key defaults to 180 minutes and refuses a negative value, naming the key', () => {
    expect(defaultConfig().resources.model_cache_ttl_min).toBe(180);
    const bad = configSchema.safeParse({ resources: { model_cache_ttl_min: -1 } });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0].path).toEqual(['resources', 'model_cache_ttl_min']);
  });
});

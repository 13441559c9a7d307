/** Asking for a signal on any symbol: each of the four answers, on real candles. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { CsvMarketSource } from '../../src/market/csv-source.js';
import { ModelRegistry, registryPaths } from '../../src/registry/registry.js';
import { requestSignal } from '../../src/engine/signal-request.js';
import { WorkerPool } from '../../src/training/pool.js';
import { buildJobSpec } from '../../src/training/pipeline-spec.js';
import { DATA, hasData, testConfig } from './helpers.js';

const NOW = Date.UTC(2023, 8, 1);

describe.skipIf(!hasData)('kilo signal answers', () => {
  let home: string;
  const clock = new ManualClock(NOW);
  const source = new CsvMarketSource(DATA, clock);
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'kilo-signal-'));
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('not trained (with an estimate), not supported, short history, fallback, then a model signal', async () => {
    const config = testConfig();
    const registry = new ModelRegistry(registryPaths(home));
    await registry.refresh();
    const ask = (symbol: string, cfg = config) => requestSignal({ config: cfg, source, registry, symbol, now: NOW });

    const eth = await ask('ETH/USDT');
    expect(eth).toMatchObject({ kind: 'error', error: 'Model not trained', can_train: true });
    expect(eth.kind === 'error' && eth.estimate_basis).toMatch(/no past training measured/);
    expect(await ask('USDC/USDT')).toMatchObject({ kind: 'error', error: 'Asset not supported' });
    const noStable = testConfig((c) => (c.assets.stablecoin_max_daily_vol = 0));
    const fd = await ask('FDUSD/USDT', noStable);
    expect(fd).toMatchObject({ kind: 'error', error: 'Model not trained', can_train: false });
    expect(fd.kind === 'error' && fd.reason).toMatch(/days of history/);
    const open = testConfig((c) => (c.model.block_untrained_symbols = false));
    expect(await ask('ETH/USDT', open)).toMatchObject({ kind: 'signal', fallback: true, model_version: 'ta' });

    // Train ETH (trees only), then: a model signal, and a measured estimate for the next symbol.
    const candles = await source.fetchCandles('ETH/USDT', '1h', NOW - 120 * 86_400_000, NOW);
    const pool = new WorkerPool({ maxConcurrent: 1, timeoutMs: 120_000 });
    const spec = buildJobSpec(config, { symbols: ['ETH/USDT'], candles: { 'ETH/USDT': candles }, models: ['gbdt'], quick: true, version: '1.0', modelsDir: join(home, 'models') });
    await pool.run(spec);
    await pool.close();
    await registry.refresh();
    const sig = await ask('ETH/USDT');
    expect(sig).toMatchObject({ kind: 'signal', model_version: '1.0' });
    expect(sig.kind === 'signal' && ['bullish', 'bearish', 'neutral']).toContain(sig.kind === 'signal' ? sig.direction : '');
    const sol = await ask('SOL/USDT');
    expect(sol.kind === 'error' && sol.estimate_basis).toMatch(/median of 1 past training/);
    // BTC is an altcoin's default fallback; ETH is not BTC, so with blocking off SOL borrows nothing
    // but TA... unless mapped: map SOL to the ETH model.
    const mapped = testConfig((c) => {
      c.model.block_untrained_symbols = false;
      c.model.fallback_map = { 'SOL/USDT': 'ETH/USDT' };
    });
    expect(await ask('SOL/USDT', mapped)).toMatchObject({ kind: 'signal', fallback: true, model_version: '1.0' });
  });
});

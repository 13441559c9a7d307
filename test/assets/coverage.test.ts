import { describe, expect, it } from 'vitest';
import { defaultConfig, type Config } from '../../src/config/schema.js';
import { computeCoverage, type CoverageInput } from '../../src/assets/coverage.js';
import { ModelRegistry, registryPaths } from '../../src/registry/registry.js';
import { tempHome, writeArtifact } from '../helpers/artifact-fixtures.js';

const cfg = (model: Partial<Config['model']> = {}, universe: string[] = ['BTC/USDT', 'ETH/USDT']): Config => {
  const c = defaultConfig();
  c.model = { ...c.model, ...model };
  c.universe = { ...c.universe, symbols: universe };
  return c;
};

describe('computeCoverage', () => {
  it('a symbol added to the universe is blocked and queued, then live once its artifact appears', async () => {
    const home = await tempHome();
    const paths = registryPaths(home);
    const reg = new ModelRegistry(paths);
    await writeArtifact(paths.modelsDir, { version: '1.0', symbols: ['BTC/USDT'] });
    await writeArtifact(paths.modelsDir, { version: '1.0', symbols: ['ETH/USDT'] });
    await reg.refresh();
    const config = cfg({}, ['BTC/USDT', 'ETH/USDT', 'LINK/USDT']);
    const base = (queue: CoverageInput['queue']): CoverageInput => ({ universe: config.universe.symbols, covered: reg.coveredSymbols(config), queue, config });

    let r = computeCoverage(base([]));
    expect(r.trained).toEqual(['BTC/USDT', 'ETH/USDT']);
    expect(r.untrained).toEqual(['LINK/USDT']);
    expect(r.blocked).toEqual([{ symbol: 'LINK/USDT', reason: 'untrained; will be queued for training' }]);
    expect(r.toQueue).toEqual(['LINK/USDT']);

    r = computeCoverage(base([{ symbol: 'LINK/USDT', state: 'queued' }]));
    expect(r.rows.find((x) => x.symbol === 'LINK/USDT')).toEqual({ symbol: 'LINK/USDT', tier: 'quick_train', state: 'queued', reason: 'untrained; waiting in the training queue' });
    expect(r.toQueue).toEqual([]);
    r = computeCoverage(base([{ symbol: 'LINK/USDT', state: 'done' }, { symbol: 'LINK/USDT', state: 'running' }]));
    expect(r.training).toEqual(['LINK/USDT']);

    await writeArtifact(paths.modelsDir, { version: '1.1', symbols: ['LINK/USDT'] });
    await reg.refresh();
    r = computeCoverage(base([{ symbol: 'LINK/USDT', state: 'done' }]));
    expect(r.rows.map((x) => x.state)).toEqual(['live', 'live', 'live']);
    expect(r.untrained).toEqual([]);
  });

  it('keeps short-history symbols blocked (never queued), honours operator blocks and unsupported', () => {
    const config = cfg({ min_history_days_to_train: 90 }, ['BTC/USDT', 'NEW/USDT', 'GAP/USDT', 'ETH/USDT', 'BAD/USDT']);
    config.assets.unsupported = ['BAD/USDT'];
    const r = computeCoverage({
      universe: config.universe.symbols,
      covered: ['BTC/USDT', 'ETH/USDT'],
      queue: [{ symbol: 'NEW/USDT', state: 'queued' }],
      manualBlocks: { 'ETH/USDT': 'manual test' },
      historyInfo: { 'NEW/USDT': { days: 30 }, 'GAP/USDT': { days: 400, coverage: 0.5 } },
      config,
    });
    expect(r.rows.map((x) => [x.symbol, x.state, x.reason])).toEqual([
      ['BTC/USDT', 'live', 'model available'],
      ['NEW/USDT', 'blocked', 'history 30 days < 90 needed (model.min_history_days_to_train)'],
      ['GAP/USDT', 'blocked', 'history has gaps: 50.0% present < 95.0% needed'],
      ['ETH/USDT', 'blocked', 'blocked by the operator: manual test'],
      ['BAD/USDT', 'unsupported', 'listed in assets.unsupported'],
    ]);
    expect(r.toQueue).toEqual([]);
  });

  it('without blocking, untrained symbols run on a fallback; without auto-train nothing is queued', () => {
    const r = computeCoverage({ universe: ['SOL/USDT'], covered: [], queue: [], config: cfg({ block_untrained_symbols: false, auto_train_new_symbols: false }) });
    expect(r.rows[0]).toMatchObject({ state: 'fallback', reason: 'untrained; signals come from a fallback; auto_train_new_symbols is off: run `kilo train`' });
    expect(r.toQueue).toEqual([]);
    expect(r.configStatus).toContain('auto_train_new_symbols: off');
    const failed = computeCoverage({ universe: ['SOL/USDT'], covered: [], queue: [{ symbol: 'SOL/USDT', state: 'failed', attempts: 3, last_error: 'timeout' }], config: cfg() });
    expect(failed.blocked).toEqual([{ symbol: 'SOL/USDT', reason: 'untrained; training failed 3 times: timeout' }]);
  });
});

/**
 * Issue 12 item 7: operator control is honoured, per symbol. A pin serves every symbol it covers
 * over serving.json (the gate's promotions) until unpinned; every symbol says how its version was
 * chosen; an artifact missing a model kind that model.models asks for never serves.
 */
import { describe, expect, it } from 'vitest';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultConfig, type Config } from '../../src/config/schema.js';
import { ModelRegistry, registryPaths } from '../../src/registry/registry.js';
import { ManualClock } from '../../src/clock.js';
import { createEngine } from '../../src/engine.js';
import { DAY, runKilo, tempHome, writeArtifact } from '../helpers/artifact-fixtures.js';

const NOW = Date.UTC(2026, 5, 1);
const cfg = (m: Partial<Config['model']> = {}): Config => {
  const c = defaultConfig();
  c.model = { ...c.model, ...m };
  return c;
};

async function home(): Promise<{ home: string; modelsDir: string; reg: ModelRegistry }> {
  const h = await tempHome('kilo-serving-');
  const paths = registryPaths(h);
  return { home: h, modelsDir: paths.modelsDir, reg: new ModelRegistry(paths) };
}

describe('pins, per symbol', () => {
  it('a pinned version serves every symbol it covers over serving.json and the score, until unpinned', async () => {
    const { modelsDir, reg } = await home();
    for (const s of ['BTC/USDT', 'ETH/USDT']) await writeArtifact(modelsDir, { version: '1.0', symbols: [s], trainingEnd: NOW - 40 * DAY });
    for (const s of ['BTC/USDT', 'ETH/USDT']) await writeArtifact(modelsDir, { version: '2.1', symbols: [s], trainingEnd: NOW - DAY });
    // SOL exists only in 2.1: the pin on 1.0 does not cover it.
    await writeArtifact(modelsDir, { version: '2.1', symbols: ['SOL/USDT'], trainingEnd: NOW - DAY });
    await reg.refresh();
    // The gate promoted 2.1 for BTC and SOL (ETH has no decision: selection decides).
    await reg.setServing('BTC/USDT', '2.1');
    await reg.setServing('SOL/USDT', '2.1');

    const pinned = cfg({ pinned_version: '1.0' });
    expect(reg.servingArtifactFor(pinned, 'BTC/USDT', NOW)?.artifact.version).toBe('1.0');
    expect(reg.servingFor(pinned, 'BTC/USDT', NOW)).toMatchObject({ version: '1.0', via: 'pinned', fallback: false, reason: 'v1.0 is pinned (model.pinned_version)' });
    expect(reg.servingFor(pinned, 'ETH/USDT', NOW)).toMatchObject({ version: '1.0', via: 'pinned' });
    expect(reg.servingFor(pinned, 'SOL/USDT', NOW)).toMatchObject({ version: '2.1', via: 'promoted' });
    expect(reg.servingArtifactFor(pinned, 'BTC/USDT', NOW)?.artifact.dir).toBe(join(modelsDir, 'v1.0', 'BTC-USDT'));

    // Another promotion while pinned changes serving.json, not what serves.
    await reg.setServing('ETH/USDT', '2.1');
    expect(reg.servingFor(pinned, 'ETH/USDT', NOW)).toMatchObject({ version: '1.0', via: 'pinned' });

    // Unpinned: the promotions serve again.
    const free = cfg();
    expect(['BTC/USDT', 'ETH/USDT', 'SOL/USDT'].map((s) => [s, reg.servingFor(free, s, NOW).version, reg.servingFor(free, s, NOW).via])).toEqual([
      ['BTC/USDT', '2.1', 'promoted'],
      ['ETH/USDT', '2.1', 'promoted'],
      ['SOL/USDT', '2.1', 'promoted'],
    ]);
  });

  it('kilo models shows the serving version per symbol and how it was chosen; model.pinned_version in config.yaml wins over serving.json', async () => {
    const { home: h, modelsDir } = await home();
    for (const v of ['1.0', '2.1']) for (const s of ['BTC/USDT', 'ETH/USDT']) await writeArtifact(modelsDir, { version: v, symbols: [s], trainingEnd: Date.now() - DAY });
    await mkdir(join(h, 'data'), { recursive: true });
    await writeFile(join(h, 'data', 'serving.json'), JSON.stringify({ 'BTC/USDT': '2.1' }));
    await writeFile(join(h, 'config.yaml'), 'model:\n  pinned_version: "1.0"\nuniverse:\n  symbols: [BTC/USDT, ETH/USDT]\n');
    const text = await runKilo(h, ['models']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^ {2}BTC\/USDT +v1\.0 +pinned +v1\.0 is pinned \(model\.pinned_version\)$/m);
    expect(text.stdout).toMatch(/^ {2}ETH\/USDT +v1\.0 +pinned /m);
    const json = JSON.parse((await runKilo(h, ['models', '--json'])).stdout);
    expect(json.serving_by_symbol).toEqual([
      expect.objectContaining({ symbol: 'BTC/USDT', version: '1.0', via: 'pinned', fallback: false }),
      expect.objectContaining({ symbol: 'ETH/USDT', version: '1.0', via: 'pinned', fallback: false }),
    ]);
    // Unpinned: BTC follows its promotion, ETH the selection.
    await writeFile(join(h, 'config.yaml'), 'universe:\n  symbols: [BTC/USDT, ETH/USDT]\n');
    const after = await runKilo(h, ['models']);
    expect(after.stdout).toMatch(/^ {2}BTC\/USDT +v2\.1 +promoted /m);
    expect(after.stdout).toMatch(/^ {2}ETH\/USDT +v2\.1 +selected /m);
  });
});

describe('the console pin (engine.pinModel) in a running engine', () => {
  it('Enter on v1.0 in the models panel serves 1.0 for every symbol it covers until unpinned, whatever serving.json says', async () => {
    const { home: h, modelsDir, reg } = await home();
    for (const v of ['1.0', '2.1']) for (const s of ['BTC/USDT', 'ETH/USDT']) await writeArtifact(modelsDir, { version: v, symbols: [s], trainingEnd: NOW - DAY });
    await reg.refresh();
    await reg.setServing('BTC/USDT', '2.1');
    const c = cfg();
    c.data.source = 'sim';
    c.universe.symbols = ['BTC/USDT', 'ETH/USDT'];
    c.universe.core_symbols = [];
    c.auto_training.enabled = false;
    const clock = new ManualClock(NOW);
    const engine = await createEngine({ home: h, config: c, configPath: join(h, 'config.yaml'), clock, marketClock: clock });
    await engine.start({ loop: false });
    const rows = (): [string, string | null][] => engine.getSnapshot().symbols.map((r) => [r.symbol, r.modelVersion]);
    try {
      expect(rows()).toEqual([['BTC/USDT', '2.1'], ['ETH/USDT', '2.1']]);
      expect((await engine.pinModel('1.0')).ok).toBe(true);
      expect(rows()).toEqual([['BTC/USDT', '1.0'], ['ETH/USDT', '1.0']]);
      expect(engine.registry.servingFor({ ...c, model: { ...c.model, pinned_version: '1.0' } }, 'BTC/USDT', NOW).via).toBe('pinned');
      expect((await engine.pinModel(null)).ok).toBe(true);
      expect(rows()).toEqual([['BTC/USDT', '2.1'], ['ETH/USDT', '2.1']]);
    } finally {
      await engine.stop();
    }
  });
});

describe('partial artifacts (a model kind missing)', () => {
  it('a PPO-only artifact never wins selection nor serves when model.models asks for gru, gbdt, ppo, and says why', async () => {
    const { modelsDir, reg } = await home();
    await writeArtifact(modelsDir, { version: '1.0', symbols: ['BTC/USDT'], trainingEnd: NOW - 30 * DAY });
    // What `kilo train --model ppo --force-train --version 2.0` writes: newer, higher version, PPO only.
    await writeArtifact(modelsDir, { version: '2.0', symbols: ['BTC/USDT'], trainingEnd: NOW, files: { 'ppo_model_BTC-USDT.json': 48, 'ppo_model_BTC-USDT.bin': 128 } });
    await reg.refresh();
    const all = cfg();
    const sel = reg.selection(all, NOW);
    expect(sel.winner).toBe('1.0');
    const v20 = sel.candidates.find((c) => c.version === '2.0');
    expect(v20?.compatible).toBe(false);
    expect(v20?.rejectReason).toBe('holds ppo; model.models asks for gru, gbdt, ppo (missing gru, gbdt)');
    expect(reg.servingFor(all, 'BTC/USDT', NOW)).toMatchObject({ version: '1.0' });
    // Even promoted or pinned, it does not serve; the symbol stays on the version that fits, flagged.
    await reg.setServing('BTC/USDT', '2.0');
    expect(reg.servingFor(all, 'BTC/USDT', NOW)).toMatchObject({ version: '1.0', via: 'fallback', fallback: true });
    expect(reg.servingFor(all, 'BTC/USDT', NOW).reason).toMatch(/^v2\.0 \(promoted\) cannot serve BTC\/USDT: holds ppo; .*missing gru, gbdt.*serving v1\.0 instead/);
    expect(reg.servingFor(cfg({ pinned_version: '2.0' }), 'BTC/USDT', NOW).version).toBe('1.0');
    // A config that asks for PPO alone may use it.
    const ppoOnly = cfg({ models: ['ppo'] });
    expect(reg.selection(ppoOnly, NOW).winner).toBe('2.0');
    expect(reg.servingFor(ppoOnly, 'BTC/USDT', NOW)).toMatchObject({ version: '2.0', via: 'promoted' });
  });

  it('kilo models says why the partial artifact is not used', async () => {
    const { home: h, modelsDir } = await home();
    await writeArtifact(modelsDir, { version: '1.0', symbols: ['BTC/USDT'], trainingEnd: Date.now() - DAY });
    await writeArtifact(modelsDir, { version: '2.0', symbols: ['BTC/USDT'], trainingEnd: Date.now(), files: { 'ppo_model_BTC-USDT.json': 48 } });
    const r = await runKilo(h, ['models']);
    expect(r.stdout).toMatch(/Selected: v1\.0/);
    expect(r.stdout).toContain('v2.0 rejected: holds ppo; model.models asks for gru, gbdt, ppo (missing gru, gbdt)');
    expect(r.stdout).toMatch(/BTC-USDT: files verified, not used: holds ppo/);
  });
});

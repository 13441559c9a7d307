import { describe, expect, it } from 'vitest';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultConfig, type Config } from '../../src/config/schema.js';
import { ModelRegistry, registryPaths } from '../../src/registry/registry.js';
import { discoverModels } from '../../src/registry/discover.js';
import { DAY, tempHome, writeArtifact } from '../helpers/artifact-fixtures.js';

const NOW = Date.UTC(2026, 5, 1);
const cfg = (m: Partial<Config['model']> = {}): Config => {
  const c = defaultConfig();
  c.model = { ...c.model, ...m };
  return c;
};

async function setup() {
  const home = await tempHome();
  const paths = registryPaths(home);
  return { home, ...paths, reg: new ModelRegistry(paths) };
}

describe('discovery', () => {
  it('ignores .tmp- folders, checks sizes always and checksums on request', async () => {
    const { modelsDir } = await setup();
    await writeArtifact(modelsDir, { version: '1.0', symbols: ['BTC/USDT'] });
    const eth = await writeArtifact(modelsDir, { version: '1.0', symbols: ['ETH/USDT'] });
    await mkdir(join(modelsDir, 'v1.0', '.tmp-SOL-USDT-123'), { recursive: true });
    await mkdir(join(modelsDir, '.tmp-v2.0'), { recursive: true });
    await mkdir(join(modelsDir, 'not-a-version'), { recursive: true });
    let found = await discoverModels(modelsDir);
    expect(found.map((v) => v.version)).toEqual(['1.0']);
    expect(found[0].artifacts.map((a) => [a.key, a.complete])).toEqual([['BTC-USDT', true], ['ETH-USDT', true]]);
    // Same size, different bytes: only the checksum pass notices.
    await writeFile(join(eth, 'gru_model_ETH-USDT.bin'), Buffer.alloc(256, 7));
    found = await discoverModels(modelsDir);
    expect(found[0].artifacts[1].complete).toBe(true);
    found = await discoverModels(modelsDir, { verifyChecksums: true });
    expect(found[0].artifacts[1].problems).toEqual(['gru_model_ETH-USDT.bin: sha256 does not match the manifest']);
    await writeFile(join(eth, 'gru_model_ETH-USDT.bin'), Buffer.alloc(10));
    found = await discoverModels(modelsDir);
    expect(found[0].artifacts[1].problems).toEqual(['gru_model_ETH-USDT.bin: size 10 bytes, manifest says 256']);
  });

  it('lists a wrongly typed field as a problem with the file name instead of throwing', async () => {
    const { modelsDir } = await setup();
    await writeArtifact(modelsDir, { version: '1.0', rawMetadata: JSON.stringify({ training_mode: 'sideways' }) });
    const [v] = await discoverModels(modelsDir);
    expect(v.artifacts[0].complete).toBe(false);
    expect(v.artifacts[0].problems[0]).toMatch(/metadata\.json: .*metadata\.json: "training_mode" should be "single_symbol" or "multi_symbol", got "sideways"/);
  });
});

describe('discovery of artifacts written by src/models/artifact.ts', () => {
  it('sees a real artifact folder as complete, checksums included, and ignores its temp folders', async () => {
    const { writeArtifact: writeReal } = await import('../../src/models/artifact.js');
    const { modelsDir } = await setup();
    await mkdir(join(modelsDir, '.tmp-abc123'), { recursive: true });
    const dir = await writeReal({
      modelsDir,
      version: '1.0',
      key: 'SOL-USDT',
      files: [{ type: 'gbdt', file: 'gbdt_model_SOL-USDT_20260101T000000Z.json', data: '{"trees": []}' }],
      metadata: {
        version: '1.0', trained_symbols: ['SOL/USDT'], training_days: 30, training_end_timestamp: NOW, min_history_days_per_symbol: 30,
        training_mode: 'single_symbol', symbol_encoding_type: 'one_hot', symbol_encoding_map: {}, timeframe: '1h', window: 48, horizon: 1,
        label_threshold: 0.002, performance: {}, feature_schema_hash: 'x', backend: 'cpu', created_at: new Date(NOW).toISOString(), training_duration_s: 12,
      },
    });
    const [v] = await discoverModels(modelsDir, { verifyChecksums: true });
    expect(v.artifacts).toHaveLength(1);
    expect(v.artifacts[0]).toMatchObject({ key: 'SOL-USDT', complete: true, problems: [], warnings: [], servesSymbols: ['SOL/USDT'] });
    await writeFile(join(dir, 'gbdt_model_SOL-USDT_20260101T000000Z.json'), '{"trees": [1]}');
    const [again] = await discoverModels(modelsDir);
    expect(again.artifacts[0].problems).toEqual(['gbdt_model_SOL-USDT_20260101T000000Z.json: size 14 bytes, manifest says 13']);
  });
});

describe('ModelRegistry', () => {
  it('covers symbols, picks the serving artifact (promoted > selected > newest) and emits changed', async () => {
    const { modelsDir, servingFile, reg } = await setup();
    const changes: number[] = [];
    reg.on('changed', (v) => changes.push(v.length));
    await writeArtifact(modelsDir, { version: '1.0', symbols: ['BTC/USDT'], trainingEnd: NOW - 30 * DAY });
    await writeArtifact(modelsDir, { version: '1.0', symbols: ['ETH/USDT'], trainingEnd: NOW - 30 * DAY });
    await writeArtifact(modelsDir, { version: '1.1', symbols: ['BTC/USDT'], trainingEnd: NOW - 2 * DAY });
    await writeArtifact(modelsDir, { version: '1.2', symbols: ['SOL/USDT'], trainingEnd: NOW - 1 * DAY, dropFile: 'gru_model_SOL-USDT.json' });
    await writeArtifact(modelsDir, { version: '1.3', mode: 'multi_symbol', symbols: ['XRP/USDT'] });
    expect(await reg.refresh()).toBe(true);
    expect(await reg.refresh()).toBe(false);
    expect(changes).toEqual([4]);
    const c = cfg();
    expect(reg.coveredSymbols(c)).toEqual(['BTC/USDT', 'ETH/USDT']);
    // v1.1 (10 + 363 + 101 = 474) beats v1.0 (20 + 335 + 100 = 455).
    expect(reg.selection(c, NOW).winner).toBe('1.1');
    expect(reg.servingArtifactFor(c, 'BTC/USDT', NOW)).toMatchObject({ via: 'selected', artifact: { version: '1.1' } });
    expect(reg.servingArtifactFor(c, 'ETH/USDT', NOW)).toMatchObject({ via: 'newest', artifact: { version: '1.0' } });
    expect(reg.servingArtifactFor(c, 'SOL/USDT', NOW)).toBeNull();
    await reg.setServing('BTC/USDT', '1.0');
    expect(JSON.parse(await readFile(servingFile, 'utf8'))).toEqual({ 'BTC/USDT': '1.0' });
    expect(reg.servingArtifactFor(c, 'BTC/USDT', NOW)).toMatchObject({ via: 'promoted', artifact: { version: '1.0' } });
    // A fresh registry reads the promotion back.
    const again = new ModelRegistry(registryPaths(join(modelsDir, '..')));
    await again.refresh();
    expect(again.servingArtifactFor(c, 'BTC/USDT', NOW)?.via).toBe('promoted');
    // Broken serving.json and .bak with no promotions.json to rebuild from: the last good map is
    // kept in memory, the reason given, and setServing refuses to overwrite the files.
    await writeFile(servingFile, '{"BTC/USDT": 1.0}');
    await writeFile(`${servingFile}.bak`, '{"BTC/USDT": 1.0}');
    await reg.refresh();
    expect(reg.servingProblem()).toMatch(/serving\.json: .*"BTC\/USDT" should map to a version like "1\.0", got 1.*nothing to rebuild it from .*promotions\.json cannot be read\); keeping the previous promotions$/);
    expect(reg.servingArtifactFor(c, 'BTC/USDT', NOW)?.via).toBe('promoted');
    await expect(reg.setServing('ETH/USDT', '1.0')).rejects.toThrow(servingFile);
    expect(await readFile(servingFile, 'utf8')).toBe('{"BTC/USDT": 1.0}');
    await writeArtifact(modelsDir, { version: '1.4', symbols: ['SOL/USDT'] });
    expect(await reg.refresh()).toBe(true);
    expect(reg.coveredSymbols(c)).toEqual(['BTC/USDT', 'ETH/USDT', 'SOL/USDT']);
    expect(changes).toEqual([4, 5]);
  });

  it('resolves train versions: skip when covered, force auto-increments, --version sets it', async () => {
    const { modelsDir, reg } = await setup();
    await reg.refresh();
    const c = cfg({ version: '1.0' });
    expect(reg.nextVersion(c)).toBe('1.0');
    expect(reg.resolveTrainVersion(c, { symbol: 'BTC/USDT' })).toMatchObject({ skip: false, version: '1.0' });
    await writeArtifact(modelsDir, { version: '1.0', symbols: ['BTC/USDT'] });
    await reg.refresh();
    expect(reg.nextVersion(c)).toBe('1.1');
    const skip = reg.resolveTrainVersion(c, { symbol: 'BTC/USDT' });
    expect(skip).toMatchObject({ skip: true, version: '1.0', existing: { version: '1.0', key: 'BTC-USDT' } });
    expect(skip.reason).toBe('BTC/USDT is already covered by v1.0/BTC-USDT; pass --force-train to retrain');
    expect(reg.resolveTrainVersion(c, { symbol: 'BTC/USDT', force: true })).toMatchObject({ skip: false, version: '1.1' });
    // A new symbol joins the configured version.
    expect(reg.resolveTrainVersion(c, { symbol: 'ETH/USDT' })).toMatchObject({ skip: false, version: '1.0' });
    expect(reg.resolveTrainVersion(c, { symbol: 'BTC/USDT', version: '1.0' })).toMatchObject({ skip: true });
    expect(reg.resolveTrainVersion(c, { symbol: 'BTC/USDT', version: '1.0', force: true }).reason).toBe(
      'v1.0/BTC-USDT already exists and versions are immutable; choose another --version or omit it',
    );
    expect(reg.resolveTrainVersion(c, { symbol: 'BTC/USDT', version: '3.0' })).toMatchObject({ skip: false, version: '3.0' });
    // multi_symbol: the single-symbol artifact does not cover it; v1.0/multi is free.
    const m = cfg({ training_mode: 'multi_symbol', multi_symbol_symbols: ['BTC/USDT', 'ETH/USDT'], version: '1.0' });
    expect(reg.resolveTrainVersion(m, {})).toMatchObject({ skip: false, version: '1.0' });
    await writeArtifact(modelsDir, { version: '1.0', mode: 'multi_symbol', encoding: 'index', symbols: ['BTC/USDT', 'ETH/USDT'] });
    await reg.refresh();
    // An index-encoded multi model does not fit a one_hot config, and v1.0/multi is taken.
    expect(reg.resolveTrainVersion(m, {})).toMatchObject({ skip: false, version: '1.1' });
    expect(reg.resolveTrainVersion({ ...m, model: { ...m.model, symbol_encoding: 'index' } }, { symbol: 'ETH/USDT' })).toMatchObject({ skip: true });
  });
});

describe('serving answers follow the versions and the config (the per-symbol fit is memoised)', () => {
  it('a new version on disk, another config object, a broken artifact: each is seen at the next ask', async () => {
    const { modelsDir, reg } = await setup();
    await writeArtifact(modelsDir, { version: '1.0', symbols: ['BTC/USDT'] });
    await reg.refresh();
    const c = cfg();
    expect(reg.servingArtifactFor(c, 'BTC/USDT', NOW)?.artifact.version).toBe('1.0');
    expect(reg.servingArtifactFor(c, 'ETH/USDT', NOW)).toBeNull();
    await writeArtifact(modelsDir, { version: '1.1', symbols: ['BTC/USDT'] });
    await writeArtifact(modelsDir, { version: '1.1', symbols: ['ETH/USDT'] });
    await reg.refresh();
    expect(reg.servingArtifactFor(c, 'BTC/USDT', NOW)?.artifact.version).toBe('1.1');
    expect(reg.servingArtifactFor(c, 'ETH/USDT', NOW)?.artifact.version).toBe('1.1');
    // A config asking for a model kind the artifacts lack: nothing fits (same versions, other config object).
    const gruOnly = cfg({ models: ['gru', 'gbdt', 'ppo', 'lstm' as never] });
    expect(reg.servingArtifactFor(gruOnly, 'BTC/USDT', NOW)).toBeNull();
    expect(reg.servingArtifactFor(c, 'BTC/USDT', NOW)?.artifact.version).toBe('1.1');
    // An artifact taken out of service falls back to the older version at once.
    await reg.takeOutOfService(reg.servingArtifactFor(c, 'BTC/USDT', NOW)!.artifact, new Error('unreadable'));
    expect(reg.servingArtifactFor(c, 'BTC/USDT', NOW)?.artifact.version).toBe('1.0');
  });
});

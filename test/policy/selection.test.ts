import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { defaultConfig, type Config } from '../../src/config/schema.js';
import { discoverModels } from '../../src/registry/discover.js';
import { selectBestModel } from '../../src/policy/selection.js';
import { DAY, tempHome, writeArtifact } from '../helpers/artifact-fixtures.js';

const NOW = Date.UTC(2026, 5, 1);
const cfg = (m: Partial<Config['model']>): Config => {
  const c = defaultConfig();
  c.model = { ...c.model, ...m };
  return c;
};
const syms = (n: number): string[] => Array.from({ length: n }, (_, i) => `S${i}/USDT`);

describe('selectBestModel', () => {
  it('picks v2.0 in the seed worked example and explains the score', async () => {
    const models = join(await tempHome(), 'models');
    await writeArtifact(models, { version: '1.0', mode: 'single_symbol', symbols: ['BTC/USDT'], trainingEnd: NOW - 100 * DAY });
    await writeArtifact(models, { version: '1.1', mode: 'multi_symbol', encoding: 'one_hot', symbols: syms(5), trainingEnd: NOW - 50 * DAY });
    await writeArtifact(models, { version: '1.2', mode: 'multi_symbol', encoding: 'index', symbols: syms(8), trainingEnd: NOW - 10 * DAY });
    await writeArtifact(models, { version: '2.0', mode: 'multi_symbol', encoding: 'one_hot', symbols: syms(10), trainingEnd: NOW - 20 * DAY });
    const r = selectBestModel(cfg({ training_mode: 'multi_symbol', symbol_encoding: 'one_hot' }), await discoverModels(models), NOW);
    expect(r.winner).toBe('2.0');
    const by = Object.fromEntries(r.candidates.map((c) => [c.version, c]));
    expect(by['2.0'].score).toEqual({ symbols: 100, recency: 345, version: 200, total: 645 });
    expect(by['1.1'].score).toEqual({ symbols: 50, recency: 315, version: 101, total: 466 });
    expect(by['1.0'].compatible).toBe(false);
    expect(by['1.0'].rejectReason).toMatch(/training mode single_symbol/);
    expect(by['1.2'].compatible).toBe(false);
    expect(by['1.2'].rejectReason).toMatch(/encoding index/);
    expect(by['1.1'].lostBecause).toBe('score 466 < 645');
    // In single_symbol mode only v1.0 fits.
    const single = selectBestModel(cfg({ training_mode: 'single_symbol' }), await discoverModels(models), NOW);
    expect(single.winner).toBe('1.0');
  });

  it('breaks ties toward the higher version', async () => {
    const models = join(await tempHome(), 'models');
    // v1.1 with 2 symbols, 10 days old: 20 + 355 + 101 = 476; v1.2 with 1 symbol, 1 day old: 10 + 364 + 102 = 476.
    await writeArtifact(models, { version: '1.1', mode: 'multi_symbol', symbols: syms(2), trainingEnd: NOW - 10 * DAY });
    await writeArtifact(models, { version: '1.2', mode: 'multi_symbol', symbols: syms(1), trainingEnd: NOW - 1 * DAY });
    const r = selectBestModel(cfg({ training_mode: 'multi_symbol' }), await discoverModels(models), NOW);
    const totals = r.candidates.map((c) => c.score?.total);
    expect(totals).toEqual([476, 476]);
    expect(r.winner).toBe('1.2');
    expect(r.candidates.find((c) => c.version === '1.1')?.lostBecause).toMatch(/tied at 476/);
  });

  it('honours a compatible pin and falls back with a reason when the pin is missing or unusable', async () => {
    const models = join(await tempHome(), 'models');
    await writeArtifact(models, { version: '1.0', symbols: ['BTC/USDT'], trainingEnd: NOW - 300 * DAY });
    await writeArtifact(models, { version: '1.1', symbols: ['BTC/USDT'], trainingEnd: NOW - 1 * DAY });
    await writeArtifact(models, { version: '1.3', mode: 'multi_symbol', symbols: syms(3) });
    const found = await discoverModels(models);
    const pinned = selectBestModel(cfg({ pinned_version: '1.0' }), found, NOW);
    expect(pinned.winner).toBe('1.0');
    expect(pinned.pin).toMatchObject({ honoured: true });
    expect(pinned.candidates.find((c) => c.version === '1.1')?.lostBecause).toBe('v1.0 is pinned');
    const missing = selectBestModel(cfg({ pinned_version: '9.9' }), found, NOW);
    expect(missing.winner).toBe('1.1');
    expect(missing.pin?.reason).toMatch(/pinned v9.9 not found; falling back/);
    const bad = selectBestModel(cfg({ pinned_version: '1.3' }), found, NOW);
    expect(bad.winner).toBe('1.1');
    expect(bad.pin?.reason).toMatch(/pinned v1.3 is not usable \(training mode multi_symbol/);
  });

  it('never selects an incomplete version, however high its score', async () => {
    const models = join(await tempHome(), 'models');
    await writeArtifact(models, { version: '1.0', symbols: ['BTC/USDT'], trainingEnd: NOW - 200 * DAY });
    await writeArtifact(models, { version: '3.0', symbols: ['BTC/USDT'], trainingEnd: NOW, dropFile: 'gru_model_BTC-USDT.bin' });
    await writeArtifact(models, { version: '3.1', symbols: ['BTC/USDT'], rawMetadata: '{"version": "3.1", ' });
    const found = await discoverModels(models);
    const r = selectBestModel(cfg({ pinned_version: '3.0' }), found, NOW);
    expect(r.winner).toBe('1.0');
    const v30 = r.candidates.find((c) => c.version === '3.0');
    expect(v30?.rejectReason).toMatch(/incomplete: BTC-USDT\/gru_model_BTC-USDT.bin: missing/);
    const v31 = r.candidates.find((c) => c.version === '3.1');
    expect(v31?.rejectReason).toMatch(/metadata.json: malformed JSON/);
    expect(r.pin?.honoured).toBe(false);
  });

  it('scores old metadata with its documented defaults (no trained symbols: never preferred)', async () => {
    const models = join(await tempHome(), 'models');
    await writeArtifact(models, { version: '1.0', symbols: ['BTC/USDT'], omit: ['training_mode', 'symbol_encoding_type', 'trained_symbols'], trainingEnd: NOW - 5 * DAY });
    await writeArtifact(models, { version: '0.9', symbols: ['BTC/USDT'], trainingEnd: NOW - 5 * DAY });
    const found = await discoverModels(models);
    const old = found.find((v) => v.version === '1.0')?.artifacts[0];
    expect(old?.complete).toBe(true);
    expect(old?.metadata?.training_mode).toBe('single_symbol');
    expect(old?.metadata?.symbol_encoding_type).toBe('one_hot');
    expect(old?.metadata?.trained_symbols).toEqual([]);
    expect(old?.warnings).toEqual(expect.arrayContaining([expect.stringMatching(/^training_mode missing, assumed single_symbol/), expect.stringMatching(/^trained_symbols missing/)]));
    // The old folder still serves its own symbol for coverage, but earns no symbol points.
    expect(old?.servesSymbols).toEqual(['BTC/USDT']);
    const r = selectBestModel(cfg({}), found, NOW);
    const by = Object.fromEntries(r.candidates.map((c) => [c.version, c]));
    expect(by['1.0'].score).toEqual({ symbols: 0, recency: 360, version: 100, total: 460 });
    expect(by['0.9'].score).toEqual({ symbols: 10, recency: 360, version: 9, total: 379 });
    expect(r.winner).toBe('1.0');
    // Ten more symbols (110 points in all) make 0.9 beat the old file even with a lower version.
    await writeArtifact(models, { version: '0.9', key: 'ETH-USDT', symbols: ['ETH/USDT', 'SOL/USDT', 'XRP/USDT', 'ADA/USDT', 'BNB/USDT', 'DOGE/USDT', 'LINK/USDT', 'LTC/USDT', 'DOT/USDT', 'TRX/USDT'], trainingEnd: NOW - 5 * DAY });
    expect(selectBestModel(cfg({}), await discoverModels(models), NOW).winner).toBe('0.9');
  });
});

import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import {
  ArtifactCorruptError,
  ArtifactExistsError,
  artifactFileName,
  artifactKey,
  fileTimestamp,
  readVerifiedArtifact,
  writeArtifact,
} from '../../src/models/artifact.js';
import type { ModelMetadata } from '../../src/models/metadata.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kilo-artifact-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const meta = (): Omit<ModelMetadata, 'files'> => ({
  version: '1.0',
  trained_symbols: ['BTC/USDT'],
  training_days: 120,
  training_end_timestamp: 1_700_000_000_000,
  min_history_days_per_symbol: 120,
  training_mode: 'single_symbol',
  symbol_encoding_type: 'one_hot',
  symbol_encoding_map: {},
  timeframe: '1h',
  window: 24,
  horizon: 1,
  label_threshold: 0.002,
  performance: {},
  feature_schema_hash: 'abc',
  backend: 'wasm',
  created_at: '2026-01-01T00:00:00.000Z',
});

const write = (version = '1.0') =>
  writeArtifact({
    modelsDir: dir,
    version,
    key: artifactKey(['BTC/USDT'], 'single_symbol'),
    metadata: meta(),
    files: [
      { type: 'gbdt', file: 'gbdt_model_BTC-USDT_20260101T000000Z.json', data: '{"trees":[1,2,3]}' },
      { type: 'gru', file: 'gru_model_BTC-USDT_20260101T000000Z.weights.bin', data: new Uint8Array([1, 2, 3, 4]) },
    ],
  });

describe('artifact naming', () => {
  it('follows the seed convention', () => {
    expect(fileTimestamp(Date.UTC(2026, 0, 1, 13, 5, 9, 123))).toBe('20260101T130509Z');
    expect(artifactFileName('gru', 'BTC-USDT', '20260101T000000Z', 'json')).toBe('gru_model_BTC-USDT_20260101T000000Z.json');
    expect(artifactFileName('preprocessor', 'BTC-USDT', '20260101T000000Z', 'json')).toBe('preprocessor_BTC-USDT_20260101T000000Z.json');
    expect(artifactKey(['BTC/USDT', 'ETH/USDT'], 'multi_symbol')).toBe('multi');
  });
});

describe('writeArtifact / readVerifiedArtifact', () => {
  it('writes a complete folder with a manifest that verifies, and leaves no temp folder', async () => {
    const out = await write();
    expect(out).toBe(join(dir, 'v1.0', 'BTC-USDT'));
    expect((await readdir(out)).sort()).toEqual([
      'gbdt_model_BTC-USDT_20260101T000000Z.json',
      'gru_model_BTC-USDT_20260101T000000Z.weights.bin',
      'manifest.json',
      'metadata.json',
    ]);
    expect((await readdir(dir)).sort()).toEqual(['v1.0']);
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    const gb = await readFile(join(out, 'gbdt_model_BTC-USDT_20260101T000000Z.json'));
    expect(manifest['gbdt_model_BTC-USDT_20260101T000000Z.json']).toEqual({ sha256: createHash('sha256').update(gb).digest('hex'), size: 17 });
    const v = await readVerifiedArtifact(out);
    expect(v.metadata.files).toEqual([
      { type: 'gbdt', file: 'gbdt_model_BTC-USDT_20260101T000000Z.json' },
      { type: 'gru', file: 'gru_model_BTC-USDT_20260101T000000Z.weights.bin' },
    ]);
    expect([...v.read('gru_model_BTC-USDT_20260101T000000Z.weights.bin')]).toEqual([1, 2, 3, 4]);
  });

  it('refuses to overwrite an existing version and changes nothing', async () => {
    const out = await write();
    const before = await readFile(join(out, 'manifest.json'), 'utf8');
    await expect(write()).rejects.toBeInstanceOf(ArtifactExistsError);
    expect(await readFile(join(out, 'manifest.json'), 'utf8')).toBe(before);
    expect((await readdir(dir)).sort()).toEqual(['v1.0']);
  });

  it('detects a tampered file and names it', async () => {
    const out = await write();
    await writeFile(join(out, 'gbdt_model_BTC-USDT_20260101T000000Z.json'), '{"trees":[1,2,4]}');
    const p = readVerifiedArtifact(out);
    await expect(p).rejects.toBeInstanceOf(ArtifactCorruptError);
    await expect(p).rejects.toThrow(/gbdt_model_BTC-USDT_20260101T000000Z\.json checksum/);
  });

  it('detects a missing file, a truncated file and an unlisted file', async () => {
    const out = await write();
    await writeFile(join(out, 'gru_model_BTC-USDT_20260101T000000Z.weights.bin'), new Uint8Array([1, 2]));
    await expect(readVerifiedArtifact(out)).rejects.toThrow(/has 2 bytes, manifest says 4/);
    await rm(join(out, 'gru_model_BTC-USDT_20260101T000000Z.weights.bin'));
    await expect(readVerifiedArtifact(out)).rejects.toThrow(/weights\.bin is listed in the manifest but missing/);
    const out2 = await write('1.1');
    await writeFile(join(out2, 'extra.json'), '{}');
    await expect(readVerifiedArtifact(out2)).rejects.toThrow(/extra\.json is not listed/);
  });

  it('an aborted write publishes nothing', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(
      writeArtifact({ modelsDir: dir, version: '2.0', key: 'BTC-USDT', metadata: meta(), files: [], signal: ac.signal }),
    ).rejects.toThrow(/cancelled/);
    expect(await readdir(dir)).toEqual([]);
  });
});

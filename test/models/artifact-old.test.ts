/**
 * Issue 13 item 7: old and damaged artifacts. A metadata.json without `files`, or a folder without
 * manifest.json, loads with a warning (files inferred from the names; the checksums computed and
 * recorded beside it on the first load, atomically) and never crashes; a damaged or incompatible
 * artifact makes its symbol fall back with the reason instead of failing.
 * Real artifacts: trees trained by the pipeline on simulator candles (no ../shared needed).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { defaultConfig, type Config } from '../../src/config/schema.js';
import { SimMarketSource } from '../../src/market/sim-source.js';
import { trainSymbolModels } from '../../src/training/pipeline.js';
import { candlesToColumns } from '../../src/training/pipeline-data.js';
import { readVerifiedArtifact, buildManifest } from '../../src/models/artifact.js';
import { loadArtifact } from '../../src/models/artifact-load.js';
import { SymbolPredictor } from '../../src/models/predictor.js';
import { ModelRegistry, registryPaths } from '../../src/registry/registry.js';
import type { Candle } from '../../src/market/types.js';

const HOUR = 3_600_000;
const START = Date.UTC(2026, 0, 1);
let home: string;
let trained: string;
let candles: Candle[];

const cfg = (): Config => {
  const c = defaultConfig();
  c.model.models = ['gbdt'];
  c.model.window = 16;
  return c;
};

async function fixManifest(dir: string, file: string): Promise<void> {
  const man = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
  const data = await readFile(join(dir, file));
  man[file] = { sha256: createHash('sha256').update(data).digest('hex'), size: data.byteLength };
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(man));
}

/** A copy of the trained artifact as version `v`, edited by `edit`. */
async function variant(v: string, edit: (dir: string) => Promise<void> = async () => undefined): Promise<string> {
  const dir = join(home, 'models', `v${v}`, 'BTC-USDT');
  await cp(trained, dir, { recursive: true });
  const meta = JSON.parse(await readFile(join(dir, 'metadata.json'), 'utf8'));
  meta.version = v;
  await writeFile(join(dir, 'metadata.json'), JSON.stringify(meta));
  await fixManifest(dir, 'metadata.json');
  await edit(dir);
  return dir;
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'kilo-old-artifact-'));
  candles = await new SimMarketSource(7, new ManualClock(START), { createdAt: START }).fetchCandles('BTC/USDT', '1h', START - 60 * 24 * HOUR, START);
  const res = await trainSymbolModels({
    kind: 'train', symbols: ['BTC/USDT'], trainingMode: 'single_symbol', symbolEncoding: 'one_hot', models: ['gbdt'],
    profile: { name: 'quick', epochs: 1, patience: 1, trees: 8, data_days: 60, batch_size: 256, ppo_steps: 256 },
    version: '0.0', modelsDir: join(home, 'train'), candles: [candlesToColumns('BTC/USDT', candles)], timeframe: '1h',
    window: 16, horizon: 1, labelThreshold: 0.002, valFraction: 0.15, testFraction: 0.15, rnnCell: 'gru', feeRate: 0.001, seed: 1,
  });
  trained = res.artifactDir!;
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('old artifacts', () => {
  it('metadata.json without "files": the list is inferred from the file names, with a warning, and the model predicts', async () => {
    const dir = await variant('1.0', async (d) => {
      const meta = JSON.parse(await readFile(join(d, 'metadata.json'), 'utf8'));
      delete meta.files;
      await writeFile(join(d, 'metadata.json'), JSON.stringify(meta));
      await fixManifest(d, 'metadata.json');
    });
    const a = await loadArtifact(dir);
    expect(a.metadata.files.map((f) => f.type).sort()).toEqual(['feature_metadata', 'gbdt', 'preprocessor']);
    expect(a.warnings).toEqual([expect.stringMatching(/^metadata\.json has no "files" list \(an older artifact\): inferred .*gbdt_model_BTC-USDT_.*\.json/)]);
    expect(new SymbolPredictor(a).predict('BTC/USDT', candles).modelVersion).toBe('1.0');
    // Discovery agrees: complete, with a note instead of a problem.
    const reg = new ModelRegistry(registryPaths(home));
    await reg.refresh();
    const found = reg.list().find((v) => v.version === '1.0')!.artifacts[0];
    expect(found.complete).toBe(true);
    expect(found.warnings).toContain('files missing (an older artifact): inferred from the file names (gbdt)');
  });

  it('a folder without manifest.json serves; its first load records the checksums beside it (atomically) and later loads verify them', async () => {
    const dir = await variant('1.1', (d) => rm(join(d, 'manifest.json')));
    const reg = new ModelRegistry(registryPaths(home));
    await reg.refresh();
    const found = reg.list().find((v) => v.version === '1.1')!.artifacts[0];
    expect(found.complete).toBe(true);
    expect(found.warnings).toContain('manifest.json missing (an older artifact): files taken from the folder; checksums are recorded on first load');
    expect(reg.servingArtifactFor(cfg(), 'BTC/USDT', START)?.artifact.version).toBe('1.1');

    const first = await loadArtifact(dir);
    expect(first.warnings).toEqual([expect.stringMatching(/^manifest\.json was missing \(an older artifact\): checksums of 4 files computed and recorded in .*manifest\.json$/)]);
    first.dispose();
    // Exactly what the writer would have recorded, and no temp file left behind.
    const names = (await readdir(dir)).filter((n) => n !== 'manifest.json').sort();
    const expected = buildManifest(await Promise.all(names.map(async (file) => ({ file, data: await readFile(join(dir, file)) }))));
    expect(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'))).toEqual(expected);
    expect((await readdir(dir)).filter((n) => n.startsWith('.'))).toEqual([]);
    expect((await loadArtifact(dir)).warnings).toEqual([]);
    // From now on damage is caught.
    const gbdt = names.find((n) => n.startsWith('gbdt_model_'))!;
    const bytes = await readFile(join(dir, gbdt));
    bytes[Math.floor(bytes.length / 2)] ^= 1;
    await writeFile(join(dir, gbdt), bytes);
    await expect(readVerifiedArtifact(dir)).rejects.toMatchObject({ name: 'ArtifactCorruptError', integrity: true, file: gbdt });
  });
});

describe('damaged or incompatible artifacts fall back instead of failing', () => {
  it('an intact but unreadable model (another build wrote it) is set aside for the process, not moved, and the symbol falls back to the older version with the reason', async () => {
    await rm(join(home, 'models'), { recursive: true, force: true });
    await variant('2.0');
    const bad = await variant('2.1', async (d) => {
      // Bytes match the manifest, but the feature list is not what this build computes.
      const f = (await readdir(d)).find((n) => n.startsWith('feature_metadata_'))!;
      const fm = JSON.parse(await readFile(join(d, f), 'utf8'));
      fm.names = [...fm.names].reverse();
      await writeFile(join(d, f), JSON.stringify(fm));
      await fixManifest(d, f);
    });
    const warnings: string[] = [];
    const reg = new ModelRegistry({ ...registryPaths(home), onWarn: (w) => warnings.push(w) });
    await reg.refresh();
    await reg.setServing('BTC/USDT', '2.1');
    const load = async (dir: string): Promise<SymbolPredictor> => new SymbolPredictor(await loadArtifact(dir));
    const got = await reg.loadServing(cfg(), 'BTC/USDT', START, (a) => load(a.dir));
    expect(got?.serving).toMatchObject({ via: 'fallback', artifact: { version: '2.0' }, replaced: { version: '2.1', via: 'promoted' } });
    expect(got?.serving.reason).toMatch(/^v2\.1 \(promoted\) cannot serve BTC\/USDT: unusable: .*feature/);
    expect(got?.value.predict('BTC/USDT', candles).modelVersion).toBe('2.0');
    expect(warnings).toEqual([expect.stringMatching(/^model v2\.1\/BTC-USDT \(BTC\/USDT\) cannot be used: .*; not used by this process; its symbols fall back$/)]);
    // Not moved: its bytes are intact, only this build cannot read them.
    expect((await readdir(bad)).length).toBeGreaterThan(0);
    expect(reg.quarantineList()).toEqual([]);
    // And cleanup keeps it for the operator.
    expect(reg.protectedVersions(cfg(), ['BTC/USDT'], START)).toEqual(
      expect.arrayContaining([{ version: '2.1', why: 'promoted for BTC/USDT, failed to load (kept for inspection)' }]),
    );
  });
});

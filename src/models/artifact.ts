/**
 * Versioned model artifacts on disk: models/v<version>/<SYMBOL-STEM | multi>/ holding every model
 * file, metadata.json and manifest.json (sha256 + size of every other file). A folder is built in
 * models/.tmp-<random>/ and renamed into place in one step, so a reader never sees half a model,
 * and versions are immutable: an existing target is an error, never overwritten.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { METADATA_FILE, MANIFEST_FILE, type ModelFileEntry, type ModelMetadata } from './metadata.js';
import { symbolToFileStem } from '../market/types.js';
import { fileOpError } from '../util/atomic.js';
import type * as tfNs from '@tensorflow/tfjs';
import type { Tf } from './tf-backend.js';
import { Preprocessor, type FeatureMetadata } from '../features/preprocess.js';
import { GbdtModel } from './gbdt/model.js';
import { PpoAgent, type SerializedPpoAgent } from './ppo/agent.js';
import { deserializeLayersModel } from './tf-io.js';

export class ArtifactExistsError extends Error {
  constructor(readonly dir: string) {
    super(`artifact ${dir} already exists; versions are immutable (train a new version or remove it)`);
    this.name = 'ArtifactExistsError';
  }
}
export class ArtifactCorruptError extends Error {
  constructor(
    readonly dir: string,
    readonly file: string,
    detail: string,
  ) {
    super(`artifact ${dir}: ${file} ${detail}`);
    this.name = 'ArtifactCorruptError';
  }
}

/** manifest.json: one entry per file in the folder except the manifest itself. */
export type Manifest = Record<string, { sha256: string; size: number }>;

export interface ArtifactFileInput {
  type: ModelFileEntry['type'];
  /** Name relative to the artifact folder (see artifactFileName). */
  file: string;
  data: Uint8Array | string;
}

/** Folder key: the symbol's file stem in single_symbol mode, "multi" in multi_symbol mode. */
export const artifactKey = (symbols: string[], mode: ModelMetadata['training_mode']): string =>
  mode === 'multi_symbol' ? 'multi' : symbolToFileStem(symbols[0]);

export const artifactDir = (modelsDir: string, version: string, key: string): string => join(modelsDir, `v${version}`, key);

/** 2026-01-01T00:00:00.000Z -> 20260101T000000Z (the seed's file timestamp). */
export const fileTimestamp = (ms: number): string => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');

/** Seed naming: `{model_type}_model_{symbol}_{timestamp}.{ext}`; preprocessor/feature_metadata drop "_model". */
export function artifactFileName(type: ModelFileEntry['type'], key: string, ts: string, ext: string): string {
  const head = type === 'preprocessor' || type === 'feature_metadata' ? type : `${type}_model`;
  return `${head}_${key}_${ts}.${ext}`;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const toBytes = (d: Uint8Array | string): Uint8Array => (typeof d === 'string' ? Buffer.from(d, 'utf8') : d);

async function writeSynced(path: string, data: Uint8Array): Promise<void> {
  try {
    const fh = await open(path, 'wx', 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw fileOpError('write', path, err);
  }
}

export function buildManifest(files: { file: string; data: Uint8Array }[]): Manifest {
  const m: Manifest = {};
  for (const f of files) m[f.file] = { sha256: sha256(f.data), size: f.data.byteLength };
  return m;
}

/**
 * Write an artifact folder atomically. `metadata.files` is filled from `files`. Returns the final
 * folder. Throws ArtifactExistsError (nothing written) when that version/key already exists.
 */
export async function writeArtifact(opts: {
  modelsDir: string;
  version: string;
  key: string;
  files: ArtifactFileInput[];
  metadata: Omit<ModelMetadata, 'files'>;
  /** Checked right before the final rename: an aborted job leaves no artifact. */
  signal?: AbortSignal;
}): Promise<string> {
  const target = artifactDir(opts.modelsDir, opts.version, opts.key);
  if (await exists(target)) throw new ArtifactExistsError(target);
  const names = new Set<string>();
  for (const f of opts.files) {
    if (f.file.includes('/') || f.file.includes('\\') || f.file === METADATA_FILE || f.file === MANIFEST_FILE || names.has(f.file)) {
      throw new Error(`artifact file name ${JSON.stringify(f.file)} is invalid or repeated`);
    }
    names.add(f.file);
  }
  const tmp = join(opts.modelsDir, `.tmp-${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(tmp, { recursive: true });
  } catch (err) {
    throw fileOpError('create temp artifact folder', tmp, err);
  }
  try {
    const metadata: ModelMetadata = { ...opts.metadata, files: opts.files.map((f) => ({ type: f.type, file: f.file })) };
    const all = [
      ...opts.files.map((f) => ({ file: f.file, data: toBytes(f.data) })),
      { file: METADATA_FILE, data: toBytes(`${JSON.stringify(metadata, null, 2)}\n`) },
    ];
    for (const f of all) await writeSynced(join(tmp, f.file), f.data);
    await writeSynced(join(tmp, MANIFEST_FILE), toBytes(`${JSON.stringify(buildManifest(all), null, 2)}\n`));
    if (opts.signal?.aborted) throw new Error('cancelled before the artifact was published');
    await mkdir(join(opts.modelsDir, `v${opts.version}`), { recursive: true }).catch((err) => {
      throw fileOpError('create version folder', join(opts.modelsDir, `v${opts.version}`), err);
    });
    if (await exists(target)) throw new ArtifactExistsError(target);
    await rename(tmp, target).catch((err) => {
      throw fileOpError('publish (rename) artifact', target, err);
    });
    return target;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

export interface VerifiedArtifact {
  dir: string;
  metadata: ModelMetadata;
  manifest: Manifest;
  /** File contents by name, already checked against the manifest. */
  read(file: string): Buffer;
}

/**
 * Read and verify an artifact folder: manifest present and parseable, every listed file present with
 * the recorded size and sha256, no unlisted model file, metadata parseable. Any problem throws
 * ArtifactCorruptError naming the file.
 */
export async function readVerifiedArtifact(dir: string): Promise<VerifiedArtifact> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as Manifest;
  } catch (err) {
    throw new ArtifactCorruptError(dir, MANIFEST_FILE, `is missing or unreadable (${(err as Error).message})`);
  }
  if (typeof manifest !== 'object' || manifest === null || !manifest[METADATA_FILE]) {
    throw new ArtifactCorruptError(dir, MANIFEST_FILE, 'does not list metadata.json');
  }
  const contents = new Map<string, Buffer>();
  for (const [file, entry] of Object.entries(manifest)) {
    let data: Buffer;
    try {
      data = await readFile(join(dir, file));
    } catch {
      throw new ArtifactCorruptError(dir, file, 'is listed in the manifest but missing');
    }
    if (data.byteLength !== entry.size) throw new ArtifactCorruptError(dir, file, `has ${data.byteLength} bytes, manifest says ${entry.size}`);
    if (sha256(data) !== entry.sha256) throw new ArtifactCorruptError(dir, file, 'checksum does not match the manifest (tampered or corrupt)');
    contents.set(file, data);
  }
  for (const f of await readdir(dir)) {
    if (f !== MANIFEST_FILE && !manifest[f] && !f.startsWith('.')) throw new ArtifactCorruptError(dir, f, 'is not listed in the manifest');
  }
  let metadata: ModelMetadata;
  try {
    metadata = JSON.parse(contents.get(METADATA_FILE)!.toString('utf8')) as ModelMetadata;
  } catch (err) {
    throw new ArtifactCorruptError(dir, METADATA_FILE, `is not valid JSON (${(err as Error).message})`);
  }
  for (const f of metadata.files ?? []) {
    if (!contents.has(f.file)) throw new ArtifactCorruptError(dir, f.file, 'is named in metadata.json but not in the manifest');
  }
  return {
    dir,
    metadata,
    manifest,
    read(file: string): Buffer {
      const b = contents.get(file);
      if (!b) throw new ArtifactCorruptError(dir, file, 'is not part of this artifact');
      return b;
    },
  };
}

/** The file of a given type named in the metadata (undefined when that model was not trained). */
export const fileOfType = (m: ModelMetadata, type: ModelFileEntry['type'], ext?: string): string | undefined =>
  m.files.find((f) => f.type === type && (ext === undefined || f.file.endsWith(ext)))?.file;

/** PPO on disk: one JSON (metadata + both topologies + byte split) and one .bin (actor ++ critic weights). */
export function encodePpoFiles(s: SerializedPpoAgent): { json: string; bin: Uint8Array } {
  const bin = new Uint8Array(s.actor.weights.byteLength + s.critic.weights.byteLength);
  bin.set(s.actor.weights, 0);
  bin.set(s.critic.weights, s.actor.weights.byteLength);
  const json = JSON.stringify({ metadata: s.metadata, actor: s.actor.modelJson, critic: s.critic.modelJson, actorWeightBytes: s.actor.weights.byteLength });
  return { json, bin };
}

export function decodePpoFiles(json: string, bin: Uint8Array, source: string): SerializedPpoAgent {
  let o: { metadata?: unknown; actor?: unknown; critic?: unknown; actorWeightBytes?: unknown };
  try {
    o = JSON.parse(json);
  } catch (err) {
    throw new ArtifactCorruptError('', source, `is not valid JSON (${(err as Error).message})`);
  }
  const split = o.actorWeightBytes;
  if (typeof o.actor !== 'string' || typeof o.critic !== 'string' || typeof split !== 'number' || split < 0 || split > bin.byteLength) {
    throw new ArtifactCorruptError('', source, 'lacks actor/critic/actorWeightBytes');
  }
  return {
    metadata: o.metadata as SerializedPpoAgent['metadata'],
    actor: { modelJson: o.actor, weights: bin.subarray(0, split) },
    critic: { modelJson: o.critic, weights: bin.subarray(split) },
  };
}

export interface LoadedArtifact {
  dir: string;
  metadata: ModelMetadata;
  featureMetadata: FeatureMetadata;
  preprocessor: Preprocessor;
  gbdt?: GbdtModel;
  rnn?: tfNs.LayersModel;
  ppo?: PpoAgent;
  /** tfjs backend the networks were loaded on (null when the artifact has no network). */
  backend: string | null;
  /** The tfjs instance the networks live in (absent when the artifact has no network). */
  tf?: Tf;
  dispose(): void;
}

/**
 * Verify (manifest checksums) and load an artifact: preprocessor -> trees -> networks. tfjs is
 * only initialised when the artifact has a network and no `tf` was passed.
 */
export async function loadArtifact(dir: string, opts: { tf?: Tf } = {}): Promise<LoadedArtifact> {
  const v = await readVerifiedArtifact(dir);
  const m = v.metadata;
  const need = (type: ModelFileEntry['type'], ext: string): string => {
    const f = fileOfType(m, type, ext);
    if (!f) throw new ArtifactCorruptError(dir, METADATA_FILE, `names no ${type} file ending in ${ext}`);
    return f;
  };
  const text = (f: string): string => v.read(f).toString('utf8');
  const json = (f: string): unknown => {
    try {
      return JSON.parse(text(f));
    } catch (err) {
      throw new ArtifactCorruptError(dir, f, `is not valid JSON (${(err as Error).message})`);
    }
  };
  const preFile = need('preprocessor', '.json');
  const preprocessor = Preprocessor.fromJSON(json(preFile), `${dir}/${preFile}`);
  const featureMetadata = json(need('feature_metadata', '.json')) as FeatureMetadata;
  const loaded: LoadedArtifact = { dir, metadata: m, featureMetadata, preprocessor, backend: null, dispose: () => undefined };
  const gbdtFile = fileOfType(m, 'gbdt', '.json');
  if (gbdtFile) loaded.gbdt = GbdtModel.fromJSON(json(gbdtFile), `${dir}/${gbdtFile}`);
  const gruJson = fileOfType(m, 'gru', '.json');
  const ppoJson = fileOfType(m, 'ppo', '.json');
  if (gruJson || ppoJson) {
    const tf = opts.tf ?? (await (await import('./tf-backend.js')).initTf()).tf;
    loaded.backend = tf.getBackend();
    loaded.tf = tf;
    if (gruJson) {
      // Custom recurrent layers (if the rnn module defines any) must be registered before loading.
      const rnn = (await import('./rnn/index.js')) as { registerRnnLayers?: () => void };
      rnn.registerRnnLayers?.();
    }
    if (gruJson) loaded.rnn = await deserializeLayersModel(tf, text(gruJson), v.read(need('gru', '.bin')), `${dir}/${gruJson}`);
    if (ppoJson) {
      const s = decodePpoFiles(text(ppoJson), v.read(need('ppo', '.bin')), `${dir}/${ppoJson}`);
      loaded.ppo = await PpoAgent.deserialize(tf, s, `${dir}/${ppoJson}`);
    }
  }
  loaded.dispose = () => {
    loaded.rnn?.dispose();
    loaded.ppo?.dispose();
  };
  return loaded;
}

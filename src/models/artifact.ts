/**
 * Versioned model artifacts on disk: models/v<version>/<SYMBOL-STEM | multi>/ holding every model
 * file, metadata.json and manifest.json (sha256 + size of every other file). A folder is built in
 * models/.tmp-<random>/ and renamed into place in one step, so a reader never sees half a model,
 * and versions are immutable: an existing target is an error, never overwritten. Loading a
 * verified artifact into models is src/models/artifact-load.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { METADATA_FILE, MANIFEST_FILE, type ModelFileEntry, type ModelMetadata } from './metadata.js';
import { symbolToFileStem } from '../market/types.js';
import { fileOpError } from '../util/atomic.js';
import type { SerializedPpoAgent } from './ppo/agent.js';
import { inferFileEntries } from './artifact-files.js';
import { writeFileAtomic } from '../util/atomic.js';

export { ArtifactExistsError, ArtifactCorruptError } from './artifact-errors.js';
import { ArtifactExistsError, ArtifactCorruptError } from './artifact-errors.js';

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
  /** What was repaired or assumed for an older artifact (no manifest, no `files` list). */
  warnings: string[];
  /** File contents by name, already checked against the manifest. */
  read(file: string): Buffer;
}

/**
 * An older artifact without manifest.json: its checksums are computed from the folder and recorded
 * beside it (atomically) so every later load verifies against them. A folder that cannot be written
 * (read-only) still loads, with the checksums held in memory only.
 */
async function recordMissingManifest(dir: string, warnings: string[]): Promise<Manifest> {
  const names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() && !e.name.startsWith('.') && e.name !== MANIFEST_FILE).map((e) => e.name);
  if (!names.includes(METADATA_FILE)) throw new ArtifactCorruptError(dir, MANIFEST_FILE, 'is missing and so is metadata.json', true);
  const files = await Promise.all(names.sort().map(async (file) => ({ file, data: await readFile(join(dir, file)) })));
  const manifest = buildManifest(files);
  try {
    await writeFileAtomic(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    warnings.push(`${MANIFEST_FILE} was missing (an older artifact): checksums of ${names.length} files computed and recorded in ${join(dir, MANIFEST_FILE)}`);
  } catch (err) {
    warnings.push(`${MANIFEST_FILE} was missing (an older artifact): checksums of ${names.length} files computed but not recorded (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return manifest;
}

/**
 * Read and verify an artifact folder: manifest present and parseable, every listed file present with
 * the recorded size and sha256, no unlisted model file, metadata parseable. Any problem throws
 * ArtifactCorruptError naming the file. An older folder without manifest.json gets one (see
 * recordMissingManifest); metadata without `files` gets the list inferred from the file names.
 */
export async function readVerifiedArtifact(dir: string): Promise<VerifiedArtifact> {
  const warnings: string[] = [];
  let manifest: Manifest;
  let manifestText: string | null = null;
  try {
    manifestText = await readFile(join(dir, MANIFEST_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`artifact ${dir}: cannot read ${MANIFEST_FILE} (${(err as Error).message})`);
  }
  if (manifestText === null) manifest = await recordMissingManifest(dir, warnings);
  else {
    try {
      manifest = JSON.parse(manifestText) as Manifest;
    } catch (err) {
      throw new ArtifactCorruptError(dir, MANIFEST_FILE, `is unreadable (${(err as Error).message})`, true);
    }
  }
  if (typeof manifest !== 'object' || manifest === null || !manifest[METADATA_FILE]) {
    throw new ArtifactCorruptError(dir, MANIFEST_FILE, 'does not list metadata.json', true);
  }
  const contents = new Map<string, Buffer>();
  for (const [file, entry] of Object.entries(manifest)) {
    let data: Buffer;
    try {
      data = await readFile(join(dir, file));
    } catch (err) {
      // Only a file that is not there is damage; EMFILE/EIO say nothing about the artifact.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ArtifactCorruptError(dir, file, 'is listed in the manifest but missing', true);
      throw new Error(`artifact ${dir}: cannot read ${file} (${(err as Error).message})`);
    }
    if (data.byteLength !== entry?.size) throw new ArtifactCorruptError(dir, file, `has ${data.byteLength} bytes, manifest says ${entry?.size}`, true);
    if (sha256(data) !== entry.sha256) throw new ArtifactCorruptError(dir, file, 'checksum does not match the manifest (tampered or corrupt)', true);
    contents.set(file, data);
  }
  for (const f of await readdir(dir)) {
    if (f !== MANIFEST_FILE && !manifest[f] && !f.startsWith('.')) throw new ArtifactCorruptError(dir, f, 'is not listed in the manifest', true);
  }
  let metadata: ModelMetadata;
  try {
    metadata = JSON.parse(contents.get(METADATA_FILE)!.toString('utf8')) as ModelMetadata;
  } catch (err) {
    throw new ArtifactCorruptError(dir, METADATA_FILE, `is not valid JSON (${(err as Error).message})`);
  }
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw new ArtifactCorruptError(dir, METADATA_FILE, 'is not a JSON object');
  if (metadata.files === undefined) {
    metadata.files = inferFileEntries(Object.keys(manifest));
    warnings.push(`${METADATA_FILE} has no "files" list (an older artifact): inferred ${metadata.files.map((f) => f.file).join(', ') || 'nothing'} from the file names`);
  } else if (!Array.isArray(metadata.files) || !metadata.files.every((f) => typeof f === 'object' && f !== null && typeof f.file === 'string')) {
    throw new ArtifactCorruptError(dir, METADATA_FILE, '"files" should be a list of {type, file}');
  }
  for (const f of metadata.files) {
    if (!contents.has(f.file)) throw new ArtifactCorruptError(dir, f.file, 'is named in metadata.json but not in the manifest');
  }
  return {
    dir,
    metadata,
    manifest,
    warnings,
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

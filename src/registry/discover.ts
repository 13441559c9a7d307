/**
 * Model discovery: scan models/v<version>/<key>/ and judge each artifact complete or not.
 * Never throws for a broken artifact: problems are listed and the artifact is never selected.
 * Folders starting with `.tmp-` are writes in progress (the trainer renames them into place).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { METADATA_FILE, MANIFEST_FILE } from '../models/metadata.js';
import { fileStemToSymbol } from '../market/types.js';
import { normalizeMetadata, type NormalizedMetadata } from './metadata-load.js';
import { compareVersions, versionFromFolder } from './version.js';

export interface ManifestEntry {
  sha256: string;
  size: number;
}

export interface DiscoveredArtifact {
  version: string;
  /** Folder name: a symbol stem like "BTC-USDT", or "multi". */
  key: string;
  dir: string;
  complete: boolean;
  /** A file's bytes differ from the manifest (its size, or its sha256 when verified). */
  corrupt: boolean;
  /** Every file's sha256 was checked against the manifest in this scan. */
  verified: boolean;
  problems: string[];
  /** Old-metadata defaults that were applied, and other non-fatal notes. */
  warnings: string[];
  /** Null when metadata.json is missing or unreadable. */
  metadata: NormalizedMetadata | null;
  /** Symbols this artifact can serve (trained_symbols, or the folder's symbol for old single-symbol files). */
  servesSymbols: string[];
  sizeBytes: number;
}

export interface DiscoveredVersion {
  version: string;
  dir: string;
  artifacts: DiscoveredArtifact[];
  sizeBytes: number;
}

export interface DiscoverOptions {
  /** Hash every file against the manifest (slower; sizes are always checked). */
  verifyChecksums?: boolean;
}

const TMP_PREFIX = '.tmp-';

async function listDirs(dir: string): Promise<string[]> {
  try {
    const ents = await readdir(dir, { withFileTypes: true });
    return ents.filter((e) => e.isDirectory() && !e.name.startsWith(TMP_PREFIX)).map((e) => e.name).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const ents = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return ents.filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name).sort();
}

async function readJson(path: string): Promise<{ ok: true; value: unknown } | { ok: false; error: string }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ok: false, error: code === 'ENOENT' ? 'missing' : `unreadable (${code ?? String(err)})` };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, error: `malformed JSON: ${(err as Error).message}` };
  }
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/** Accepts `{file: {sha256, size}}` and `{files: {file: {...}}}`. */
function parseManifest(raw: unknown): Record<string, ManifestEntry> | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'expected a JSON object';
  const obj = raw as Record<string, unknown>;
  const table = typeof obj.files === 'object' && obj.files !== null && !Array.isArray(obj.files) ? (obj.files as Record<string, unknown>) : obj;
  const out: Record<string, ManifestEntry> = {};
  for (const [file, e] of Object.entries(table)) {
    const entry = e as Partial<ManifestEntry> | null;
    if (!entry || typeof entry.size !== 'number' || typeof entry.sha256 !== 'string') return `entry "${file}" should be {sha256, size}`;
    out[file] = { sha256: entry.sha256, size: entry.size };
  }
  return out;
}

export async function inspectArtifact(version: string, key: string, dir: string, opts: DiscoverOptions = {}): Promise<DiscoveredArtifact> {
  const problems: string[] = [];
  const warnings: string[] = [];
  let corrupt = false;
  let sizeBytes = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const s = await stat(join(dir, name)).catch(() => null);
    if (s?.isFile()) sizeBytes += s.size;
  }

  const man = await readJson(join(dir, MANIFEST_FILE));
  let manifest: Record<string, ManifestEntry> | null = null;
  // An older artifact without manifest.json still serves (files from the folder); its first load
  // records the checksums (src/models/artifact.ts), so until then there is nothing to verify.
  let folderFiles: string[] | null = null;
  if (!man.ok && man.error === 'missing') {
    folderFiles = await listFiles(dir);
    warnings.push(`${MANIFEST_FILE} missing (an older artifact): files taken from the folder; checksums are recorded on first load`);
  } else if (!man.ok) problems.push(`${MANIFEST_FILE}: ${man.error}`);
  else {
    const parsed = parseManifest(man.value);
    if (typeof parsed === 'string') problems.push(`${MANIFEST_FILE}: ${parsed}`);
    else manifest = parsed;
  }

  const meta = await readJson(join(dir, METADATA_FILE));
  let metadata: NormalizedMetadata | null = null;
  if (!meta.ok) problems.push(`${METADATA_FILE}: ${meta.error}`);
  else {
    try {
      const r = normalizeMetadata(meta.value, join(dir, METADATA_FILE), version, folderFiles ?? Object.keys(manifest ?? {}));
      metadata = r.metadata;
      warnings.push(...r.warnings);
    } catch (err) {
      problems.push(`${METADATA_FILE}: ${(err as Error).message}`);
    }
  }

  if (folderFiles && metadata) {
    for (const f of metadata.files) if (!folderFiles.includes(f.file)) problems.push(`${f.file}: missing`);
    if (metadata.files.length === 0) problems.push('no model files found');
  }
  if (manifest && metadata) {
    const listed = new Set([...metadata.files.map((f) => f.file), ...Object.keys(manifest)]);
    if (listed.size === 0) problems.push('no model files listed');
    for (const file of [...listed].sort()) {
      const entry = manifest[file];
      if (!entry) {
        problems.push(`${file}: listed in metadata but not in the manifest`);
        continue;
      }
      const s = await stat(join(dir, file)).catch(() => null);
      if (!s?.isFile()) {
        problems.push(`${file}: missing`);
        continue;
      }
      if (s.size !== entry.size) {
        problems.push(`${file}: size ${s.size} bytes, manifest says ${entry.size}`);
        corrupt = true;
        continue;
      }
      if (opts.verifyChecksums && (await sha256File(join(dir, file))) !== entry.sha256) {
        problems.push(`${file}: sha256 does not match the manifest`);
        corrupt = true;
      }
    }
  }

  let servesSymbols = metadata?.trained_symbols ?? [];
  if (metadata && servesSymbols.length === 0 && metadata.training_mode === 'single_symbol' && key !== 'multi') {
    servesSymbols = [fileStemToSymbol(key)];
  }
  const verified = Boolean(opts.verifyChecksums && manifest && !corrupt && problems.length === 0);
  return { version, key, dir, complete: problems.length === 0, corrupt, verified, problems, warnings, metadata, servesSymbols, sizeBytes };
}

/** Every version folder under modelsDir, ascending by version, each with its artifacts. */
export async function discoverModels(modelsDir: string, opts: DiscoverOptions = {}): Promise<DiscoveredVersion[]> {
  // Folders are inspected concurrently: the scan is mostly waiting on stat/read calls.
  const folders = (await listDirs(modelsDir)).flatMap((f) => {
    const version = versionFromFolder(f);
    return version ? [{ version, dir: join(modelsDir, f) }] : [];
  });
  const versions = await Promise.all(
    folders.map(async ({ version, dir }): Promise<DiscoveredVersion> => {
      const keys = await listDirs(dir);
      const artifacts = await Promise.all(keys.map((key) => inspectArtifact(version, key, join(dir, key), opts)));
      return { version, dir, artifacts, sizeBytes: artifacts.reduce((s, a) => s + a.sizeBytes, 0) };
    }),
  );
  return versions.sort((a, b) => compareVersions(a.version, b.version));
}

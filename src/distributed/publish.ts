/**
 * Engine side of a remote training's artifact: verify the files a worker sent against the manifest
 * its pipeline wrote, then publish them into the engine's models/ through the same atomic
 * writeArtifact (temp folder, fsync, manifest, one rename) a local training uses. The BullMQ job id
 * goes into metadata.json as `remote_job`, so a job id maps to one artifact: a retried, recovered
 * or re-attached job that finds its own id already published returns that folder instead of
 * publishing twice.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ArtifactExistsError, artifactDir, writeArtifact, type Manifest } from '../models/artifact.js';
import { MANIFEST_FILE, METADATA_FILE, type ModelMetadata } from '../models/metadata.js';
import type { FileMap } from './payload.js';

export class RemoteArtifactError extends Error {
  constructor(
    readonly jobId: string,
    detail: string,
  ) {
    super(`remote job ${jobId}: ${detail}`);
    this.name = 'RemoteArtifactError';
  }
}

/** What a published artifact records about the job that trained it. */
export interface RemoteJobMark {
  id: string;
  worker: string;
}

type MarkedMetadata = ModelMetadata & { remote_job?: RemoteJobMark };

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function parseJson<T>(files: FileMap, name: string, jobId: string): T {
  const b = files[name];
  if (!b) throw new RemoteArtifactError(jobId, `the worker sent no ${name}`);
  try {
    return JSON.parse(Buffer.from(b).toString('utf8')) as T;
  } catch (err) {
    throw new RemoteArtifactError(jobId, `${name} is not JSON (${(err as Error).message})`);
  }
}

/** Every file listed with the right size and sha256, nothing unlisted, metadata names only listed files. */
export function verifyRemoteFiles(files: FileMap, jobId: string): { manifest: Manifest; metadata: ModelMetadata } {
  const manifest = parseJson<Manifest>(files, MANIFEST_FILE, jobId);
  if (!manifest || typeof manifest !== 'object' || !manifest[METADATA_FILE]) throw new RemoteArtifactError(jobId, 'manifest.json does not list metadata.json');
  for (const [name, entry] of Object.entries(manifest)) {
    const b = files[name];
    if (!b) throw new RemoteArtifactError(jobId, `${name} is listed in the manifest but was not sent`);
    if (b.byteLength !== entry.size) throw new RemoteArtifactError(jobId, `${name} has ${b.byteLength} bytes, manifest says ${entry.size}`);
    if (sha256(b) !== entry.sha256) throw new RemoteArtifactError(jobId, `${name} checksum does not match the manifest`);
  }
  for (const name of Object.keys(files)) {
    if (name !== MANIFEST_FILE && !manifest[name]) throw new RemoteArtifactError(jobId, `${name} is not listed in the manifest`);
  }
  const metadata = parseJson<ModelMetadata>(files, METADATA_FILE, jobId);
  if (!Array.isArray(metadata.files)) throw new RemoteArtifactError(jobId, 'metadata.json has no files list');
  for (const f of metadata.files) {
    if (!manifest[f.file]) throw new RemoteArtifactError(jobId, `metadata.json names ${f.file}, which the manifest does not list`);
  }
  return { manifest, metadata };
}

async function publishedBy(dir: string): Promise<RemoteJobMark | null> {
  try {
    const m = JSON.parse(await readFile(join(dir, METADATA_FILE), 'utf8')) as MarkedMetadata;
    return m.remote_job ?? null;
  } catch {
    return null;
  }
}

export interface PublishInput {
  modelsDir: string;
  /** What the engine asked for: the worker cannot choose where its files land. */
  version: string;
  key: string;
  jobId: string;
  worker: string;
  files: FileMap;
}

export interface Published {
  dir: string;
  metadata: ModelMetadata;
  /** False when this job id had already published this folder (nothing was written). */
  fresh: boolean;
}

/** Verify, then publish once per job id. Throws ArtifactExistsError when another job owns the folder. */
export async function publishRemoteArtifact(p: PublishInput): Promise<Published> {
  const { metadata } = verifyRemoteFiles(p.files, p.jobId);
  if (metadata.version !== p.version) throw new RemoteArtifactError(p.jobId, `artifact is version ${metadata.version}, the job asked for ${p.version}`);
  const target = artifactDir(p.modelsDir, p.version, p.key);
  const already = async (): Promise<Published | null> => {
    const mark = await publishedBy(target);
    if (mark?.id !== p.jobId) return null;
    return { dir: target, metadata: JSON.parse(await readFile(join(target, METADATA_FILE), 'utf8')) as ModelMetadata, fresh: false };
  };
  const prior = await already();
  if (prior) return prior;
  const { files: listed, ...rest } = metadata;
  const marked: Omit<MarkedMetadata, 'files'> = { ...rest, remote_job: { id: p.jobId, worker: p.worker } };
  try {
    const dir = await writeArtifact({
      modelsDir: p.modelsDir,
      version: p.version,
      key: p.key,
      files: listed.map((f) => ({ type: f.type, file: f.file, data: p.files[f.file] })),
      metadata: marked,
    });
    return { dir, metadata: { ...marked, files: listed }, fresh: true };
  } catch (err) {
    // Two deliveries of one job racing: the loser finds the winner's folder with its own id. Its
    // rename onto the winner's folder fails with ENOTEMPTY/EEXIST when both passed the exists check.
    const code = (err as NodeJS.ErrnoException).code;
    if (err instanceof ArtifactExistsError || code === 'ENOTEMPTY' || code === 'EEXIST') {
      const won = await already();
      if (won) return won;
      if (!(err instanceof ArtifactExistsError)) throw new ArtifactExistsError(target);
    }
    throw err;
  }
}

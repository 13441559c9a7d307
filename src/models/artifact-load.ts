/**
 * Loading a verified artifact into models that predict: preprocessor -> trees -> networks, all at
 * once (loadArtifact) or progressively (loadArtifactStaged: the trees first, the networks behind a
 * promise). Reading and checking the folder is src/models/artifact.ts.
 */
import type * as tfNs from '@tensorflow/tfjs';
import { METADATA_FILE, type ModelFileEntry, type ModelKind, type ModelMetadata } from './metadata.js';
import { ArtifactCorruptError } from './artifact-errors.js';
import type { Tf } from './tf-backend.js';
import { Preprocessor, type FeatureMetadata } from '../features/preprocess.js';
import { GbdtModel } from './gbdt/model.js';
import { PpoAgent, type SerializedPpoAgent } from './ppo/agent.js';
import { deserializeLayersModel } from './tf-io.js';
import { decodePpoFiles, fileOfType, readVerifiedArtifact } from './artifact.js';

export interface LoadedArtifact {
  dir: string;
  metadata: ModelMetadata;
  featureMetadata: FeatureMetadata;
  preprocessor: Preprocessor;
  gbdt?: GbdtModel;
  /** Set once the networks have loaded (see `networks`). */
  rnn?: tfNs.LayersModel;
  ppo?: PpoAgent;
  /** tfjs backend the networks were loaded on (null when the artifact has no network, or until they load). */
  backend: string | null;
  /** The tfjs instance the networks live in (absent when the artifact has no network, or until they load). */
  tf?: Tf;
  /** Repairs and assumptions made while loading an older artifact (shown once by the caller). */
  warnings: string[];
  /**
   * The model kinds of this artifact still loading (the networks: 'gru', 'ppo'); empty once
   * `networks` has settled. Predictions made meanwhile come from the other models alone.
   */
  pending: ModelKind[];
  /** Settles when the networks are loaded (at once when there are none); rejects when they cannot be. */
  networks: Promise<void>;
  /** Why the networks could not be loaded (set when `networks` rejected). */
  networkError?: Error;
  /** Releases the networks' tfjs memory (also of networks still loading, once they land). Idempotent. */
  dispose(): void;
}

export interface LoadArtifactOptions {
  tf?: Tf;
  /**
   * Awaited after the trees are loaded and before the networks are deserialised. Tests hold the
   * networks back with it to see what serves meanwhile.
   */
  beforeNetworks?: () => Promise<void>;
}

/**
 * Verify (manifest checksums) and load an artifact completely: preprocessor -> trees -> networks.
 * tfjs is only initialised when the artifact has a network and no `tf` was passed.
 */
export async function loadArtifact(dir: string, opts: LoadArtifactOptions = {}): Promise<LoadedArtifact> {
  const loaded = await loadArtifactStaged(dir, opts);
  try {
    await loaded.networks;
  } catch (err) {
    loaded.dispose();
    throw err;
  }
  return loaded;
}

/**
 * Progressive load: resolves as soon as the artifact is verified and its preprocessor and trees are
 * loaded; the networks (GRU/LSTM, PPO: tfjs initialisation, deserialisation) keep loading behind
 * `networks`, and `rnn` / `ppo` appear on the object when they are ready. The engine serves the
 * trees' signal meanwhile (src/engine/predictors.ts). Everything that can be checked without tfjs
 * (checksums, the files metadata.json names, the PPO file's JSON) fails here, not later.
 */
export async function loadArtifactStaged(dir: string, opts: LoadArtifactOptions = {}): Promise<LoadedArtifact> {
  return assemble(dir, await readParts(dir), opts);
}

interface ArtifactParts {
  metadata: ModelMetadata;
  warnings: string[];
  preprocessor: Preprocessor;
  featureMetadata: FeatureMetadata;
  gbdt?: GbdtModel;
  gru: { source: string; json: string; bin: Uint8Array } | null;
  ppo: { source: string; files: SerializedPpoAgent } | null;
}

/**
 * Everything of the artifact that is read or checked without tfjs. A function of its own so the
 * file contents (the verified artifact) are let go of when it returns: closures made in the same
 * scope share one V8 context, and a dispose() made beside them kept every file's bytes alive for as
 * long as the model was loaded.
 */
async function readParts(dir: string): Promise<ArtifactParts> {
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
  const gbdtFile = fileOfType(m, 'gbdt', '.json');
  const gbdt = gbdtFile ? GbdtModel.fromJSON(json(gbdtFile), `${dir}/${gbdtFile}`) : undefined;
  const gruJson = fileOfType(m, 'gru', '.json');
  const ppoJson = fileOfType(m, 'ppo', '.json');
  return {
    metadata: m,
    warnings: v.warnings,
    preprocessor,
    featureMetadata,
    gbdt,
    gru: gruJson ? { source: `${dir}/${gruJson}`, json: text(gruJson), bin: v.read(need('gru', '.bin')) } : null,
    ppo: ppoJson ? { source: `${dir}/${ppoJson}`, files: decodePpoFiles(text(ppoJson), v.read(need('ppo', '.bin')), `${dir}/${ppoJson}`) } : null,
  };
}

function assemble(dir: string, parts: ArtifactParts, opts: LoadArtifactOptions): LoadedArtifact {
  const { gru, ppo } = parts;
  const pending: ModelKind[] = [...(gru ? (['gru'] as const) : []), ...(ppo ? (['ppo'] as const) : [])];
  let disposed = false;
  const loaded: LoadedArtifact = {
    dir,
    metadata: parts.metadata,
    featureMetadata: parts.featureMetadata,
    preprocessor: parts.preprocessor,
    ...(parts.gbdt ? { gbdt: parts.gbdt } : {}),
    backend: null,
    warnings: parts.warnings,
    pending,
    networks: Promise.resolve(),
    // Idempotent: tfjs throws "Container '...' is already disposed." on a second dispose, and a
    // cleanup path must never fail the work it cleans up after.
    dispose: () => {
      if (disposed) return;
      disposed = true;
      loaded.rnn?.dispose();
      loaded.ppo?.dispose();
    },
  };
  if (!gru && !ppo) return loaded;
  loaded.networks = loadNetworks(gru, ppo, opts, () => disposed).then(
    (nets) => {
      loaded.pending = [];
      if (!nets) return;
      loaded.backend = nets.tf.getBackend();
      loaded.tf = nets.tf;
      if (nets.rnn) loaded.rnn = nets.rnn;
      if (nets.ppo) loaded.ppo = nets.ppo;
    },
    (err: unknown) => {
      loaded.pending = [];
      loaded.networkError = err instanceof Error ? err : new Error(String(err));
      throw loaded.networkError;
    },
  );
  // Whoever awaits `networks` sees the error; nobody awaiting it is not an unhandled rejection.
  loaded.networks.catch(() => undefined);
  return loaded;
}

/** The networks, deserialised; null when the artifact was released meanwhile (they are disposed here). */
async function loadNetworks(
  gru: ArtifactParts['gru'],
  ppo: ArtifactParts['ppo'],
  opts: LoadArtifactOptions,
  released: () => boolean,
): Promise<{ tf: Tf; rnn?: tfNs.LayersModel; ppo?: PpoAgent } | null> {
  await opts.beforeNetworks?.();
  const tf = opts.tf ?? (await (await import('./tf-backend.js')).initTf()).tf;
  let rnn: tfNs.LayersModel | undefined;
  let agent: PpoAgent | undefined;
  try {
    if (gru) {
      // Custom recurrent layers (if the rnn module defines any) must be registered before loading.
      const mod = (await import('./rnn/index.js')) as { registerRnnLayers?: () => void };
      mod.registerRnnLayers?.();
      rnn = await deserializeLayersModel(tf, gru.json, gru.bin, gru.source);
    }
    if (ppo) agent = await PpoAgent.deserialize(tf, ppo.files, ppo.source);
  } catch (err) {
    rnn?.dispose();
    throw err;
  }
  if (released()) {
    // Released while its networks loaded (a promotion, an expiry): they were never handed out.
    rnn?.dispose();
    agent?.dispose();
    return null;
  }
  return { tf, rnn, ppo: agent };
}

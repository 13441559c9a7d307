/**
 * tfjs model (de)serialisation to plain bytes. Without tfjs-node there is no file:// handler, so
 * models go through memory: the caller (training pipeline) writes model.json + weights.bin
 * atomically, and hands them back here to load. See ../shared/STACK.md.
 */
import type * as tfNs from '@tensorflow/tfjs';
import type { Tf } from './tf-backend.js';
import { registerRnnLayers } from './rnn/layers.js';

export interface SerializedModel {
  /** model.json content: topology + weightsManifest (paths point at `weights.bin`). */
  modelJson: string;
  /** weights.bin content: all weights concatenated in manifest order. */
  weights: Uint8Array;
}

export class ModelSerializationError extends Error {
  override name = 'ModelSerializationError';
}

export const WEIGHTS_FILE_NAME = 'weights.bin';

/** Serialise a LayersModel (topology + weights; no optimizer state) to model.json text + bytes. */
export async function serializeLayersModel(
  model: tfNs.LayersModel,
  opts: { includeOptimizer?: boolean } = {},
): Promise<SerializedModel> {
  // Same module instance initTf() configured (one tfjs-core per process), so no tf parameter needed.
  const tf = await import('@tensorflow/tfjs');
  let captured: tfNs.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
    { includeOptimizer: opts.includeOptimizer ?? false },
  );
  if (!captured || captured.modelTopology === undefined) {
    throw new ModelSerializationError('model.save produced no topology');
  }
  const weightData = captured.weightData;
  // weightData may be one buffer or (for large models) several: join them into one file body.
  const joined: ArrayBuffer =
    weightData === undefined
      ? new ArrayBuffer(0)
      : Array.isArray(weightData)
        ? tf.io.CompositeArrayBuffer.join(weightData)
        : weightData;
  const modelJsonObj: tfNs.io.ModelJSON = {
    modelTopology: captured.modelTopology as object,
    format: captured.format,
    generatedBy: captured.generatedBy,
    convertedBy: captured.convertedBy ?? null,
    weightsManifest: [{ paths: [WEIGHTS_FILE_NAME], weights: captured.weightSpecs ?? [] }],
    ...(captured.trainingConfig ? { trainingConfig: captured.trainingConfig } : {}),
    ...(captured.userDefinedMetadata ? { userDefinedMetadata: captured.userDefinedMetadata } : {}),
  };
  return { modelJson: JSON.stringify(modelJsonObj), weights: new Uint8Array(joined.slice(0)) };
}

/**
 * Rebuild a LayersModel from model.json text + weights bytes. Throws ModelSerializationError
 * naming what is wrong (bad JSON, missing keys, weight byte count mismatch).
 */
export async function deserializeLayersModel(
  tf: Tf,
  modelJson: string,
  weights: Uint8Array,
  source = 'model.json',
): Promise<tfNs.LayersModel> {
  let parsed: tfNs.io.ModelJSON;
  try {
    parsed = JSON.parse(modelJson) as tfNs.io.ModelJSON;
  } catch (err) {
    throw new ModelSerializationError(`${source}: invalid JSON (${(err as Error).message})`);
  }
  if (!parsed || typeof parsed !== 'object' || !parsed.modelTopology) {
    throw new ModelSerializationError(`${source}: missing key "modelTopology"`);
  }
  if (!Array.isArray(parsed.weightsManifest)) {
    throw new ModelSerializationError(`${source}: missing key "weightsManifest"`);
  }
  const specs = parsed.weightsManifest.flatMap((g) => g.weights);
  const expected = specs.reduce((sum, s) => sum + byteSize(s), 0);
  if (expected !== weights.byteLength) {
    throw new ModelSerializationError(
      `${source}: weights hold ${weights.byteLength} bytes but the manifest needs ${expected}`,
    );
  }
  // Copy into a fresh ArrayBuffer: the Uint8Array may be a view into a larger (e.g. Node) buffer.
  const buf = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
  // kilo's own layers must be known to the deserializer before loadLayersModel meets their names.
  registerRnnLayers();
  const artifacts = await tf.io.getModelArtifactsForJSON(parsed, async () => [specs, buf]);
  return tf.loadLayersModel(tf.io.fromMemory(artifacts));
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, float16: 2 };

function byteSize(spec: tfNs.io.WeightsManifestEntry): number {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  if (spec.quantization) return count * (spec.quantization.dtype === 'uint16' || spec.quantization.dtype === 'float16' ? 2 : 1);
  const per = DTYPE_BYTES[spec.dtype];
  if (per === undefined) throw new ModelSerializationError(`unsupported weight dtype "${spec.dtype}" for ${spec.name}`);
  return count * per;
}

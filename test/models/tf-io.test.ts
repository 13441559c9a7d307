import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initTf, type Tf } from '../../src/models/tf-backend.js';
import { deserializeLayersModel, ModelSerializationError, serializeLayersModel } from '../../src/models/tf-io.js';
import { buildRnnModel, mulberry32, predictRnn } from '../../src/models/rnn/index.js';

let tf: Tf;
beforeAll(async () => {
  tf = (await initTf()).tf;
});

function randomWindows(n: number, window: number, nFeatures: number): Float32Array {
  const rng = mulberry32(11);
  return Float32Array.from({ length: n * window * nFeatures }, () => rng() * 2 - 1);
}

describe('tf-io', () => {
  it('round-trips a 2-layer LSTM through files with identical predictions', async () => {
    const model = buildRnnModel(tf, { cell: 'lstm', units: 12, layers: 2, dropout: 0.1, window: 8, nFeatures: 5, seed: 4 });
    const x = randomWindows(30, 8, 5);
    const before = predictRnn(tf, model, x, 30, 8, 5);
    const { modelJson, weights } = await serializeLayersModel(model);
    const manifest = JSON.parse(modelJson).weightsManifest;
    expect(manifest[0].paths).toEqual(['weights.bin']);
    // 2 LSTM layers (kernel, recurrent, bias) + dense (kernel, bias): every weight is in the file.
    expect(weights.byteLength).toBe(model.countParams() * 4);
    const dir = await mkdtemp(join(tmpdir(), 'kilo-tfio-'));
    await writeFile(join(dir, 'model.json'), modelJson);
    await writeFile(join(dir, 'weights.bin'), weights);
    // A Node Buffer is a view into a pooled ArrayBuffer: deserialisation must honour its offset.
    const loaded = await deserializeLayersModel(tf, await readFile(join(dir, 'model.json'), 'utf8'), await readFile(join(dir, 'weights.bin')));
    const after = predictRnn(tf, loaded, x, 30, 8, 5);
    expect(Array.from(after)).toEqual(Array.from(before));
    model.dispose();
    loaded.dispose();
  });

  it('round-trips kilo\'s fused 2-layer GRU (custom layer class) with identical predictions', async () => {
    const model = buildRnnModel(tf, { cell: 'gru', units: 10, layers: 2, dropout: 0, window: 6, nFeatures: 4, seed: 9 });
    expect(JSON.parse(JSON.stringify(model.toJSON(null, false))).config.layers[0].class_name).toBe('KiloFusedGru');
    const x = randomWindows(17, 6, 4);
    const before = predictRnn(tf, model, x, 17, 6, 4);
    const { modelJson, weights } = await serializeLayersModel(model);
    const loaded = await deserializeLayersModel(tf, modelJson, weights);
    expect(Array.from(predictRnn(tf, loaded, x, 17, 6, 4))).toEqual(Array.from(before));
    model.dispose();
    loaded.dispose();
  });

  it('rejects bad model.json and truncated weights with a named error', async () => {
    const model = buildRnnModel(tf, { cell: 'gru', units: 4, layers: 1, dropout: 0, window: 3, nFeatures: 2, seed: 1 });
    const { modelJson, weights } = await serializeLayersModel(model);
    await expect(deserializeLayersModel(tf, '{nope', weights, 'models/x/model.json')).rejects.toThrow(/models\/x\/model\.json: invalid JSON/);
    await expect(deserializeLayersModel(tf, '{"format":"layers-model"}', weights)).rejects.toThrow(/missing key "modelTopology"/);
    const short = weights.subarray(0, weights.byteLength - 4);
    await expect(deserializeLayersModel(tf, modelJson, short)).rejects.toThrow(ModelSerializationError);
    await expect(deserializeLayersModel(tf, modelJson, short)).rejects.toThrow(
      new RegExp(`weights hold ${weights.byteLength - 4} bytes but the manifest needs ${weights.byteLength}`),
    );
    model.dispose();
  });
});

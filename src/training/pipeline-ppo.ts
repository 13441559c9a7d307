/**
 * The PPO stage: the agent trades the training rows of every symbol (scaled features + symbol
 * code, 1-step returns); on validation/test it is asked from a flat portfolio at each sample row,
 * and its action probabilities [hold, buy, sell] are read as classes [flat, up, down].
 */
import type { Tf } from '../models/tf-backend.js';
import { trainPpo, buildObservation, observationSize, type PpoAgent } from '../models/ppo/index.js';
import { encodePpoFiles } from '../models/artifact.js';
import { rowsWithCode, type TrainingData, type SliceName } from './pipeline-data.js';
import type { PipelineJobSpec } from './protocol.js';
import type { StageHooks, TrainedStage } from './pipeline-stage.js';

import { PPO_WINDOW, FLAT_PORTFOLIO } from '../models/inputs.js';

export { PPO_WINDOW, FLAT_PORTFOLIO } from '../models/inputs.js';

export async function trainPpoStage(tf: Tf, data: TrainingData, spec: PipelineJobSpec, hooks: StageHooks): Promise<TrainedStage> {
  const window = Math.min(PPO_WINDOW, spec.window);
  const nFeatures = data.nCols + data.codeLen;
  const feats = data.parts.map((p) => rowsWithCode(data, p));
  // Training rows of all symbols back to back; the return across a symbol boundary is set to 0.
  const nRows = data.parts.reduce((s, p) => s + p.split.train.end, 0);
  const features = new Float32Array(nRows * nFeatures);
  const returns = new Float32Array(nRows);
  let off = 0;
  data.parts.forEach((p, j) => {
    const end = p.split.train.end;
    features.set(feats[j].subarray(0, end * nFeatures), off * nFeatures);
    for (let t = 0; t < end; t++) returns[off + t] = t + 1 < end ? p.closes[t + 1] / p.closes[t] - 1 : 0;
    off += end;
  });
  const steps = spec.profile.ppo_steps;
  const t0 = performance.now();
  const agent = await trainPpo(
    tf,
    { features, nRows, nFeatures, returns },
    { steps, window, fee: spec.feeRate, seed: spec.seed ?? 7, hidden: spec.profile.name === 'quick' ? 32 : 64 },
    {
      signal: hooks.signal,
      onUpdate: (u) => {
        const perUpdate = (performance.now() - t0) / 1000 / u.update;
        hooks.report(u.update / u.updates, u.update, u.updates, u.policyLoss, u.meanReward, perUpdate * (u.updates - u.update));
      },
    },
  );
  try {
    if (hooks.signal?.aborted || agent.metadata.cancelled) throw new Error('cancelled');
    const probsFor = (slice: SliceName): Float32Array => {
      const n = data.parts.reduce((s, p) => s + Math.max(0, p.split[slice].end - p.split[slice].start), 0);
      const size = observationSize(window, nFeatures);
      const obs = new Float32Array(n * size);
      let k = 0;
      data.parts.forEach((p, j) => {
        for (let i = p.split[slice].start; i < p.split[slice].end; i++, k++) {
          buildObservation(feats[j], nFeatures, i, window, FLAT_PORTFOLIO, obs.subarray(k * size, (k + 1) * size));
        }
      });
      const out = new Float32Array(n * 3);
      if (n === 0) return out;
      const { probs } = agent.actBatch(obs, n);
      for (let i = 0; i < n; i++) {
        // [hold, buy, sell] -> [down, flat, up]
        out[i * 3] = probs[i * 3 + 2];
        out[i * 3 + 1] = probs[i * 3];
        out[i * 3 + 2] = probs[i * 3 + 1];
      }
      return out;
    };
    const valProbs = probsFor('validation');
    const testProbs = probsFor('test');
    const encoded = hooks.noFiles ? null : encodePpoFiles(await agent.serialize());
    return {
      kind: 'ppo',
      valProbs,
      testProbs,
      notes: [`${agent.metadata.updates} updates over ${steps} steps, observation [${window} x ${nFeatures} + 3]`],
      files: (key, ts) =>
        encoded
          ? [
              { type: 'ppo', file: `ppo_model_${key}_${ts}.json`, data: encoded.json },
              { type: 'ppo', file: `ppo_model_${key}_${ts}.bin`, data: encoded.bin },
            ]
          : [],
    };
  } finally {
    (agent as PpoAgent).dispose();
  }
}

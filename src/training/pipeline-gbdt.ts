/** The gradient-boosted trees stage: scaled rows (+ symbol code) -> trainGbdt with validation early stopping. */
import { availableParallelism } from 'node:os';
import { trainGbdt, type GrowerInfo } from '../models/gbdt/index.js';
import { artifactFileName } from '../models/artifact.js';
import { rowsFor, type TrainingData } from './pipeline-data.js';
import type { PipelineJobSpec } from './protocol.js';
import type { StageHooks, TrainedStage } from './pipeline-stage.js';

/** Quick profile: shallower trees; both stop early when validation loss stalls. */
export const gbdtParamsFor = (spec: PipelineJobSpec) =>
  spec.profile.name === 'quick'
    ? { rounds: spec.profile.trees, maxDepth: 5, eta: 0.1, earlyStoppingRounds: 10, seed: spec.seed ?? 42 }
    : { rounds: spec.profile.trees, maxDepth: 6, eta: 0.1, earlyStoppingRounds: 20, seed: spec.seed ?? 42 };

/**
 * Balanced class weights as repeats: every class is resampled up to the size of the largest, the
 * j-th row of class c appearing floor((j+1) r_c) - floor(j r_c) times with r_c = max n / n_c (so
 * a class 1.2x rarer gets every fifth row twice). Deterministic and in time order.
 */
export function balanceByRepeats<T extends { x: Float32Array; y: Uint8Array; n: number; nFeatures: number }>(d: T): T {
  const counts = [0, 0, 0];
  for (let i = 0; i < d.n; i++) counts[d.y[i]]++;
  const maxC = Math.max(...counts);
  const ratio = counts.map((c) => (c > 0 ? maxC / c : 0));
  const seen = [0, 0, 0];
  const copies = new Uint16Array(d.n);
  let total = 0;
  for (let i = 0; i < d.n; i++) {
    const c = d.y[i];
    const j = seen[c]++;
    copies[i] = Math.floor((j + 1) * ratio[c] + 1e-9) - Math.floor(j * ratio[c] + 1e-9);
    total += copies[i];
  }
  const x = new Float32Array(total * d.nFeatures);
  const y = new Uint8Array(total);
  let o = 0;
  for (let i = 0; i < d.n; i++) {
    for (let r = 0; r < copies[i]; r++, o++) {
      x.set(d.x.subarray(i * d.nFeatures, (i + 1) * d.nFeatures), o * d.nFeatures);
      y[o] = d.y[i];
    }
  }
  return { ...d, x, y, n: total };
}

export async function trainGbdtStage(data: TrainingData, spec: PipelineJobSpec, hooks: StageHooks): Promise<TrainedStage> {
  const rows = rowsFor(data, 'train');
  const train = spec.classWeights === 'balanced' ? balanceByRepeats(rows) : rows;
  const val = rowsFor(data, 'validation');
  const test = rowsFor(data, 'test');
  const params = gbdtParamsFor(spec);
  const names = [...data.names, ...Array.from({ length: data.codeLen }, (_, i) => `symbol_code_${i}`)];
  const t0 = performance.now();
  let grower: GrowerInfo | undefined;
  const model = await trainGbdt(
    { data: train.x, nRows: train.n, nCols: train.nFeatures, labels: train.y },
    {
      params,
      valid: { data: val.x, nRows: val.n, nCols: val.nFeatures, labels: val.y },
      featureNames: names,
      signal: hooks.signal,
      // Both cores when there are two: the native grower's helper thread benches itself while the
      // other core is busy (another training), so concurrent trainings do not slow each other.
      threads: Math.min(2, availableParallelism()),
      onGrower: (g) => (grower = g),
      onRound: (r) => {
        const done = r.round + 1;
        const perRound = (performance.now() - t0) / 1000 / done;
        hooks.report(done / params.rounds, done, params.rounds, r.trainLoss, r.valLoss ?? null, perRound * (params.rounds - done));
      },
    },
  );
  const json = hooks.noFiles ? null : JSON.stringify(model.toJSON());
  const top = model
    .featureImportance()
    .slice(0, 3)
    .map((f) => f.name)
    .join(', ');
  return {
    kind: 'gbdt',
    valProbs: model.predictProba(val.x, val.n),
    testProbs: model.predictProba(test.x, test.n),
    notes: [
      `${model.nRounds} rounds kept of ${params.rounds} (depth ${params.maxDepth}) on ${train.n} rows; top features ${top}; ` +
        `trees grown by the ${grower?.kind ?? 'typescript'} grower (${grower?.threads ?? 1} thread${grower?.threads === 1 ? '' : 's'})`,
    ],
    files: (key, ts) => (json === null ? [] : [{ type: 'gbdt', file: artifactFileName('gbdt', key, ts, 'json'), data: json }]),
  };
}

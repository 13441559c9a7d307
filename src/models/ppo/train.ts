/** PPO (clipped surrogate, GAE, entropy bonus) over TradingEnv, with seeded rollouts and updates. */
import type * as tfNs from '@tensorflow/tfjs';
import type { Tf } from '../tf-backend.js';
import { mulberry32, permutation, type Rng } from '../rnn/random.js';
import { PpoAgent, buildActor, buildCritic } from './agent.js';
import {
  observationSize,
  PORTFOLIO_FEATURES,
  PPO_ACTION_RETURNS,
  PPO_ACTIONS,
  PpoInputError,
  TradingEnv,
  validateEnvData,
  type PpoAction,
  type PpoEnvData,
} from './env.js';

export interface PpoParams {
  /** Total environment steps (all parallel envs together). */
  steps: number;
  /** Optimisation epochs over each rollout. @default 4 */
  epochs?: number;
  /** @default 3e-4 */
  lr?: number;
  /** Feature rows in each observation. @default 8 */
  window?: number;
  /** Parallel environments (batched network calls). @default 8 */
  nEnvs?: number;
  /** Steps per env per rollout. @default 128 */
  rolloutSteps?: number;
  /** @default 256 */
  minibatchSize?: number;
  /** @default 0.2 */
  clip?: number;
  /** @default 0.99 */
  gamma?: number;
  /** @default 0.95 */
  lambda?: number;
  /** @default 0.01 */
  entropyCoef?: number;
  /** @default 0.5 */
  valueCoef?: number;
  /** Fee per unit of position change (0.001 = 0.1%). @default 0.001 */
  fee?: number;
  /** @default 256 */
  episodeLength?: number;
  /** @default 64 */
  hidden?: number;
  /** Rewards are multiplied by this for optimisation (hourly returns are ~1e-3). @default 100 */
  rewardScale?: number;
  /** @default 0.5 */
  maxGradNorm?: number;
  seed?: number;
}

export interface PpoUpdateInfo {
  update: number;
  updates: number;
  /** Mean unscaled per-step reward in this rollout (fraction of equity). */
  meanReward: number;
  policyLoss: number;
  valueLoss: number;
  entropy: number;
}

export interface PpoHooks {
  onUpdate?(u: PpoUpdateInfo): void;
  /** Checked between rollout steps and minibatches; an aborted training returns the partial agent. */
  signal?: AbortSignal;
}

export async function trainPpo(tf: Tf, data: PpoEnvData, params: PpoParams, hooks: PpoHooks = {}): Promise<PpoAgent> {
  const p = {
    epochs: 4, lr: 3e-4, window: 8, nEnvs: 8, rolloutSteps: 128, minibatchSize: 256, clip: 0.2, gamma: 0.99, lambda: 0.95,
    entropyCoef: 0.01, valueCoef: 0.5, fee: 0.001, episodeLength: 256, hidden: 64, rewardScale: 100, maxGradNorm: 0.5,
    ...params,
  };
  if (!Number.isInteger(p.steps) || p.steps < 1) throw new PpoInputError(`steps must be a positive integer, got ${p.steps}`);
  validateEnvData(data, p.window);
  const obsSize = observationSize(p.window, data.nFeatures);
  const rng = mulberry32(p.seed ?? 1);
  const envs = Array.from({ length: p.nEnvs }, () => new TradingEnv(data, p.window, p.fee, p.episodeLength, rng));
  const actor = buildActor(tf, obsSize, p.hidden, p.seed);
  const critic = buildCritic(tf, obsSize, p.hidden, p.seed);
  const optimizer = tf.train.adam(p.lr);
  const batch = p.nEnvs * p.rolloutSteps;
  const updates = Math.max(1, Math.ceil(p.steps / batch));

  const obs = new Float32Array(p.nEnvs * obsSize);
  envs.forEach((e, i) => e.reset(obs.subarray(i * obsSize, (i + 1) * obsSize)));
  // Rollout buffers, laid out [step][env].
  const bObs = new Float32Array(batch * obsSize);
  const bAct = new Int32Array(batch);
  const bLogp = new Float32Array(batch);
  const bVal = new Float32Array(batch);
  const bRew = new Float32Array(batch);
  const bDone = new Uint8Array(batch);
  let done = 0;
  let cancelled = false;

  try {
    for (let u = 1; u <= updates && !cancelled; u++) {
      let rewardSum = 0;
      for (let s = 0; s < p.rolloutSteps; s++) {
        const [probs, values] = forward(tf, actor, critic, obs, p.nEnvs, obsSize);
        bObs.set(obs, s * p.nEnvs * obsSize);
        for (let i = 0; i < p.nEnvs; i++) {
          const k = s * p.nEnvs + i;
          const a = sample(probs, i, rng);
          const { reward, done: ended } = envs[i].step(a);
          bAct[k] = a;
          bLogp[k] = Math.log(Math.max(probs[i * 3 + a], 1e-8));
          bVal[k] = values[i];
          bRew[k] = reward * p.rewardScale;
          bDone[k] = ended ? 1 : 0;
          rewardSum += reward;
          const slot = obs.subarray(i * obsSize, (i + 1) * obsSize);
          if (ended) envs[i].reset(slot);
          else envs[i].observe(slot);
        }
      }
      const [, lastValues] = forward(tf, actor, critic, obs, p.nEnvs, obsSize);
      const { adv, ret } = gae(bRew, bVal, bDone, lastValues, p.nEnvs, p.rolloutSteps, p.gamma, p.lambda);
      normalise(adv);

      let pl = 0;
      let vl = 0;
      let ent = 0;
      let n = 0;
      for (let epoch = 0; epoch < p.epochs && !cancelled; epoch++) {
        const order = permutation(batch, rng);
        for (let start = 0; start < batch; start += p.minibatchSize) {
          if (hooks.signal?.aborted) {
            cancelled = true;
            break;
          }
          const idx = order.subarray(start, Math.min(batch, start + p.minibatchSize));
          const parts = updateStep(tf, { actor, critic, optimizer, p, obsSize }, idx, bObs, bAct, bLogp, adv, ret);
          pl += parts[0];
          vl += parts[1];
          ent += parts[2];
          n++;
          // Let an abort message (worker port) arrive between minibatches.
          await new Promise<void>((r) => setImmediate(r));
        }
      }
      if (n > 0) {
        done = u;
        hooks.onUpdate?.({ update: u, updates, meanReward: rewardSum / batch, policyLoss: pl / n, valueLoss: vl / n, entropy: ent / n });
      }
      if (hooks.signal?.aborted) cancelled = true;
    }
  } catch (err) {
    actor.dispose();
    critic.dispose();
    throw err;
  } finally {
    optimizer.dispose();
  }
  return new PpoAgent(tf, actor, critic, {
    kind: 'ppo',
    obsShape: [obsSize],
    window: p.window,
    nFeatures: data.nFeatures,
    portfolioFeatures: [...PORTFOLIO_FEATURES],
    actions: [...PPO_ACTIONS],
    actionReturns: [...PPO_ACTION_RETURNS],
    hidden: p.hidden,
    fee: p.fee,
    ...(p.seed !== undefined ? { seed: p.seed } : {}),
    updates: done,
    cancelled,
  });
}

function forward(tf: Tf, actor: tfNs.LayersModel, critic: tfNs.LayersModel, obs: Float32Array, n: number, size: number): [Float32Array, Float32Array] {
  return tf.tidy(() => {
    const x = tf.tensor2d(obs, [n, size]);
    return [
      (actor.predict(x) as tfNs.Tensor).dataSync() as Float32Array,
      (critic.predict(x) as tfNs.Tensor).dataSync() as Float32Array,
    ];
  });
}

function sample(probs: Float32Array, i: number, rng: Rng): PpoAction {
  const r = rng();
  const a = probs[i * 3];
  const b = probs[i * 3 + 1];
  return r < a ? 0 : r < a + b ? 1 : 2;
}

/** Generalised advantage estimation per env; episode ends cut the bootstrap. */
export function gae(
  rew: Float32Array, val: Float32Array, done: Uint8Array, lastValues: Float32Array,
  nEnvs: number, steps: number, gamma: number, lambda: number,
): { adv: Float32Array; ret: Float32Array } {
  const adv = new Float32Array(rew.length);
  const ret = new Float32Array(rew.length);
  for (let i = 0; i < nEnvs; i++) {
    let last = 0;
    for (let s = steps - 1; s >= 0; s--) {
      const k = s * nEnvs + i;
      const notDone = done[k] ? 0 : 1;
      const nextV = s === steps - 1 ? lastValues[i] : val[k + nEnvs];
      const delta = rew[k] + gamma * nextV * notDone - val[k];
      last = delta + gamma * lambda * notDone * last;
      adv[k] = last;
      ret[k] = last + val[k];
    }
  }
  return { adv, ret };
}

function normalise(a: Float32Array): void {
  let mean = 0;
  for (const v of a) mean += v;
  mean /= a.length;
  let sq = 0;
  for (const v of a) sq += (v - mean) ** 2;
  const std = Math.sqrt(sq / a.length) + 1e-8;
  for (let i = 0; i < a.length; i++) a[i] = (a[i] - mean) / std;
}

interface Nets {
  actor: tfNs.LayersModel;
  critic: tfNs.LayersModel;
  optimizer: tfNs.Optimizer;
  p: { clip: number; entropyCoef: number; valueCoef: number; maxGradNorm: number };
  obsSize: number;
}

/** One clipped-surrogate minibatch step; returns [policyLoss, valueLoss, entropy]. */
function updateStep(
  tf: Tf, nets: Nets, idx: Int32Array, bObs: Float32Array, bAct: Int32Array, bLogp: Float32Array, adv: Float32Array, ret: Float32Array,
): [number, number, number] {
  const m = idx.length;
  const { obsSize, p } = nets;
  const o = new Float32Array(m * obsSize);
  const a = new Int32Array(m);
  const lp = new Float32Array(m);
  const ad = new Float32Array(m);
  const rt = new Float32Array(m);
  for (let j = 0; j < m; j++) {
    const k = idx[j];
    o.set(bObs.subarray(k * obsSize, (k + 1) * obsSize), j * obsSize);
    a[j] = bAct[k];
    lp[j] = bLogp[k];
    ad[j] = adv[k];
    rt[j] = ret[k];
  }
  const vars = [...nets.actor.trainableWeights, ...nets.critic.trainableWeights].map((w) => w.read() as tfNs.Variable);
  return tf.tidy(() => {
    const x = tf.tensor2d(o, [m, obsSize]);
    const act = tf.oneHot(tf.tensor1d(a, 'int32'), 3).toFloat();
    const oldLogp = tf.tensor1d(lp);
    const advT = tf.tensor1d(ad);
    const retT = tf.tensor1d(rt);
    let parts: tfNs.Tensor | undefined;
    const { grads } = tf.variableGrads(() => {
      const probs = nets.actor.apply(x, { training: true }) as tfNs.Tensor2D;
      const logAll = tf.log(tf.clipByValue(probs, 1e-8, 1));
      const logp = tf.sum(tf.mul(logAll, act), 1);
      const ratio = tf.exp(tf.sub(logp, oldLogp));
      const surr = tf.minimum(tf.mul(ratio, advT), tf.mul(tf.clipByValue(ratio, 1 - p.clip, 1 + p.clip), advT));
      const policyLoss = tf.neg(tf.mean(surr));
      const v = tf.reshape(nets.critic.apply(x, { training: true }) as tfNs.Tensor, [-1]);
      const valueLoss = tf.mean(tf.square(tf.sub(v, retT)));
      const entropy = tf.mean(tf.neg(tf.sum(tf.mul(probs, logAll), 1)));
      parts = tf.keep(tf.stack([policyLoss, valueLoss, entropy]));
      return tf.sub(tf.add(policyLoss, tf.mul(p.valueCoef, valueLoss)), tf.mul(p.entropyCoef, entropy)) as tfNs.Scalar;
    }, vars);
    // Global-norm clipping, as in reference PPO, so one outlier minibatch cannot blow up the policy.
    const list = Object.values(grads);
    const norm = tf.sqrt(tf.addN(list.map((g) => tf.sum(tf.square(g))))).dataSync()[0];
    const scale = norm > p.maxGradNorm ? p.maxGradNorm / norm : 1;
    const scaled: Record<string, tfNs.Tensor> = {};
    for (const [k, g] of Object.entries(grads)) scaled[k] = scale === 1 ? g : tf.mul(g, scale);
    nets.optimizer.applyGradients(scaled);
    const out = Array.from(parts!.dataSync()) as [number, number, number];
    parts!.dispose();
    return out;
  });
}

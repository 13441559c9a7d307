/** The trained PPO policy: actor (softmax over hold/buy/sell) + critic, with shape-checked inference. */
import type * as tfNs from '@tensorflow/tfjs';
import type { Tf } from '../tf-backend.js';
import { deserializeLayersModel, serializeLayersModel, type SerializedModel } from '../tf-io.js';
import { PORTFOLIO_FEATURES, PPO_ACTION_RETURNS, PPO_ACTIONS, type PpoAction } from './env.js';

export interface PpoMetadata {
  kind: 'ppo';
  /** [window * nFeatures + 3]: every prediction is checked against it. */
  obsShape: [number];
  window: number;
  nFeatures: number;
  portfolioFeatures: string[];
  actions: string[];
  actionReturns: number[];
  hidden: number;
  fee: number;
  seed?: number;
  updates: number;
  /** True when training was aborted before all updates ran (the weights are the partial policy). */
  cancelled: boolean;
}

export interface SerializedPpoAgent {
  actor: SerializedModel;
  critic: SerializedModel;
  metadata: PpoMetadata;
}

export class ObservationShapeError extends Error {
  override name = 'ObservationShapeError';
  constructor(
    readonly expected: number[],
    readonly actual: number[],
  ) {
    super(`PPO observation has shape [${actual.join(', ')}] but the agent was trained on [${expected.join(', ')}]`);
  }
}

export class PpoMetadataError extends Error {
  override name = 'PpoMetadataError';
}

export interface PpoDecision {
  action: PpoAction;
  probs: Float32Array;
  value: number;
}

export function buildActor(tf: Tf, obsSize: number, hidden: number, seed?: number): tfNs.LayersModel {
  return mlp(tf, obsSize, hidden, 3, 'softmax', seed === undefined ? undefined : seed * 31 + 1);
}

export function buildCritic(tf: Tf, obsSize: number, hidden: number, seed?: number): tfNs.LayersModel {
  return mlp(tf, obsSize, hidden, 1, 'linear', seed === undefined ? undefined : seed * 31 + 2);
}

function mlp(tf: Tf, inSize: number, hidden: number, out: number, activation: 'softmax' | 'linear', seed?: number): tfNs.LayersModel {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed === undefined ? undefined : seed * 101 + k });
  const m = tf.sequential();
  m.add(tf.layers.dense({ units: hidden, activation: 'tanh', inputShape: [inSize], kernelInitializer: init(1) }));
  m.add(tf.layers.dense({ units: hidden, activation: 'tanh', kernelInitializer: init(2) }));
  m.add(tf.layers.dense({ units: out, activation, kernelInitializer: init(3) }));
  return m;
}

/** Rows per network call: LayersModel.predict's own default batch size, so results do not change. */
const PREDICT_CHUNK = 32;

export class PpoAgent {
  constructor(
    private readonly tf: Tf,
    readonly actor: tfNs.LayersModel,
    readonly critic: tfNs.LayersModel,
    readonly metadata: PpoMetadata,
  ) {}

  get obsShape(): [number] {
    return this.metadata.obsShape;
  }

  /** Greedy decision for one observation (argmax of the policy). */
  act(obs: Float32Array): PpoDecision {
    const b = this.actBatch(obs, 1);
    return { action: b.actions[0] as PpoAction, probs: b.probs.slice(0, 3), value: b.values[0] };
  }

  /** Greedy decisions for n observations laid out back to back, with the critic's values. */
  actBatch(obs: Float32Array, n: number): { actions: Uint8Array; probs: Float32Array; values: Float32Array } {
    const { actions, probs } = this.policy(obs, n);
    return { actions, probs, values: this.run(this.critic, obs, n, 1) };
  }

  /**
   * Greedy decisions for n observations laid out back to back, the actor alone: inference (the
   * predictor, the gate, the scorecard) never reads the critic's values, and asking the critic
   * too was half of a PPO prediction's time.
   */
  policy(obs: Float32Array, n: number): { actions: Uint8Array; probs: Float32Array } {
    const size = this.metadata.obsShape[0];
    if (!Number.isInteger(n) || n < 1 || obs.length !== n * size) {
      // Report the per-observation shape when the total divides evenly, else the raw length.
      const actual = n >= 1 && obs.length % n === 0 ? (n === 1 ? [obs.length] : [n, obs.length / n]) : [obs.length];
      throw new ObservationShapeError(n === 1 ? [size] : [n, size], actual);
    }
    const probs = this.run(this.actor, obs, n, 3);
    const actions = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const a = probs[i * 3];
      const b = probs[i * 3 + 1];
      const c = probs[i * 3 + 2];
      actions[i] = b > a && b >= c ? 1 : c > a && c > b ? 2 : 0;
    }
    return { actions, probs };
  }

  /**
   * `model` over n observations, PREDICT_CHUNK rows per call. LayersModel.predict cuts its input
   * into batches of the same size itself, but by slicing the whole input tensor once per batch, and
   * the wasm backend's slice reads the whole tensor each time: a 720-row gate window cost 23 full
   * copies per model. Handing it one chunk at a time runs exactly the same batches, without them.
   */
  private run(model: tfNs.LayersModel, obs: Float32Array, n: number, outSize: number): Float32Array {
    const tf = this.tf;
    const size = this.metadata.obsShape[0];
    const out = new Float32Array(n * outSize);
    for (let start = 0; start < n; start += PREDICT_CHUNK) {
      const rows = Math.min(PREDICT_CHUNK, n - start);
      const part = tf.tidy(() => (model.predict(tf.tensor2d(obs.subarray(start * size, (start + rows) * size), [rows, size])) as tfNs.Tensor).dataSync() as Float32Array);
      out.set(part, start * outSize);
    }
    return out;
  }

  /** The chosen action's predicted return (PPO_ACTION_RETURNS): hold 0, buy +0.2%, sell -0.2%. */
  predictReturn(obs: Float32Array): number {
    return this.metadata.actionReturns[this.act(obs).action];
  }

  async serialize(): Promise<SerializedPpoAgent> {
    return {
      actor: await serializeLayersModel(this.actor),
      critic: await serializeLayersModel(this.critic),
      metadata: structuredClone(this.metadata),
    };
  }

  static async deserialize(tf: Tf, s: SerializedPpoAgent, source = 'ppo'): Promise<PpoAgent> {
    const metadata = validateMetadata(s.metadata, source);
    const actor = await deserializeLayersModel(tf, s.actor.modelJson, s.actor.weights, `${source} actor model.json`);
    const critic = await deserializeLayersModel(tf, s.critic.modelJson, s.critic.weights, `${source} critic model.json`);
    for (const [name, m] of [['actor', actor], ['critic', critic]] as const) {
      const inSize = m.inputs[0]?.shape[1];
      if (inSize !== metadata.obsShape[0]) {
        actor.dispose();
        critic.dispose();
        throw new PpoMetadataError(`${source}: ${name} takes ${inSize} inputs but metadata obsShape is [${metadata.obsShape[0]}]`);
      }
    }
    return new PpoAgent(tf, actor, critic, metadata);
  }

  dispose(): void {
    this.actor.dispose();
    this.critic.dispose();
  }
}

export function validateMetadata(m: unknown, source: string): PpoMetadata {
  const md = m as Partial<PpoMetadata> | null;
  if (!md || typeof md !== 'object') throw new PpoMetadataError(`${source}: metadata is not an object`);
  if (md.kind !== 'ppo') throw new PpoMetadataError(`${source}: metadata key "kind" must be "ppo", got ${JSON.stringify(md.kind)}`);
  const shape = md.obsShape;
  if (!Array.isArray(shape) || shape.length !== 1 || !Number.isInteger(shape[0]) || shape[0] <= 0) {
    throw new PpoMetadataError(`${source}: metadata key "obsShape" must be [positive integer], got ${JSON.stringify(shape)}`);
  }
  for (const k of ['window', 'nFeatures', 'hidden'] as const) {
    if (!Number.isInteger(md[k]) || (md[k] as number) <= 0) throw new PpoMetadataError(`${source}: metadata key "${k}" must be a positive integer`);
  }
  if (shape[0] !== md.window! * md.nFeatures! + PORTFOLIO_FEATURES.length) {
    throw new PpoMetadataError(`${source}: obsShape [${shape[0]}] != window*nFeatures+${PORTFOLIO_FEATURES.length}`);
  }
  const actionReturns = Array.isArray(md.actionReturns) && md.actionReturns.length === 3 ? md.actionReturns : [...PPO_ACTION_RETURNS];
  return {
    kind: 'ppo',
    obsShape: [shape[0]],
    window: md.window!,
    nFeatures: md.nFeatures!,
    portfolioFeatures: [...PORTFOLIO_FEATURES],
    actions: [...PPO_ACTIONS],
    actionReturns,
    hidden: md.hidden!,
    fee: typeof md.fee === 'number' ? md.fee : 0.001,
    ...(md.seed !== undefined ? { seed: md.seed } : {}),
    updates: typeof md.updates === 'number' ? md.updates : 0,
    cancelled: md.cancelled === true,
  };
}

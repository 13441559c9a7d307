import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { initTf, type Tf } from '../../src/models/tf-backend.js';
import { mulberry32 } from '../../src/models/rnn/index.js';
import {
  buildObservation,
  gae,
  ObservationShapeError,
  PpoAgent,
  PpoInputError,
  PpoMetadataError,
  trainPpo,
  type PpoEnvData,
} from '../../src/models/ppo/index.js';

let tf: Tf;
beforeAll(async () => {
  tf = (await initTf()).tf;
});

/** Feature 0 tells the sign of the next return (plus noise); feature 1 is noise. */
function oracleData(nRows: number, seed: number): PpoEnvData {
  const rng = mulberry32(seed);
  const returns = new Float32Array(nRows);
  const features = new Float32Array(nRows * 2);
  for (let t = 0; t < nRows; t++) {
    returns[t] = (rng() < 0.5 ? -1 : 1) * (0.005 + 0.01 * rng());
    features[t * 2] = Math.sign(returns[t]) + (rng() - 0.5) * 0.5;
    features[t * 2 + 1] = rng() * 2 - 1;
  }
  return { features, nRows, nFeatures: 2, returns };
}

/** Greedy walk over held-out rows, carrying the portfolio the way the env does. */
function greedyRun(agent: PpoAgent, d: PpoEnvData, window: number) {
  let position = 0;
  let upnl = 0;
  let reward = 0;
  const counts = [0, 0, 0];
  for (let t = window - 1; t < d.nRows - 1; t++) {
    const obs = buildObservation(d.features, d.nFeatures, t, window, { position, unrealisedPnl: upnl, cashShare: 1 - position });
    const { action } = agent.act(obs);
    counts[action]++;
    const next = action === 1 ? 1 : action === 2 ? 0 : position;
    reward += next * d.returns[t] - 0.001 * Math.abs(next - position);
    upnl = next === 1 ? (position === 1 ? (1 + upnl) * (1 + d.returns[t]) - 1 : d.returns[t]) : 0;
    position = next;
  }
  return { meanReward: reward / (d.nRows - window), counts };
}

describe('gae', () => {
  it('matches hand-computed advantages with an episode cut', () => {
    // 1 env, 3 steps, episode ends after step 1; gamma 0.5, lambda 1 for easy arithmetic.
    const { adv, ret } = gae(Float32Array.from([1, 2, 4]), Float32Array.from([0.5, 1, 2]), Uint8Array.from([0, 1, 0]), Float32Array.from([8]), 1, 3, 0.5, 1);
    // step 2: 4 + 0.5*8 - 2 = 6; step 1 (done): 2 - 1 = 1; step 0: delta 1 + 0.5*1 - 0.5 = 1, adv = 1 + 0.5*1 = 1.5
    expect(Array.from(adv)).toEqual([1.5, 1, 6]);
    expect(Array.from(ret)).toEqual([2, 2, 8]);
  });
});

describe('trainPpo', () => {
  it('learns to trade an informative feature (beats flat and random)', async () => {
    const train = oracleData(3000, 1);
    const test = oracleData(600, 2);
    const updates: number[] = [];
    const agent = await trainPpo(tf, train, { steps: 8 * 128 * 8, lr: 3e-3, window: 2, hidden: 32, seed: 5 }, {
      onUpdate: (u) => {
        updates.push(u.update);
        expect(u.updates).toBe(8);
        expect(Number.isFinite(u.policyLoss) && Number.isFinite(u.valueLoss)).toBe(true);
        expect(u.entropy).toBeGreaterThan(0);
        expect(u.entropy).toBeLessThanOrEqual(Math.log(3) + 1e-6);
      },
    });
    expect(updates).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const r = greedyRun(agent, test, 2);
    // Always-flat earns 0; a random policy loses fees. Perfect timing earns ~+0.5%/step minus fees.
    expect(r.meanReward).toBeGreaterThan(0.002);
    agent.dispose();
  });
});

const OHLCV = fileURLToPath(new URL('../../../shared/data/ohlcv/BTC-USDT-1h.csv', import.meta.url));

/** A few simple scaled features from real candles: 1h and 4h log return, range, volume z (24h). */
function btcData(from: number, to: number, stats?: { mean: number[]; std: number[] }) {
  const rows = readFileSync(OHLCV, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
  const close = rows.map((r) => r[4]);
  const raw: number[][] = [];
  for (let t = from; t < to; t++) {
    const vols = rows.slice(t - 24, t).map((r) => Math.log(r[5] + 1));
    const vm = vols.reduce((a, b) => a + b, 0) / vols.length;
    const vs = Math.sqrt(vols.reduce((a, b) => a + (b - vm) ** 2, 0) / vols.length) + 1e-9;
    raw.push([
      Math.log(close[t] / close[t - 1]),
      Math.log(close[t] / close[t - 4]),
      (rows[t][2] - rows[t][3]) / close[t],
      (Math.log(rows[t][5] + 1) - vm) / vs,
    ]);
  }
  const nF = 4;
  const st = stats ?? {
    mean: [0, 1, 2, 3].map((f) => raw.reduce((a, r) => a + r[f], 0) / raw.length),
    std: [0, 1, 2, 3].map((f) => {
      const m = raw.reduce((a, r) => a + r[f], 0) / raw.length;
      return Math.sqrt(raw.reduce((a, r) => a + (r[f] - m) ** 2, 0) / raw.length) + 1e-9;
    }),
  };
  const features = new Float32Array(raw.length * nF);
  raw.forEach((r, i) => r.forEach((v, f) => (features[i * nF + f] = (v - st.mean[f]) / st.std[f])));
  const returns = new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) returns[i] = from + i + 1 < close.length ? close[from + i + 1] / close[from + i] - 1 : 0;
  return { data: { features, nRows: raw.length, nFeatures: nF, returns } satisfies PpoEnvData, stats: st };
}

describe.skipIf(!existsSync(OHLCV))('PPO on real BTC-USDT 1h candles', () => {
  it('trains briefly, trades on held-out windows, checks shapes and round-trips', async () => {
    const { data: train, stats } = btcData(100, 4100);
    const { data: held } = btcData(4100, 4600, stats);
    const window = 8;
    const agent = await trainPpo(tf, train, { steps: 8 * 64 * 4, rolloutSteps: 64, lr: 1e-3, window, seed: 2 });
    expect(agent.obsShape).toEqual([window * 4 + 3]);
    expect(agent.metadata.updates).toBe(4);
    expect(agent.metadata.cancelled).toBe(false);

    const n = held.nRows - window;
    const obs = new Float32Array(n * agent.obsShape[0]);
    for (let i = 0; i < n; i++) {
      const position = i % 2;
      buildObservation(held.features, 4, i + window - 1, window, { position, unrealisedPnl: 0, cashShare: 1 - position }, obs.subarray(i * 35, (i + 1) * 35));
    }
    const decided = agent.actBatch(obs, n);
    const trades = decided.actions.filter((a) => a !== 0).length;
    expect(trades).toBeGreaterThan(0);
    // Chunked inference is the models' own predict() over the whole batch, value for value (n spans several 32-row batches).
    expect(n).toBeGreaterThan(64);
    const whole = tf.tidy(() => {
      const x = tf.tensor2d(obs, [n, 35]);
      return [(agent.actor.predict(x) as import('@tensorflow/tfjs').Tensor).dataSync(), (agent.critic.predict(x) as import('@tensorflow/tfjs').Tensor).dataSync()];
    });
    expect(Array.from(decided.probs)).toEqual(Array.from(whole[0]));
    expect(Array.from(decided.values)).toEqual(Array.from(whole[1]));
    const policy = agent.policy(obs, n);
    expect(Array.from(policy.probs)).toEqual(Array.from(whole[0]));
    expect(Array.from(policy.actions)).toEqual(Array.from(decided.actions));
    expect(() => agent.policy(new Float32Array(70), 3)).toThrow(ObservationShapeError);
    const one = agent.act(obs.subarray(0, 35));
    expect(one.action).toBe(decided.actions[0]);
    expect(agent.predictReturn(obs.subarray(0, 35))).toBe([0, 0.002, -0.002][one.action]);

    // Every prediction checks the observation against the saved shape, naming both shapes.
    expect(() => agent.act(new Float32Array(34))).toThrow(ObservationShapeError);
    expect(() => agent.act(new Float32Array(34))).toThrow('PPO observation has shape [34] but the agent was trained on [35]');
    expect(() => agent.predictReturn(new Float32Array(36))).toThrow(/\[36\] but the agent was trained on \[35\]/);
    expect(() => agent.actBatch(new Float32Array(70), 3)).toThrow(ObservationShapeError);
    const err = (() => {
      try {
        agent.act(new Float32Array(7));
      } catch (e) {
        return e as ObservationShapeError;
      }
      throw new Error('act accepted a 7-value observation');
    })();
    expect(err.expected).toEqual([35]);
    expect(err.actual).toEqual([7]);

    const s = await agent.serialize();
    // metadata travels as JSON on disk; the model bytes as files.
    const copy = await PpoAgent.deserialize(tf, { ...s, metadata: JSON.parse(JSON.stringify(s.metadata)) });
    const again = copy.actBatch(obs, n);
    expect(Array.from(again.actions)).toEqual(Array.from(decided.actions));
    expect(Array.from(again.probs)).toEqual(Array.from(decided.probs));
    expect(copy.obsShape).toEqual([35]);
    expect(() => copy.act(new Float32Array(10))).toThrow('[10] but the agent was trained on [35]');
    await expect(PpoAgent.deserialize(tf, { ...s, metadata: { ...s.metadata, obsShape: [34] } }, 'models/v1/BTC/ppo')).rejects.toThrow(PpoMetadataError);
    await expect(PpoAgent.deserialize(tf, { ...s, metadata: { ...s.metadata, window: 9, obsShape: [39] } }, 'models/v1/BTC/ppo')).rejects.toThrow(
      'models/v1/BTC/ppo: actor takes 35 inputs but metadata obsShape is [39]',
    );
    copy.dispose();
    agent.dispose();
  });
});

describe('trainPpo input and cancel', () => {
  it('rejects bad data naming the row and returns a partial agent on abort', async () => {
    const d = oracleData(100, 3);
    const bad = { ...d, features: d.features.slice() };
    bad.features[2 * 41 + 1] = Number.POSITIVE_INFINITY;
    await expect(trainPpo(tf, bad, { steps: 100 })).rejects.toThrow(PpoInputError);
    await expect(trainPpo(tf, bad, { steps: 100 })).rejects.toThrow('features row 41, column 1 is Infinity');
    await expect(trainPpo(tf, { ...d, returns: d.returns.subarray(1) }, { steps: 100 })).rejects.toThrow('returns has 99 values, expected nRows = 100');
    const ac = new AbortController();
    const seen: number[] = [];
    const agent = await trainPpo(tf, d, { steps: 4 * 32 * 5, nEnvs: 4, rolloutSteps: 32, window: 2, episodeLength: 50, seed: 1 }, {
      signal: ac.signal,
      onUpdate: (u) => {
        seen.push(u.update);
        if (u.update === 2) ac.abort();
      },
    });
    expect(seen).toEqual([1, 2]);
    expect(agent.metadata.cancelled).toBe(true);
    expect(agent.metadata.updates).toBe(2);
    agent.dispose();
  });
});

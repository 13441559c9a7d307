/**
 * Champion/challenger on one shared window with real artifacts: a broken challenger (its scaler
 * cannot load) and a worse one (the trees' votes inverted) are never promoted; a copy of the
 * champion ties and is not promoted either (the margin must be beaten).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { mkdtemp as mkdtempP, rm as rmP } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync, deflateRawSync } from 'node:zlib';
import { WorkerPool } from '../../src/training/pool.js';
import { candlesToColumns } from '../../src/training/pipeline-data.js';
import type { PipelineJobSpec } from '../../src/training/protocol.js';
import { scoreOnSharedWindow } from '../../src/training/gate.js';
import { decidePromotion } from '../../src/policy/promotion.js';
import type { Candle } from '../../src/market/types.js';
import { parseCandleCsv } from '../../src/market/csv.js';
import { DATA, hasData, copyDir, rewriteArtifactFile } from './helpers.js';

const readCsv = (file: string, lastDays: number): Candle[] => parseCandleCsv(readFileSync(join(DATA, file), 'utf8')).candles.slice(-lastDays * 24);

describe.skipIf(!hasData)('champion/challenger gate on a shared window', () => {
  let home: string;
  let candles: Candle[];
  let champion: string;
  const pool = new WorkerPool({ maxConcurrent: 1, timeoutMs: 120_000 });

  beforeAll(async () => {
    home = await mkdtempP(join(tmpdir(), 'kilo-gate-'));
    candles = readCsv('ETH-USDT-1h.csv', 150);
    const spec: PipelineJobSpec = {
      kind: 'train',
      symbols: ['ETH/USDT'],
      trainingMode: 'single_symbol',
      symbolEncoding: 'one_hot',
      models: ['gbdt'],
      profile: { name: 'quick', epochs: 1, patience: 1, trees: 30, data_days: 150, batch_size: 256, ppo_steps: 256 },
      version: '1.0',
      modelsDir: join(home, 'models'),
      candles: [candlesToColumns('ETH/USDT', candles.slice(0, -200))],
      timeframe: '1h',
      window: 16,
      horizon: 1,
      labelThreshold: 0.002,
      valFraction: 0.15,
      testFraction: 0.15,
      rnnCell: 'gru',
      feeRate: 0.001,
      seed: 1,
    };
    const res = await pool.run(spec);
    champion = res.artifactDir!;
  });
  afterAll(async () => {
    await pool.close();
    await rmP(home, { recursive: true, force: true });
  });

  it('never promotes a broken or worse challenger, and a tie does not beat the margin', async () => {
    const broken = join(home, 'models', 'v1.1', 'ETH-USDT');
    await copyDir(champion, broken);
    await rewriteArtifactFile(broken, (f) => f.startsWith('preprocessor_'), (t) => {
      const j = JSON.parse(t);
      j.mean = j.mean.map(() => null); // NaN does not survive JSON: the scaler is unusable
      return JSON.stringify(j);
    });
    const worse = join(home, 'models', 'v1.2', 'ETH-USDT');
    await copyDir(champion, worse);
    await rewriteArtifactFile(worse, (f) => f.startsWith('gbdt_model_'), (t) => {
      const j = JSON.parse(t);
      const leaves = new Float32Array(new Uint8Array(inflateRawSync(Buffer.from(j.leafValues, 'base64'))).buffer);
      for (let i = 0; i < leaves.length; i++) leaves[i] = -leaves[i];
      j.leafValues = deflateRawSync(new Uint8Array(leaves.buffer)).toString('base64');
      return JSON.stringify(j);
    });
    const same = join(home, 'models', 'v1.3', 'ETH-USDT');
    await copyDir(champion, same);

    const g = await scoreOnSharedWindow({
      symbol: 'ETH/USDT',
      candles,
      artifacts: { champion, broken, worse, same },
      rows: 200,
      horizon: 1,
      labelThreshold: 0.002,
    });
    expect(g.rows).toBe(200);
    expect(Number.isFinite(g.scores.champion)).toBe(true);
    expect(g.scores.broken).toBeNaN();
    expect(g.errors.broken).toMatch(/mean/);
    expect(g.scores.worse).toBeLessThan(g.scores.champion);
    expect(g.scores.same).toBe(g.scores.champion);

    const champ = { version: '1.0', score: g.scores.champion };
    const margin = 0.005;
    expect(decidePromotion({ champion: champ, challenger: { version: '1.1', score: g.scores.broken }, margin, metric: g.metric }).promote).toBe(false);
    expect(decidePromotion({ champion: champ, challenger: { version: '1.2', score: g.scores.worse }, margin, metric: g.metric }).promote).toBe(false);
    expect(decidePromotion({ champion: champ, challenger: { version: '1.3', score: g.scores.same }, margin, metric: g.metric }).promote).toBe(false);
    // And the gate does promote a genuinely better challenger: the champion over the inverted one.
    expect(decidePromotion({ champion: { version: '1.2', score: g.scores.worse }, challenger: champ, margin, metric: g.metric }).promote).toBe(true);
  });
});

/**
 * Champion/challenger on one shared window with real artifacts, scored in the trader's terms
 * (per-candle PnL after costs through the broker rule): a broken challenger (its scaler cannot
 * load) is never promoted; a copy of the champion ties candle for candle and is not promoted (the
 * margin must be beaten); of the champion and its inverted-trees twin at most one direction can
 * pass the paired gate.
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
import { decidePromotion, type PairedPromotionInput } from '../../src/policy/promotion.js';
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

  it('never promotes a broken challenger, a tie does not beat the margin, and at most one of two models beats the other', async () => {
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
    expect(g.metric).toBe('pnl_pct_30d');
    expect(Number.isFinite(g.scores.champion)).toBe(true);
    expect(g.scores.broken).toBeNaN();
    expect(g.errors.broken).toMatch(/mean/);
    expect(g.scores.same).toBe(g.scores.champion);
    expect(Array.from(g.pnl.same)).toEqual(Array.from(g.pnl.champion));
    // Baselines on the same rows, for the record.
    for (const b of ['ta', 'no_trade', 'buy_and_hold']) expect(g.pnl[b]).toHaveLength(200);
    expect(g.summaries.no_trade.total_pct).toBe(0);
    expect(g.scores.worse).not.toBe(g.scores.champion);

    const paired = (champ: string, chal: string, version = '1.1'): PairedPromotionInput => ({
      champion: { version: '1.0', pnl: g.pnl[champ] },
      challenger: g.errors[chal] ? { version, error: g.errors[chal] } : { version, pnl: g.pnl[chal], edge: 'edge' },
      window: g.window,
      candlesPer30d: g.candlesPer30d,
      blockLength: g.blockLength,
      margin: 0.5,
      confidence: 0.9,
      minRows: 100,
    });
    expect(decidePromotion(paired('champion', 'broken')).kind).toBe('failed');
    expect(decidePromotion({ ...paired('champion', 'same'), margin: 0 }).kind).toBe('kept');
    const forward = decidePromotion(paired('champion', 'worse'));
    const backward = decidePromotion(paired('worse', 'champion'));
    expect(forward.kind === 'promoted' && backward.kind === 'promoted').toBe(false);
    expect(forward.challengerScore).toBeCloseTo(g.scores.worse, 9);
    expect(forward.championScore).toBeCloseTo(g.scores.champion, 9);
  });
});

/**
 * The promotion gate through the real worker path (worker-entry runs scoreOnSharedWindow after the
 * challenger is written): the window is the challenger's own test slice, at least gate_days long,
 * both models are replayed through the broker rule on the same candles, and the champion's
 * possibly-seen rows are counted. Seeded simulator candles, so a clean clone runs it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkerPool } from '../../src/training/pool.js';
import { candlesToColumns } from '../../src/training/pipeline-data.js';
import type { PipelineJobSpec } from '../../src/training/protocol.js';
import { SimMarketSource } from '../../src/market/sim-source.js';
import { ManualClock } from '../../src/clock.js';
import type { Candle } from '../../src/market/types.js';
import { decidePromotion, gatePromotionInput } from '../../src/policy/promotion.js';
import { defaultConfig } from '../../src/config/schema.js';

const H = 3_600_000;
const NOW = Date.UTC(2024, 0, 1);

describe('champion/challenger gate window in the worker', () => {
  let home: string;
  let candles: Candle[];
  const pool = new WorkerPool({ maxConcurrent: 1, timeoutMs: 300_000 });
  const spec = (c: Candle[], version: string, over: Partial<PipelineJobSpec> = {}): PipelineJobSpec => ({
    kind: 'train',
    symbols: ['ETH/USDT'],
    trainingMode: 'single_symbol',
    symbolEncoding: 'one_hot',
    models: ['gbdt'],
    profile: { name: 'quick', epochs: 1, patience: 1, trees: 10, data_days: 200, batch_size: 256, ppo_steps: 256 },
    version,
    modelsDir: join(home, 'models'),
    candles: [candlesToColumns('ETH/USDT', c)],
    timeframe: '1h',
    window: 16,
    horizon: 1,
    labelThreshold: 0.002,
    valFraction: 0.15,
    testFraction: 0.1,
    rnnCell: 'gru',
    feeRate: 0.001,
    slippageBps: 5,
    entryThreshold: 0.55,
    walkForwardFolds: 2,
    gateDays: 30,
    seed: 2,
    ...over,
  });
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'kilo-gate-window-'));
    candles = await new SimMarketSource(42, new ManualClock(NOW)).fetchCandles('ETH/USDT', '1h', NOW - 200 * 24 * H, NOW);
  });
  afterAll(async () => {
    await pool.close();
    await rm(home, { recursive: true, force: true });
  });

  it('scores both on the challenger\'s out-of-sample test slice, at least gate_days long', async () => {
    // The champion was trained 5 days earlier; the challenger on everything up to now.
    const champion = await pool.run(spec(candles.slice(0, -5 * 24), '1.0'));
    const res = await pool.run(spec(candles, '1.1', { gate: { championDir: champion.artifactDir!, rows: 336 } }));
    const g = res.gate!;
    const e = res.metadata!.edge!.symbols['ETH/USDT'];
    const testStart = e.folds[e.folds.length - 1].from;
    // testFraction 0.1 of ~4,700 rows would be ~470 rows: the gate asked for 30 days.
    expect(res.metadata!.performance.gbdt!.test.samples).toBe(30 * 24);
    expect(g.window[0]).toBe(testStart);
    expect(g.window[1]).toBe(candles[candles.length - 2].timestamp);
    expect(g.rows).toBeGreaterThanOrEqual(30 * 24);
    for (const name of ['champion', 'challenger', 'ta', 'no_trade', 'buy_and_hold']) expect(g.pnl[name]).toHaveLength(g.rows);
    // The champion's data ended 5 days before now; its own test slice began ~19 days before that: the
    // window's candles before that were in its training or validation rows.
    const champe = champion.metadata!.edge!.symbols['ETH/USDT'];
    const fittedBefore = champe.folds[champe.folds.length - 1].from;
    expect(g.seenRows.champion).toBe(candles.filter((c) => c.timestamp >= testStart && c.timestamp < fittedBefore && c.timestamp <= g.window[1]).length);
    expect(g.seenRows.champion).toBeGreaterThan(0);
    expect(g.seenRows.challenger).toBe(0);
    expect(g.costs).toEqual({ feeRate: 0.001, slippageBps: 5, entryThreshold: 0.55 });

    const config = defaultConfig();
    const d = decidePromotion(gatePromotionInput(g, { symbol: 'ETH/USDT', championVersion: '1.0', challengerVersion: '1.1', challengerEdge: res.metadata!.edge, config }));
    expect(['promoted', 'kept', 'no_edge']).toContain(d.kind);
    expect(d.rows).toBe(g.rows);
    expect(d.challengerScore).toBeCloseTo(g.scores.challenger, 9);
    expect(d.championScore).toBeCloseTo(g.scores.champion, 9);
    if (res.metadata!.edge!.symbols['ETH/USDT'].verdict === 'no_edge') expect(d.kind).toBe('no_edge');
    else expect(d.reason).toMatch(/the champion may have seen \d+ of these candles/);
  });
});

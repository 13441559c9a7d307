/**
 * Issue 17 item 3: a training whose metrics are not finite fails with the reason instead of
 * publishing, and a 1e308 candle that slipped past validation never trains a published model.
 * buildJobSpec refuses absurd candles, so the spec is built by hand here, as if such a candle had
 * got past the source and the engine (a remote job payload, another caller): the real pipeline in
 * a real worker thread fails naming the candle and leaves no artifact folder behind. On these
 * candles the model's own metrics stay finite (the cleaning and the judgement absorb the spike),
 * which is why the worker checks the candles itself and not only the metrics.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { SimMarketSource } from '../../src/market/sim-source.js';
import { WorkerPool, JobFailedError } from '../../src/training/pool.js';
import { candlesToColumns } from '../../src/training/pipeline-data.js';
import { assertFiniteMetrics, NonFiniteMetricsError } from '../../src/training/pipeline-spec.js';
import type { PipelineJobSpec } from '../../src/training/protocol.js';
import type { Candle } from '../../src/market/types.js';

const HOUR = 3_600_000;

async function simCandles(days: number): Promise<Candle[]> {
  const now = Date.UTC(2023, 0, 1);
  const src = new SimMarketSource(42, new ManualClock(now));
  return src.fetchCandles('BTC/USDT', '1h', now - days * 24 * HOUR, now);
}

const spec = (modelsDir: string, candles: Candle[]): PipelineJobSpec => ({
  kind: 'train',
  symbols: ['BTC/USDT'],
  trainingMode: 'single_symbol',
  symbolEncoding: 'one_hot',
  models: ['gbdt'],
  profile: { name: 'quick', epochs: 1, patience: 1, trees: 8, data_days: 90, batch_size: 256, ppo_steps: 256 },
  version: '1.0',
  modelsDir,
  candles: [candlesToColumns('BTC/USDT', candles)],
  timeframe: '1h',
  window: 16,
  horizon: 1,
  labelThreshold: 0.002,
  valFraction: 0.15,
  testFraction: 0.15,
  rnnCell: 'gru',
  feeRate: 0.001,
  walkForwardFolds: 0,
  seed: 1,
});

describe('a training whose metrics are not finite never publishes', () => {
  let home: string;
  const pool = new WorkerPool({ maxConcurrent: 1, timeoutMs: 120_000 });
  afterAll(async () => {
    await pool.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('names the metric in the guard', () => {
    expect(() => assertFiniteMetrics(['BTC/USDT'], { gbdt: { test: { pnl_pct: Number.NaN, accuracy: 0.5 } } })).toThrow(NonFiniteMetricsError);
    expect(() => assertFiniteMetrics(['BTC/USDT'], { gbdt: { test: { pnl_pct: Number.NaN } } })).toThrow(/gbdt\.test\.pnl_pct = NaN/);
    expect(() => assertFiniteMetrics(['BTC/USDT'], { gbdt: { test: { pnl_pct: 1.5, accuracy: 0.5 } } })).not.toThrow();
  });

  it('a 1e308 candle in the test slice fails the job with the reason and writes no artifact', async () => {
    home = await mkdtemp(join(tmpdir(), 'kilo-finite-'));
    const modelsDir = join(home, 'models');
    const good = await simCandles(90);
    // The same job on clean candles publishes: the guard is what stops the bad one.
    const ok = await pool.run({ ...spec(modelsDir, good), version: '0.9' });
    expect(existsSync(ok.artifactDir!)).toBe(true);

    const bad = good.map((c) => ({ ...c }));
    const i = bad.length - 30;
    bad[i] = { ...bad[i], high: 1e308, close: 1e308 };
    const err = await pool.run(spec(modelsDir, bad)).catch((e: Error) => e);
    expect(err).toBeInstanceOf(JobFailedError);
    expect((err as Error).message).toMatch(/BTC\/USDT: candle \d{4}-\d\d-\d\dT[\d:.]+Z is absurd \(high 1e\+308 is absurd.*refusing to train on it/);
    expect(existsSync(join(modelsDir, 'v1.0'))).toBe(false);
    // No half-written temp folder left either.
    expect((await readdir(modelsDir)).filter((f) => f !== 'v0.9')).toEqual([]);
  });
});

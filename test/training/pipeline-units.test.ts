/**
 * A job granted two threads (issue 16) trains its models and its verdict's folds on a helper thread
 * too, and gives the same model: every metric, the verdict, the notes and the artifact's model
 * files are those of the one-thread job, byte for byte. Real helper threads (src/training/unit-worker.ts),
 * real tfjs, the seeded simulator's candles.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimMarketSource } from '../../src/market/sim-source.js';
import { ManualClock } from '../../src/clock.js';
import { candlesToColumns, columnsToCandles } from '../../src/training/pipeline-data.js';
import { trainSymbolModels } from '../../src/training/pipeline.js';
import { claim, describeUnit, jobContext, jobTrainingData, jobUnits, runUnits, type Helper } from '../../src/training/pipeline-units.js';
import type { PipelineJobSpec } from '../../src/training/protocol.js';
import type { JobProgress } from '../../src/engine-api.js';

const H = 3_600_000;
let home: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'kilo-units-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

async function spec(version: string, threads: number): Promise<PipelineJobSpec> {
  const now = Date.UTC(2024, 0, 1);
  const candles = await new SimMarketSource(42, new ManualClock(now)).fetchCandles('BTC/USDT', '1h', now - 160 * 24 * H, now);
  return {
    kind: 'train',
    symbols: ['BTC/USDT'],
    trainingMode: 'single_symbol',
    symbolEncoding: 'one_hot',
    models: ['gbdt', 'gru', 'ppo'],
    profile: { name: 'quick', epochs: 2, patience: 1, trees: 12, data_days: 160, batch_size: 256, ppo_steps: 512 },
    version,
    modelsDir: join(home, 'models'),
    candles: [candlesToColumns('BTC/USDT', candles)],
    timeframe: '1h',
    window: 16,
    horizon: 1,
    labelThreshold: 0.002,
    valFraction: 0.15,
    testFraction: 0.15,
    rnnCell: 'gru',
    feeRate: 0.001,
    walkForwardFolds: 4,
    seed: 3,
    threads,
  };
}

describe('units of a training job', () => {
  it('one thread keeps the pipeline order; two take the longest first', () => {
    expect(jobUnits(['gbdt', 'gru', 'ppo'], 3, 1).map((u) => (u.kind === 'stage' ? u.model : `fold${u.index}`))).toEqual(['gbdt', 'gru', 'ppo', 'fold0', 'fold1', 'fold2']);
    expect(jobUnits(['gbdt', 'gru', 'ppo'], 3, 2).map((u) => (u.kind === 'stage' ? u.model : `fold${u.index}`))).toEqual(['gru', 'ppo', 'gbdt', 'fold2', 'fold1', 'fold0']);
    expect(jobUnits(['gbdt'], 0, 2)).toEqual([{ kind: 'stage', model: 'gbdt' }]);
  });

  it('two threads train the same model as one: metrics, verdict, notes and model files', async () => {
    const progress: JobProgress[] = [];
    const logs: string[] = [];
    const fixed = () => Date.UTC(2024, 0, 2);
    const one = await trainSymbolModels(await spec('1.0', 1), { now: fixed });
    const two = await trainSymbolModels(await spec('2.0', 2), { now: fixed, onProgress: (p) => progress.push(p), onLog: (_, m) => logs.push(m) });
    expect(logs.some((m) => /trained on 2 threads/.test(m))).toBe(true);
    const m1 = one.metadata!;
    const m2 = two.metadata!;
    expect(m2.performance).toEqual(m1.performance);
    const { duration_s: d1, ...e1 } = m1.edge!;
    const { duration_s: d2, ...e2 } = m2.edge!;
    expect(d1).toBeGreaterThan(0);
    expect(d2).toBeGreaterThan(0);
    expect(e2).toEqual(e1);
    const notes = (r: typeof one) => r.notes.filter((n) => !/windows\/s|verdict: /.test(n));
    expect(notes(two)).toEqual(notes(one));
    // The artifact's model files (written by the job's thread from what the helper sent) are identical.
    for (const f of m1.files) {
      const g = m2.files.find((x) => x.type === f.type && x.file.split('.').pop() === f.file.split('.').pop())!;
      expect(g, f.file).toBeDefined();
      if (f.type === 'feature_metadata') continue;
      const a = readFileSync(join(two.artifactDir!, g.file), f.file.endsWith('.json') ? 'utf8' : null);
      const b = readFileSync(join(one.artifactDir!, f.file), f.file.endsWith('.json') ? 'utf8' : null);
      // tfjs names layers from a per-thread counter (sequential_1, sequential_13): names aside, equal.
      const unnamed = (x: string | Buffer): string | Buffer => (typeof x === 'string' ? x.replace(/([A-Za-z_])\d+(?=\\?["/])/g, '$1') : x);
      expect(unnamed(a), f.file).toEqual(unnamed(b));
    }
    // Progress from both threads: every model and the verdict, never backwards past 1.
    expect(new Set(progress.map((p) => p.phase))).toEqual(new Set(['features', 'gbdt', 'gru', 'ppo', 'verdict', 'evaluate', 'save']));
    expect(progress.every((p) => p.fraction >= 0 && p.fraction <= 1)).toBe(true);
    expect(progress.at(-1)!.fraction).toBe(1);
  }, 240_000);

  it('a helper that dies holding a unit costs nothing: the job runs the unit itself, same model', async () => {
    const s = await spec('4.0', 1);
    const symbols = [{ symbol: 'BTC/USDT', candles: columnsToCandles(s.candles[0]) }];
    const ctx = jobContext(s, symbols, jobTrainingData(s, symbols, undefined));
    const units = jobUnits(['gbdt'], ctx.plans.length, 2);
    expect(units.length).toBeGreaterThan(1);
    // A helper that claims the first unit and dies before it returns anything.
    let resolveDone!: () => void;
    const dead: Helper = {
      start: (_, counter) => {
        claim(new Int32Array(counter));
        resolveDone();
      },
      done: new Promise<void>((r) => (resolveDone = r)),
      stop: async () => undefined,
    };
    const warnings: string[] = [];
    const hooks = { onProgress: () => undefined, onLog: () => undefined, onWarn: (m: string) => warnings.push(m) };
    const withDead = await runUnits(ctx, units, [dead], hooks, [], []);
    const alone = await runUnits(ctx, units, [], hooks, [], []);
    expect(warnings).toEqual([`unit ${describeUnit(units[0])} was left unfinished by a helper thread; running it on the job's thread`]);
    expect(withDead.map((r) => (r.kind === 'stage' ? Array.from(r.stage.testProbs) : r.judgement))).toEqual(alone.map((r) => (r.kind === 'stage' ? Array.from(r.stage.testProbs) : r.judgement)));
  }, 240_000);

  it('a unit that fails on a helper fails the job with its error', async () => {
    const s = await spec('6.0', 1);
    const symbols = [{ symbol: 'BTC/USDT', candles: columnsToCandles(s.candles[0]) }];
    const ctx = jobContext(s, symbols, jobTrainingData(s, symbols, undefined));
    const failures: string[] = [];
    const failing: Helper = {
      start: (_, counter) => {
        claim(new Int32Array(counter));
        failures.push('gru: out of memory');
      },
      done: Promise.resolve(),
      stop: async () => undefined,
    };
    await expect(runUnits(ctx, jobUnits(['gbdt', 'gru'], 0, 2), [failing], { onProgress: () => undefined, onLog: () => undefined, onWarn: () => undefined }, [], failures)).rejects.toThrow('gru: out of memory');
  }, 240_000);

  it('a cancelled two-thread job stops its helper and fails as cancelled', async () => {
    const controller = new AbortController();
    const job = trainSymbolModels(await spec('3.0', 2), {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === 'gru' && p.epoch >= 1) controller.abort();
      },
    });
    await expect(job).rejects.toThrow(/cancelled/);
  }, 240_000);
});

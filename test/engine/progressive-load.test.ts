/**
 * Progressive loading: a symbol's trees serve before its recurrent net has loaded. The artifact's
 * networks are held back by a deferred promise (PredictorCache's `load.beforeNetworks`): the
 * predictor is handed out with its trees alone and its signal says so ("trees only, rnn loading",
 * only a gbdt contribution); the edge gate judges that signal by the trees' own walk-forward verdict
 * (here: the trees have an edge, the ensemble has none), or as no edge when the artifact has no
 * figures for the trees. When the deferred resolves, the same predictor serves the full ensemble,
 * judged by the ensemble's verdict. Networks that fail after the trees served take the artifact
 * out of service; a predictor released while its networks load never keeps them.
 * A real artifact (GRU + trees, trained in a worker on simulator candles) and a real registry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { defaultConfig, type Config } from '../../src/config/schema.js';
import { PredictorCache } from '../../src/engine/predictors.js';
import { signalsFor, type SignalDeps } from '../../src/engine/signals.js';
import { edgeViewFor } from '../../src/engine/edge-gate.js';
import { SimMarketSource } from '../../src/market/sim-source.js';
import { ModelRegistry, registryPaths } from '../../src/registry/registry.js';
import { WorkerPool } from '../../src/training/pool.js';
import { candlesToColumns } from '../../src/training/pipeline-data.js';
import type { PipelineJobSpec } from '../../src/training/protocol.js';
import type { Candle } from '../../src/market/types.js';
import type { EdgeReport } from '../../src/evaluation/edge.js';
import { copyDir, rewriteArtifactFile } from './helpers.js';
import { edgeReport, strat } from '../helpers/edge-report.js';

const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 1);
const SYM = 'BTC/USDT';
const TINY = { name: 'quick' as const, epochs: 1, patience: 1, trees: 6, data_days: 60, batch_size: 256, ppo_steps: 256 };

type CacheLog = ConstructorParameters<typeof PredictorCache>[0];

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** The trees have an edge, the ensemble (trees + GRU) has none, and neither has the TA rule. */
const treesOnlyEdge = (symbol: string): EdgeReport =>
  edgeReport(symbol, { gbdt: strat(12, 3, 1.2, 0.8), gru: strat(-5, -1, -6, -20), ensemble: strat(-2.3, -0.5, -4.2, -20), ta: strat(-3, -0.7, -5) });

function recordingLog(lines: string[]): CacheLog {
  return { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(`WARN ${m}`), error: (m: string) => lines.push(`ERROR ${m}`) } as unknown as CacheLog;
}

describe('progressive loading: the trees serve while the recurrent net loads', () => {
  let home: string;
  let trained: string;
  let candles: Candle[];

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'kilo-progressive-'));
    const src = new SimMarketSource(7, new ManualClock(START), { createdAt: START });
    candles = await src.fetchCandles(SYM, '1h', START - 60 * DAY, START);
    const pool = new WorkerPool({ maxConcurrent: 1, timeoutMs: 300_000 });
    try {
      const spec: PipelineJobSpec = {
        kind: 'train', symbols: [SYM], trainingMode: 'single_symbol', symbolEncoding: 'one_hot', models: ['gru', 'gbdt'],
        profile: TINY, version: '1.0', modelsDir: join(home, 'trained'), candles: [candlesToColumns(SYM, candles)], timeframe: '1h',
        window: 16, horizon: 1, labelThreshold: 0.002, valFraction: 0.15, testFraction: 0.15, rnnCell: 'gru', feeRate: 0.001, seed: 1,
      };
      trained = (await pool.run(spec)).artifactDir!;
    } finally {
      await pool.close();
    }
  }, 600_000);
  afterAll(async () => {
    if (home) await rm(home, { recursive: true, force: true });
  });

  /** A models/ folder holding a copy of the trained artifact with `edge` as its walk-forward verdict. */
  async function modelsWith(name: string, edge: EdgeReport | null): Promise<{ modelsHome: string; dir: string }> {
    const modelsHome = join(home, name);
    const dir = join(registryPaths(modelsHome).modelsDir, 'v1.0', 'BTC-USDT');
    await copyDir(trained, dir);
    if (edge) {
      await rewriteArtifactFile(dir, (f) => f === 'metadata.json', (text) => `${JSON.stringify({ ...JSON.parse(text), edge }, null, 2)}\n`);
    }
    return { modelsHome, dir };
  }

  it('hands out the predictor with its trees while the networks are held back; the same predictor serves the full ensemble after', async () => {
    const { dir } = await modelsWith('cache', null);
    const gate = deferred();
    let asked = 0;
    const lines: string[] = [];
    const cache = new PredictorCache(recordingLog(lines), { load: { beforeNetworks: () => (asked++, gate.promise) } });
    // Resolves although the networks are held back (without progressive loading this never settles).
    const p = await cache.load(SYM, dir);
    expect(asked).toBe(1);
    expect(p.complete).toBe(false);
    expect(p.artifact.pending).toEqual(['gru']);
    expect(p.artifact.rnn).toBeUndefined();
    const partial = p.predict(SYM, candles);
    expect(partial.partial).toEqual({ served: ['gbdt'], loading: ['gru'] });
    expect(Object.keys(partial.contributions)).toEqual(['gbdt']);
    expect(partial.models.gru).toBeUndefined();
    expect(lines).toEqual([`${SYM}: loaded model 1.0's trees, serving from them while its gru loads (${dir})`]);

    gate.resolve();
    await p.artifact.networks;
    expect(await cache.load(SYM, dir)).toBe(p);
    expect(p.complete).toBe(true);
    const full = p.predict(SYM, candles);
    expect(full.partial).toBeUndefined();
    expect(Object.keys(full.contributions).sort()).toEqual(['gbdt', 'gru']);
    expect(full.models.gbdt).toEqual(partial.models.gbdt);
    expect(lines.at(-1)).toBe(`${SYM}: loaded model 1.0 (${dir})`);
    expect(lines.filter((l) => l.startsWith('WARN') || l.startsWith('ERROR'))).toEqual([]);
    cache.clear();
  });

  it('progressive: false (a replay) hands the predictor out only once its networks have loaded', async () => {
    const { dir } = await modelsWith('complete', null);
    const gate = deferred();
    const cache = new PredictorCache(recordingLog([]), { progressive: false, load: { beforeNetworks: () => gate.promise } });
    let got: Awaited<ReturnType<PredictorCache['load']>> | null = null;
    const loading = cache.load(SYM, dir).then((p) => (got = p));
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(got).toBeNull();
    gate.resolve();
    const p = await loading;
    expect(p.complete).toBe(true);
    const full = p.predict(SYM, candles);
    expect(full.partial).toBeUndefined();
    expect(Object.keys(full.contributions).sort()).toEqual(['gbdt', 'gru']);
    cache.clear();
  });

  it("a round's signal: trees only and judged by the trees' verdict while the rnn loads, then the ensemble judged by its own", async () => {
    const { modelsHome } = await modelsWith('signals', treesOnlyEdge(SYM));
    const registry = new ModelRegistry(registryPaths(modelsHome));
    await registry.refresh();
    const config: Config = defaultConfig();
    config.data.source = 'sim';
    config.universe.symbols = [SYM];
    config.model.models = ['gru', 'gbdt'];
    config.model.window = 16;
    config.model.require_edge = true;
    const gate = deferred();
    const cache = new PredictorCache(recordingLog([]), { load: { beforeNetworks: () => gate.promise } });
    const deps = stubDeps(config, registry, cache, candles);
    const [first] = await signalsFor(deps, [SYM]);
    expect(first.modelVersion).toBe('1.0');
    expect(first.reason).toBe('trees only, rnn loading');
    expect(first.fallback).toBeUndefined();
    expect(Object.keys(first.contributions)).toEqual(['gbdt']);
    expect(first.edge?.kind).toBe('model');
    expect(first.edge?.verdict).toBe('edge');
    expect(first.edge?.figures?.subject).toBe('gbdt');
    expect(first.edge?.reason).toMatch(/^trees only, rnn loading, judged by the gbdt verdict: /);
    expect(first.traded).toBeUndefined();

    gate.resolve();
    const [p] = [await cache.load(SYM, registry.servingArtifactFor(config, SYM, START)!.artifact.dir)];
    await p.artifact.networks;
    const [second] = await signalsFor(deps, [SYM]);
    expect(second.reason).toBeUndefined();
    expect(Object.keys(second.contributions).sort()).toEqual(['gbdt', 'gru']);
    expect(second.edge?.figures?.subject).toBe('ensemble');
    expect(second.edge?.verdict).toBe('no_edge');
    expect(second.edge?.kind).toBe('hold');
    expect(second.traded?.via).toBe('hold');
    cache.clear();
  });

  it('a partial signal from an artifact without figures for the trees is judged as no edge', () => {
    const config = defaultConfig();
    config.model.require_edge = true;
    const ensembleOnly = edgeReport(SYM, { ensemble: strat(12, 3, 1.2, 0.8), ta: strat(-3, -0.7, -5) });
    expect(edgeViewFor(ensembleOnly, '1.0', config, SYM).kind).toBe('model');
    const partial = edgeViewFor(ensembleOnly, '1.0', config, SYM, null, { subject: 'gbdt', note: 'trees only, rnn loading' });
    expect(partial.verdict).toBe('no_edge');
    expect(partial.kind).toBe('hold');
    expect(partial.reason).toMatch(/gbdt was not judged/);
    // With the TA rule showing an edge, the partial signal runs on the TA rule like any model without one.
    const taEdge = edgeReport(SYM, { ensemble: strat(12, 3, 1.2, 0.8), ta: strat(9, 2, 1) });
    expect(edgeViewFor(taEdge, '1.0', config, SYM, null, { subject: 'gbdt', note: 'trees only, rnn loading' }).kind).toBe('ta');
  });

  it('networks that fail after the trees served take the artifact out of service at the next request', async () => {
    const { dir } = await modelsWith('failing', null);
    const gate = deferred();
    const cache = new PredictorCache(recordingLog([]), { load: { beforeNetworks: () => gate.promise } });
    const p = await cache.load(SYM, dir);
    expect(p.predict(SYM, candles).partial?.served).toEqual(['gbdt']);
    gate.reject(new Error('gru_model weights unreadable'));
    await expect(p.artifact.networks).rejects.toThrow('gru_model weights unreadable');
    await expect(cache.load(SYM, dir)).rejects.toThrow('gru_model weights unreadable');
    expect(cache.loaded()).toEqual([]);
  });

  it('a predictor released while its networks load never keeps them', async () => {
    const { dir } = await modelsWith('released', null);
    const gate = deferred();
    const cache = new PredictorCache(recordingLog([]), { load: { beforeNetworks: () => gate.promise } });
    const p = await cache.load(SYM, dir);
    cache.invalidate(SYM);
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    gate.resolve();
    await p.artifact.networks;
    expect(p.artifact.rnn).toBeUndefined();
    expect(p.artifact.pending).toEqual([]);
  });
});

/** The round's collaborators around the real registry and cache: a feed of fixed candles, a flat broker. */
function stubDeps(config: Config, registry: ModelRegistry, predictors: PredictorCache, candles: Candle[]): SignalDeps {
  const noop = () => undefined;
  return {
    registry,
    predictors,
    feed: { candles: () => candles, last: () => candles.at(-1) } as unknown as SignalDeps['feed'],
    broker: { position: () => null, equity: () => 10_000, cash: 10_000, positionQty: () => 0 } as unknown as SignalDeps['broker'],
    state: { effectiveConfig: () => config, judgements: () => new Map(), countUse: noop, edgeOverride: () => null } as unknown as SignalDeps['state'],
    marketNow: () => START,
    logger: { info: noop, warn: noop, error: noop, condition: noop, endCondition: noop } as unknown as SignalDeps['logger'],
    onBackend: noop,
  };
}

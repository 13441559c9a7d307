/**
 * The engine's one training path (src/engine/training-run.ts):
 *  - the promotion decision from the worker's gate scores is the paired per-candle PnL gate over
 *    auto_training.gate_days (constructed per-candle vectors where the answer is known): a clear
 *    improvement promotes with both scores and the bound in the reason, noise keeps the champion,
 *    a challenger without an edge is never promoted, a pin wins, --force-serve says so;
 *  - in a running engine on real candles, a new symbol trains with the full profile, an automatic
 *    retrain with the retrain recipe over training.retrain_days, an operator's on-demand training
 *    of a quick_train asset with the quick profile; metadata.json records which; the retrain is
 *    judged by the paired gate on a window of gate_days (the legacy accuracy gate is gone).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig, type Config } from '../../src/config/schema.js';
import { decide } from '../../src/engine/training-run.js';
import type { GateScores } from '../../src/training/gate.js';
import type { TrainResult } from '../../src/training/protocol.js';
import type { ServingArtifact } from '../../src/registry/registry.js';
import type { ModelMetadata } from '../../src/models/metadata.js';
import type { EdgeReport } from '../../src/evaluation/edge.js';
import { chooseRecipe } from '../../src/policy/recipe.js';
import { resolveSignalRequest } from '../../src/assets/signal-gate.js';
import { mulberry32 } from '../../src/util/random.js';
import { ManualClock } from '../../src/clock.js';
import { createEngine } from '../../src/engine.js';
import { clearEdge, noEdgeTaEdge } from '../helpers/edge-report.js';
import { hasData, testConfig, waitFor } from './helpers.js';

const SYM = 'BTC/USDT';
const ROWS = 30 * 24;

const gateOf = (champion: number[], challenger: number[]): GateScores => ({
  metric: 'pnl_pct_30d',
  rows: challenger.length,
  window: [Date.UTC(2023, 5, 1), Date.UTC(2023, 5, 1) + (challenger.length - 1) * 3_600_000],
  scores: {},
  errors: {},
  pnl: { champion: Float64Array.from(champion), challenger: Float64Array.from(challenger) },
  summaries: {},
  seenRows: { champion: 0 },
  candlesPer30d: 720,
  blockLength: 24,
  costs: { feeRate: 0.001, slippageBps: 5, entryThreshold: 0.55 },
});
const result = (gate: GateScores | undefined, edge: EdgeReport | undefined): TrainResult => ({
  kind: 'train',
  artifactDir: '/nowhere',
  metadata: { edge } as unknown as ModelMetadata,
  durationS: 1,
  notes: [],
  ...(gate ? { gate } : {}),
});
const champ = (via: ServingArtifact['via'] = 'promoted'): ServingArtifact => ({ artifact: { version: '1.0', dir: '/nowhere/v1.0' }, via, reason: 'test' }) as unknown as ServingArtifact;
const recipe = chooseRecipe({ trigger: 'retrain', tier: 'pre_trained' }, defaultConfig());

describe('the promotion decision of a training (paired per-candle PnL gate)', () => {
  const config = defaultConfig();
  const rng = mulberry32(7);
  const noise = (sd: number): number[] => Array.from({ length: ROWS }, () => (rng() - 0.5) * 2 * sd);
  const base = noise(0.004);
  const run = (challenger: number[], edge: EdgeReport | undefined, o: { via?: ServingArtifact['via']; forceServe?: boolean; cfg?: Config } = {}) =>
    decide(o.cfg ?? config, { symbol: SYM, champion: champ(o.via), version: '1.1', result: result(gateOf(base, challenger), edge), at: 1, recipe, forceServe: o.forceServe });

  it('a clear improvement with an edge is promoted; the reason shows both scores and the bound', () => {
    const { decision, gate } = run(base.map((x) => x + 0.0005), clearEdge(SYM));
    expect(decision.kind).toBe('promoted');
    expect(decision).toMatchObject({ championVersion: '1.0', challengerVersion: '1.1', rows: ROWS, metric: 'pnl_pct_30d' });
    expect(decision.lowerBound!).toBeGreaterThan(config.auto_training.promotion_margin);
    expect(decision.challengerScore! - decision.championScore!).toBeGreaterThan(30); // ~+43 %/30d
    expect(decision.reason).toMatch(/challenger v1\.1 \+[\d.]+ %\/30d vs champion v1\.0 [+-][\d.]+ %\/30d on 720 shared candles .*: improvement 90 % bound \+[\d.]+ %\/30d > margin \+0\.50 %\/30d: promoted/);
    expect(gate?.promote).toBe(true);
  });

  it('noise does not promote; a challenger without an edge is never promoted, however much better it scored', () => {
    expect(run(base.map((x, i) => x + (i % 2 ? 0.0001 : -0.0001)), clearEdge(SYM)).decision.kind).toBe('kept');
    const better = base.map((x) => x + 0.002);
    const noEdge = run(better, noEdgeTaEdge(SYM)).decision;
    expect(noEdge.kind).toBe('no_edge');
    expect(noEdge.reason).toMatch(/has no edge .*never promoted; champion v1\.0 .* stays/);
    // No verdict at all (walk_forward_folds 0) is no evidence either.
    expect(run(better, undefined).decision.kind).toBe('no_edge');
    // require_edge off: the paired comparison alone decides.
    const off = defaultConfig();
    off.model.require_edge = false;
    expect(run(better, undefined, { cfg: off }).decision.kind).toBe('promoted');
  });

  it('a window shorter than gate_days decides nothing; a pin wins; --force-serve serves and says what the gate said', () => {
    const long = defaultConfig();
    long.auto_training.gate_days = 60;
    const short = run(base.map((x) => x + 0.002), clearEdge(SYM), { cfg: long }).decision;
    expect(short.kind).toBe('kept');
    expect(short.reason).toMatch(/only 720 shared candles .*< 1440 needed, auto_training\.gate_days/);
    expect(run(base.map((x) => x + 0.002), clearEdge(SYM), { via: 'pinned' }).decision.kind).toBe('pinned');
    const forced = run(base, noEdgeTaEdge(SYM), { forceServe: true }).decision;
    expect(forced).toMatchObject({ kind: 'promoted', forced: true });
    expect(forced.reason).toMatch(/^served by the operator \(--force-serve\) although the gate said no_edge: /);
    // A worker that did not score the challenger on the window: failed, the champion stays.
    expect(decide(config, { symbol: SYM, champion: champ(), version: '1.1', result: result(undefined, clearEdge(SYM)), at: 1, recipe }).decision.kind).toBe('failed');
  });

  it("a first model's reason tells the truth about its verdict, also with the edge gate off", () => {
    const first = (edge: EdgeReport | undefined, cfg: Config = config) => decide(cfg, { symbol: SYM, champion: null, version: '1.0', result: result(undefined, edge), at: 1, recipe }).decision;
    expect(first(clearEdge(SYM)).reason).toMatch(/: it shows an edge$/);
    expect(first(noEdgeTaEdge(SYM)).reason).toMatch(/: no edge: it serves but the edge gate keeps it from trading \(TA rule\)$/);
    const off = defaultConfig();
    off.model.require_edge = false;
    // It once said "it shows an edge" here, for a model whose verdict was no edge.
    expect(first(noEdgeTaEdge(SYM), off).reason).toMatch(/: no edge, and it trades anyway: model\.require_edge is off$/);
    expect(first(undefined, off).reason).toMatch(/: no verdict, and it trades anyway: model\.require_edge is off$/);
    expect(first(clearEdge(SYM), off).reason).toMatch(/: it shows an edge$/);
  });
});

describe('recipes (chooseRecipe)', () => {
  it('new symbol: full over the history target; retrain: the retrain recipe; quick only on demand or when asked; auto_profile quick: everything quick', () => {
    const c = defaultConfig();
    expect(chooseRecipe({ trigger: 'new_symbol', tier: 'quick_train' }, c)).toMatchObject({ name: 'full', days: 730, profile: { epochs: 50, patience: 10 } });
    expect(chooseRecipe({ trigger: 'retrain', tier: 'quick_train' }, c)).toMatchObject({ name: 'retrain', days: 180, profile: { name: 'retrain', epochs: 50, patience: 10, data_days: 180 } });
    expect(chooseRecipe({ trigger: 'operator', tier: 'quick_train' }, c).name).toBe('quick');
    expect(chooseRecipe({ trigger: 'operator', tier: 'pre_trained' }, c).name).toBe('full');
    expect(chooseRecipe({ trigger: 'retrain', tier: 'pre_trained', quick: true }, c).name).toBe('quick');
    expect(chooseRecipe({ trigger: 'operator', tier: 'quick_train', quick: false }, c).name).toBe('full');
    c.training.auto_profile = 'quick';
    for (const trigger of ['new_symbol', 'retrain', 'operator'] as const) expect(chooseRecipe({ trigger, tier: 'pre_trained' }, c).name).toBe('quick');
  });

  it("kilo signal's estimate is for the recipe an on-demand training of that symbol runs", () => {
    const c = defaultConfig();
    const past = [{ durationS: 100, profile: 'quick' as const }];
    const ask = (tier: 'quick_train' | 'unknown', cfg: Config) =>
      resolveSignalRequest({ symbol: 'SOL/USDT', tier, covered: new Set(), pastTrainings: past, taAvailable: true, config: cfg });
    // quick: 20 epochs x 365 days; full: 50 x 730 = 5x the work.
    expect(ask('quick_train', c)).toMatchObject({ estimated_time_s: 100, reason: expect.stringMatching(/quick training/) });
    expect(ask('unknown', c)).toMatchObject({ estimated_time_s: 500, reason: expect.stringMatching(/full training/) });
    c.training.auto_profile = 'quick';
    expect(ask('unknown', c)).toMatchObject({ estimated_time_s: 100 });
  });
});

describe.skipIf(!hasData)('recipes and the gate in a running engine', () => {
  let home: string;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'kilo-recipes-'));
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('new symbol -> full, automatic retrain -> retrain recipe judged by the paired gate, operator on demand -> quick; metadata.json says which', async () => {
    const tiny = { epochs: 1, patience: 1, trees: 6, batch_size: 256, ppo_steps: 256 };
    const config = testConfig((c) => {
      c.universe.symbols = [SYM];
      c.training.auto_profile = 'designed';
      c.training.full = { ...tiny, data_days: 150 };
      c.training.quick = { ...tiny, data_days: 100 };
      c.training.retrain_days = 120;
      c.training.walk_forward_folds = 0;
      c.auto_training.gate_days = 10;
      c.model.require_edge = true;
    });
    const clock = new ManualClock(Date.UTC(2023, 8, 1));
    const engine = await createEngine({ home, config, configPath: join(home, 'config.yaml'), marketClock: clock, clock });
    await engine.start({ loop: false });
    const meta = async (v: string) => JSON.parse(await readFile(join(home, 'models', `v${v}`, 'BTC-USDT', 'metadata.json'), 'utf8')) as ModelMetadata;
    const settle = async (): Promise<void> => {
      await engine.runRound();
      await engine.idle();
      clock.advance(3_600_000);
      await engine.runRound();
    };
    try {
      await settle();
      const first = await meta('1.0');
      expect(first.profile).toBe('full');
      expect(first.training_days).toBeGreaterThan(140);

      await engine.queue.add(SYM, { priority: 3, trigger: 'retrain', reason: 'retrain: test' });
      await settle();
      await waitFor(() => engine.promotions.list().some((d) => d.challengerVersion === '1.1'), 'the retrain decision');
      const retrain = await meta('1.1');
      expect(retrain.profile).toBe('retrain');
      expect(retrain.training_days).toBeGreaterThan(110);
      expect(retrain.training_days).toBeLessThan(125);
      const d = engine.promotions.list().find((x) => x.challengerVersion === '1.1')!;
      // The paired gate in the trader's terms on at least gate_days of shared candles; no verdict -> never promoted.
      expect(d).toMatchObject({ kind: 'no_edge', championVersion: '1.0', metric: 'pnl_pct_30d' });
      expect(d.rows!).toBeGreaterThanOrEqual(10 * 24);
      expect(Number.isFinite(d.championScore) && Number.isFinite(d.challengerScore)).toBe(true);
      expect(d.reason).toMatch(/challenger v1\.1 [+-][\d.]+ %\/30d has no walk-forward verdict: never promoted; champion v1\.0 [+-][\d.]+ %\/30d stays/);
      expect(engine.getSnapshot().symbols[0].modelVersion).toBe('1.0');

      const r = await engine.train({ symbol: SYM, reason: 'operator test' });
      expect(r.ok).toBe(true);
      await settle();
      await waitFor(() => engine.promotions.list().some((x) => x.challengerVersion === '1.2'), 'the operator training');
      expect((await meta('1.2')).profile).toBe('quick');
    } finally {
      await engine.stop();
    }
  }, 300_000);
});

/**
 * Shadow challenger (auto_training.shadow_days):
 *  - the pure policy (src/policy/shadow.ts) on constructed per-candle PnL vectors: ahead by more
 *    than the pro-rated margin -> promoted, behind or level -> dropped ('shadow_failed'), running
 *    until its days are over, unscored at the end -> dropped;
 *  - the records: a 'shadow' decision leaves the champion serving (serving rebuild, history file),
 *    an engine-state.json written before shadows loads;
 *  - a real engine on the CSV candles with shadow_days 1: a challenger the gate promoted does not
 *    serve during its shadow (the champion does, the symbol row says so, a restart keeps it), and
 *    after one day of market time it serves only when its PnL after costs over those candles,
 *    recomputed here through the gate's judgement, beat the champion's.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../../src/config/schema.js';
import { decideShadow, shadowLabel, type ShadowState } from '../../src/policy/shadow.js';
import { servingFromDecisions } from '../../src/registry/serving.js';
import { PromotionHistory } from '../../src/trading/promotion-history.js';
import { emptyState, parseState } from '../../src/engine/state-file.js';
import { ManualClock } from '../../src/clock.js';
import { createEngine, type Engine } from '../../src/engine.js';
import { scoreOnSharedWindow } from '../../src/training/gate.js';
import { CsvMarketSource } from '../../src/market/csv-source.js';
import { DATA, hasData, testConfig, waitFor } from './helpers.js';

const SYM = 'BTC/USDT';
const H = 3_600_000;
const DAY = 24 * H;
const T0 = Date.UTC(2023, 5, 1);

const shadow = (over: Partial<ShadowState> = {}): ShadowState => ({
  champion: '1.0',
  challenger: '1.1',
  startedAt: T0,
  until: T0 + 3 * DAY,
  gateReason: 'gate passed',
  score: null,
  ...over,
});
const flat = (n: number, x: number): number[] => Array.from({ length: n }, () => x);

describe('decideShadow (pure)', () => {
  const config = defaultConfig();
  config.auto_training.promotion_margin = 0.6; // % per 30 days: 0.06 % over a 3-day shadow

  it('ahead by more than the pro-rated margin at the end -> promoted; behind -> dropped; both scores in the reason', () => {
    const champ = flat(72, 0);
    const ahead = decideShadow(shadow(), { champion: champ, challenger: flat(72, 0.0001), window: null }, config, T0 + 3 * DAY);
    expect(ahead.kind).toBe('promoted');
    expect(ahead.aheadPct!).toBeCloseTo((Math.exp(72 * Math.log1p(0.0001)) - 1) * 100, 9);
    expect(ahead.reason).toMatch(/PnL after costs \+0\.72 % vs \+0\.00 %, ahead by \+0\.72 % > margin \+0\.06 %/);

    const behind = decideShadow(shadow(), { champion: flat(72, 0.0001), challenger: champ, window: null }, config, T0 + 3 * DAY);
    expect(behind.kind).toBe('shadow_failed');
    expect(behind.aheadPct!).toBeLessThan(0);
    expect(behind.reason).toMatch(/did not stay ahead, dropped; champion v1\.0 stays/);
  });

  it('ahead but not by the margin, or level, is dropped; the exact margin is not enough', () => {
    // 0.05 % over the window < 0.06 %.
    const small = decideShadow(shadow(), { champion: flat(72, 0), challenger: [0.0005, ...flat(71, 0)], window: null }, config, T0 + 3 * DAY);
    expect(small.kind).toBe('shadow_failed');
    const level = decideShadow(shadow(), { champion: flat(72, 0.0002), challenger: flat(72, 0.0002), window: null }, { auto_training: { ...config.auto_training, promotion_margin: 0 } }, T0 + 3 * DAY);
    expect(level.kind).toBe('shadow_failed');
    const exact = decideShadow(shadow(), { champion: flat(72, 0), challenger: [0.0006, ...flat(71, 0)], window: null }, config, T0 + 3 * DAY);
    expect(exact.aheadPct!).toBeCloseTo(0.06, 9);
    expect(exact.kind).toBe('shadow_failed');
  });

  it('before its days are over it keeps running whatever the scores; unscored at the end it is dropped', () => {
    const running = decideShadow(shadow(), { champion: flat(10, 0), challenger: flat(10, 0.01), window: null }, config, T0 + DAY);
    expect(running.kind).toBe('running');
    expect(running.aheadPct!).toBeGreaterThan(10);
    expect(decideShadow(shadow(), { champion: flat(10, 0.01), challenger: flat(10, 0), window: null }, config, T0 + DAY).kind).toBe('running');
    expect(decideShadow(shadow(), { error: 'v1.1 is no longer on disk' }, config, T0 + DAY).kind).toBe('running');
    const gone = decideShadow(shadow(), { error: 'v1.1 is no longer on disk' }, config, T0 + 3 * DAY);
    expect(gone).toMatchObject({ kind: 'shadow_failed', aheadPct: null });
    expect(gone.reason).toMatch(/not scored \(v1\.1 is no longer on disk\): dropped/);
    expect(decideShadow(shadow(), null, config, T0 + 3 * DAY).kind).toBe('shadow_failed');
  });

  it('the label says the challenger, the end and how far ahead', () => {
    expect(shadowLabel(shadow({ challenger: '1.3' }))).toBe('shadow v1.3 until 2023-06-04 00:00 UTC, not scored yet');
    expect(shadowLabel(shadow({ score: { at: T0, rows: 5, champion: 1, challenger: 1.42 } }))).toBe('shadow v1.1 until 2023-06-04 00:00 UTC, ahead by +0.42 %');
  });
});

describe('shadow decisions in the records', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kilo-shadow-rec-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a shadow start leaves the champion serving, a shadow_failed keeps it, the promotion after a shadow serves the challenger', async () => {
    const base = { symbol: SYM, championScore: null, challengerScore: null, reason: 'r' };
    const h = await PromotionHistory.open(join(dir, 'promotions.json'));
    await h.add({ ...base, at: 1, kind: 'promoted', championVersion: null, challengerVersion: '1.0' });
    await h.add({ ...base, at: 2, kind: 'shadow', championVersion: '1.0', challengerVersion: '1.1' });
    const reread = await PromotionHistory.open(join(dir, 'promotions.json'));
    expect(reread.list(SYM).map((d) => d.kind)).toEqual(['shadow', 'promoted']);
    expect(servingFromDecisions(reread.list(SYM).reverse())).toEqual({ [SYM]: '1.0' });
    await h.add({ ...base, at: 3, kind: 'shadow_failed', championVersion: '1.0', challengerVersion: '1.1' });
    expect(servingFromDecisions(h.list(SYM).reverse())).toEqual({ [SYM]: '1.0' });
    await h.add({ ...base, at: 4, kind: 'shadow', championVersion: '1.0', challengerVersion: '1.2' });
    await h.add({ ...base, at: 5, kind: 'promoted', championVersion: '1.0', challengerVersion: '1.2' });
    expect(servingFromDecisions(h.list(SYM).reverse())).toEqual({ [SYM]: '1.2' });
  });

  it('an engine-state.json written before shadows loads with none; a shadow round-trips', () => {
    const { shadows: _drop, ...old } = emptyState();
    expect(parseState(JSON.parse(JSON.stringify(old)), 'old.json').shadows).toEqual({});
    const withOne = { ...emptyState(), shadows: { [SYM]: shadow({ score: { at: T0, rows: 3, champion: 0.1, challenger: 0.2 } }) } };
    expect(parseState(JSON.parse(JSON.stringify(withOne)), 'new.json').shadows[SYM]).toEqual(withOne.shadows[SYM]);
    expect(() => parseState({ ...withOne, shadows: { [SYM]: { ...withOne.shadows[SYM], challenger: 'x' } } }, 'bad.json')).toThrow(/bad\.json: invalid at "shadows\.BTC\/USDT\.challenger"/);
  });
});

describe.skipIf(!hasData)('a challenger in shadow in a running engine (CSV candles)', () => {
  let home: string;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'kilo-shadow-'));
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('passes the gate, serves only after one day of shadow and only when it stayed ahead; a restart keeps the shadow', async () => {
    const config = testConfig((c) => {
      c.auto_training.shadow_days = 1;
      c.auto_training.gate_days = 10;
      // No retrain of its own during the test: the only decisions are the ones made here.
      c.auto_training.min_signals_for_decision = 1_000_000;
      c.auto_training.max_days_between_retrain = 365;
      c.training.walk_forward_folds = 0;
      // Tiny models rarely clear 0.55: a lower entry makes both trade, so their PnL differs.
      c.paper_trading.entry_threshold = 0.36;
    });
    const costs = { feeRate: config.paper_trading.fee_rate, slippageBps: config.paper_trading.slippage_bps, entryThreshold: config.paper_trading.entry_threshold };
    const margin = config.auto_training.promotion_margin / 30;
    const clock = new ManualClock(Date.UTC(2023, 8, 1));
    const open = async (): Promise<Engine> => {
      const e = await createEngine({ home, config, configPath: join(home, 'config.yaml'), marketClock: clock, clock, api: false });
      await e.start({ loop: false });
      return e;
    };
    let engine = await open();
    const row = () => engine.getSnapshot().symbols.find((s) => s.symbol === SYM)!;
    const hours = async (n: number): Promise<void> => {
      for (let h = 0; h < n; h++) {
        clock.advance(H);
        await engine.runRound();
      }
    };
    // Independently of the engine: both versions over a day of candles from `start` (read from the
    // CSV folder with a clock past them), through the gate's judgement.
    const csv = new CsvMarketSource(DATA, new ManualClock(Date.UTC(2030, 0, 1)), { timeframe: '1h' });
    const dir = (v: string) => join(home, 'models', `v${v}`, 'BTC-USDT');
    const dayScore = async (start: number, source: Pick<CsvMarketSource, 'fetchCandles'> = csv) => {
      const g = await scoreOnSharedWindow({
        symbol: SYM,
        candles: await source.fetchCandles(SYM, '1h', start - 1500 * H, start + DAY),
        artifacts: { champion: dir('1.0'), challenger: dir('1.1') },
        rows: 23,
        horizon: config.model.horizon,
        labelThreshold: config.model.label_threshold,
        from: start,
        costs,
      });
      return { rows: g.rows, champion: g.summaries.champion.total_pct, challenger: g.summaries.challenger.total_pct };
    };
    // One shadow started by the gate's verdict at market time now, run to its end; returns the end decision.
    const shadowDay = async (restart: boolean) => {
      const startedAt = clock.now();
      // The gate's verdict on v1.1, as the trainer hands it over when the paired gate promotes.
      await engine.decisions.applyGate({ at: startedAt, symbol: SYM, kind: 'promoted', championVersion: '1.0', challengerVersion: '1.1', championScore: 1, challengerScore: 2, lowerBound: 0.7, reason: 'test: the paired gate promoted' });
      const start = engine.promotions.latest(SYM)!;
      expect(start).toMatchObject({ kind: 'shadow', championVersion: '1.0', challengerVersion: '1.1' });
      expect(start.reason).toMatch(/^passed the gate \(test: the paired gate promoted\); runs 1 day\(s\) in shadow until \d{4}-\d\d-\d\d \d\d:\d\d UTC before it serves$/);
      // The snapshot is republished on the next tick.
      await waitFor(() => row().shadow, 'the shadow on the symbol row');
      expect(row().modelVersion).toBe('1.0');
      expect(row().shadow).toMatchObject({ challenger: '1.1', champion: '1.0', until: startedAt + DAY });
      await hours(12);
      // Half-way: still the champion; the row says how far ahead the challenger is.
      expect(row().modelVersion).toBe('1.0');
      expect(row().shadow!.label).toMatch(/^shadow v1\.1 until \d{4}-\d\d-\d\d \d\d:\d\d UTC, ahead by [+-]\d+\.\d\d %$/);
      expect(engine.state.shadow(SYM)!.score!.rows).toBeGreaterThanOrEqual(11);
      if (restart) {
        await engine.stop();
        const saved = JSON.parse(await readFile(join(home, 'data', 'engine-state.json'), 'utf8'));
        expect(saved.shadows[SYM]).toMatchObject({ challenger: '1.1', champion: '1.0', until: startedAt + DAY });
        engine = await open();
        expect(engine.state.shadow(SYM)).toMatchObject({ challenger: '1.1', until: startedAt + DAY });
      }
      await hours(11);
      expect(row().modelVersion).toBe('1.0');
      expect(engine.promotions.latest(SYM)!.kind).toBe('shadow');
      await hours(1);
      const end = engine.promotions.latest(SYM)!;
      expect(engine.state.shadow(SYM)).toBeNull();
      await waitFor(() => row().shadow === null, 'the shadow gone from the row');
      // The day's candles as the engine sees them (23 rows: the last candle only marks the row before it).
      const want = await dayScore(startedAt, engine.source.source);
      expect(want.rows).toBeGreaterThanOrEqual(20);
      expect(want.rows).toBeLessThanOrEqual(23);
      expect(end.rows).toBe(want.rows);
      expect(end.challengerScore!).toBeCloseTo(want.challenger, 6);
      expect(end.championScore!).toBeCloseTo(want.champion, 6);
      return { end, ahead: want.challenger - want.champion };
    };
    try {
      await engine.runRound();
      await engine.idle();
      await hours(1);
      await waitFor(() => row().modelVersion === '1.0', 'the first model');
      await engine.queue.add(SYM, { priority: 3, trigger: 'retrain', reason: 'retrain: test' });
      await engine.runRound();
      await engine.idle();
      await hours(1);
      await waitFor(() => engine.promotions.list().some((d) => d.challengerVersion === '1.1'), 'the retrain decision');
      expect(row().modelVersion).toBe('1.0');

      // Days (from the hour now on) where v1.1 fell behind, and later one where it was ahead.
      const t0 = clock.now();
      let behind = -1;
      let ahead = -1;
      for (let k = 0; k < 720 && ahead < 0; k++) {
        if (behind >= 0 && k < behind + 24) continue;
        const s = await dayScore(t0 + k * H);
        const d = s.challenger - s.champion;
        if (behind < 0 && d < -0.05) behind = k;
        else if (behind >= 0 && d > margin + 0.05) ahead = k;
      }
      expect(behind, 'a day where v1.1 fell behind').toBeGreaterThanOrEqual(0);
      expect(ahead, 'a later day where v1.1 was ahead').toBeGreaterThan(behind);

      await hours(behind);
      const dropped = await shadowDay(true);
      expect(dropped.ahead).toBeLessThan(0);
      expect(dropped.end).toMatchObject({ kind: 'shadow_failed', championVersion: '1.0', challengerVersion: '1.1' });
      expect(dropped.end.reason).toMatch(/did not stay ahead, dropped; champion v1\.0 stays/);
      expect(row().modelVersion).toBe('1.0');

      await hours(ahead - behind - 24);
      const promoted = await shadowDay(false);
      expect(promoted.ahead).toBeGreaterThan(margin);
      expect(promoted.end).toMatchObject({ kind: 'promoted', championVersion: '1.0', challengerVersion: '1.1' });
      expect(promoted.end.reason).toMatch(/stayed ahead, promoted after its shadow/);
      await waitFor(() => row().modelVersion === '1.1', 'v1.1 serving after its shadow');
      expect(engine.promotions.list(SYM).slice(0, 4).map((d) => d.kind)).toEqual(['promoted', 'shadow', 'shadow_failed', 'shadow']);
    } finally {
      await engine.stop();
    }
  }, 300_000);
});

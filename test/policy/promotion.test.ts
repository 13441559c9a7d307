import { describe, expect, it } from 'vitest';
import { decidePromotion, gatePromotionInput, ScoreInputError, type PairedPromotionInput } from '../../src/policy/promotion.js';
import { defaultConfig } from '../../src/config/schema.js';
import { mulberry32 } from '../../src/util/random.js';
import type { GateScores } from '../../src/training/gate.js';

const metric = 'accuracy';

describe('decidePromotion on two scores (callers not yet on the paired gate)', () => {
  const champion = { version: '1.1', score: 0.57 };
  it('promotes a challenger that meets the margin exactly, with both scores in the reason', () => {
    const d = decidePromotion({ champion, challenger: { version: '1.2', score: 0.575 }, margin: 0.005, metric });
    expect(d).toMatchObject({ kind: 'promoted', promote: true, reason: 'challenger v1.2 accuracy 0.5750 >= champion v1.1 0.5700 + margin 0.0050: promoted' });
    expect(d).toMatchObject({ championScore: 0.57, challengerScore: 0.575 });
  });
  it('keeps the champion when the challenger is better but by less than the margin', () => {
    const d = decidePromotion({ champion, challenger: { version: '1.2', score: 0.5749 }, margin: 0.005, metric });
    expect(d.promote).toBe(false);
    expect(d.kind).toBe('kept');
    expect(d.reason).toBe('challenger v1.2 accuracy 0.5749 < champion v1.1 0.5700 + margin 0.0050: champion stays');
  });
  it('with a zero margin promotes a tie but not a worse model', () => {
    expect(decidePromotion({ champion, challenger: { version: '1.2', score: 0.57 }, margin: 0, metric }).promote).toBe(true);
    expect(decidePromotion({ champion, challenger: { version: '1.2', score: 0.569 }, margin: 0, metric }).promote).toBe(false);
  });
  it('never promotes a NaN, infinite, failed or missing challenger', () => {
    for (const score of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const d = decidePromotion({ champion, challenger: { version: '1.2', score }, margin: 0, metric });
      expect(d.promote).toBe(false);
      expect(d.reason).toContain('0.5700');
    }
    const failed = decidePromotion({ champion, challenger: { version: '1.2', error: 'worker crashed' }, margin: 0, metric });
    expect(failed).toMatchObject({ kind: 'failed', promote: false, reason: 'challenger v1.2 failed (worker crashed); champion v1.1 accuracy 0.5700 stays' });
    expect(decidePromotion({ champion: null, challenger: { version: '1.2', score: Number.NaN }, margin: 0, metric }).promote).toBe(false);
    expect(decidePromotion({ champion, challenger: null, margin: 0, metric }).promote).toBe(false);
  });
  it('promotes a valid challenger when there is no valid champion', () => {
    expect(decidePromotion({ champion: null, challenger: { version: '1.0', score: 0.31 }, margin: 0.005, metric })).toMatchObject({
      kind: 'promoted',
      promote: true,
      reason: 'challenger v1.0 accuracy 0.3100 promoted: no champion',
    });
    const broken = decidePromotion({ champion: { version: '1.0', score: Number.NaN }, challenger: { version: '1.1', score: 0.4 }, margin: 0.005, metric });
    expect(broken.promote).toBe(true);
    expect(broken.reason).toContain('NaN');
  });
  it('rejects a negative margin', () => {
    expect(() => decidePromotion({ champion, challenger: { version: '1.2', score: 1 }, margin: -0.1, metric })).toThrow(RangeError);
  });
});

const PER30 = 720;
/** Per-candle PnL with a given mean log return per candle plus seeded noise. */
const series = (n: number, meanLog: number, sd: number, seed: number): Float64Array => {
  const r = mulberry32(seed);
  return Float64Array.from({ length: n }, () => Math.expm1(meanLog + sd * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())));
};
/** Mean log PnL per candle of a rate in % per 30 days. */
const perCandle = (pct30: number): number => Math.log1p(pct30 / 100) / PER30;

const paired = (over: Partial<PairedPromotionInput> = {}): PairedPromotionInput => ({
  champion: { version: '1.1', pnl: series(1000, 0, 0.005, 1) },
  challenger: { version: '1.2', pnl: series(1000, 0, 0.005, 2), edge: 'edge' },
  window: [Date.UTC(2023, 9, 1), Date.UTC(2023, 10, 11)],
  candlesPer30d: PER30,
  blockLength: 48,
  margin: 0.5,
  confidence: 0.9,
  minRows: 720,
  ...over,
});

describe('decidePromotion: paired per-candle PnL on one window (block bootstrap)', () => {
  it('a clear improvement is promoted; the reason shows both scores and the bound', () => {
    const champ = series(1000, 0, 0.005, 1);
    // The challenger earns the champion's candles plus ~+20 %/30d with a little noise of its own.
    const better = Float64Array.from(champ, (r, i) => Math.expm1(Math.log1p(r) + perCandle(20) + 0.0005 * Math.sin(i * 1.7)));
    const d = decidePromotion(paired({ champion: { version: '1.1', pnl: champ }, challenger: { version: '1.2', pnl: better, edge: 'edge' } }));
    expect(d.kind).toBe('promoted');
    expect(d.promote).toBe(true);
    expect(d.lowerBound!).toBeGreaterThan(0.5);
    expect(d.challengerScore! - d.championScore!).toBeGreaterThan(15);
    expect(d.rows).toBe(1000);
    expect(d.window).toEqual([Date.UTC(2023, 9, 1), Date.UTC(2023, 10, 11)]);
    expect(d.reason).toMatch(/^challenger v1\.2 [+-][\d.]+ %\/30d vs champion v1\.1 [+-][\d.]+ %\/30d on 1,000 shared candles 2023-10-01\.\.2023-11-11: improvement 90 % bound \+[\d.]+ %\/30d > margin \+0\.50 %\/30d: promoted$/);
  });

  it('noise is not promoted: two independent zero-edge streams, at about the rate the confidence allows', () => {
    // One-sided 90 % bound: pure noise clears it about 10 % of the time (less with the margin).
    let promoted = 0;
    const trials = 60;
    for (let seed = 10; seed < 10 + trials; seed++) {
      const d = decidePromotion(paired({ champion: { version: '1.1', pnl: series(1000, 0, 0.005, seed) }, challenger: { version: '1.2', pnl: series(1000, 0, 0.005, seed + 1000), edge: 'edge' } }));
      expect(['kept', 'promoted']).toContain(d.kind);
      if (d.kind === 'promoted') promoted++;
    }
    expect(promoted).toBeLessThanOrEqual(trials * 0.15);
    // A challenger slightly better than the champion by chance (the typical retrain) stays out.
    const champ = series(1000, 0, 0.005, 1);
    const d = decidePromotion(paired({ champion: { version: '1.1', pnl: champ }, challenger: { version: '1.2', pnl: Float64Array.from(champ, (r, i) => Math.expm1(Math.log1p(r) + 0.002 * Math.sin(i * 0.37))), edge: 'edge' } }));
    expect(d.kind).toBe('kept');
    expect(d.lowerBound!).toBeLessThanOrEqual(0.5);
  });

  it('the exact margin is not enough; just above it is', () => {
    const champ = new Float64Array(1000);
    // A constant per-candle improvement: every bootstrap mean equals it, so the bound is exactly it.
    const at = (pct30: number) => new Float64Array(1000).fill(Math.expm1(perCandle(pct30)));
    const exact = decidePromotion(paired({ champion: { version: '1.1', pnl: champ }, challenger: { version: '1.2', pnl: at(0.5), edge: 'edge' } }));
    expect(exact.lowerBound!).toBeCloseTo(0.5, 9);
    expect(exact.kind).toBe('kept');
    const above = decidePromotion(paired({ champion: { version: '1.1', pnl: champ }, challenger: { version: '1.2', pnl: at(0.5001), edge: 'edge' } }));
    expect(above.kind).toBe('promoted');
    // A tie (a copy of the champion) is never promoted, even with a zero margin.
    const c = series(1000, 0.0001, 0.005, 3);
    expect(decidePromotion(paired({ margin: 0, champion: { version: '1.1', pnl: c }, challenger: { version: '1.2', pnl: c, edge: 'edge' } })).kind).toBe('kept');
  });

  it('a challenger without an edge of its own is never promoted, however much better than the champion', () => {
    const champ = series(1000, -0.001, 0.005, 1);
    const better = series(1000, 0.002, 0.005, 2);
    for (const edge of ['no_edge', 'unknown'] as const) {
      const d = decidePromotion(paired({ champion: { version: '1.1', pnl: champ }, challenger: { version: '1.2', pnl: better, edge, edgeReason: 'ensemble +1 % vs TA +5 %' } }));
      expect(d.kind).toBe('no_edge');
      expect(d.promote).toBe(false);
      expect(d.reason).toMatch(/never promoted; champion v1\.1 -[\d.]+ %\/30d stays$/);
    }
    // With model.require_edge off the paired comparison alone decides.
    expect(decidePromotion(paired({ requireEdge: false, champion: { version: '1.1', pnl: champ }, challenger: { version: '1.2', pnl: better, edge: 'no_edge' } })).kind).toBe('promoted');
  });

  it('failed, pinned, too short, first model and broken champion', () => {
    expect(decidePromotion(paired({ challenger: { version: '1.2', error: 'worker crashed' } })).kind).toBe('failed');
    expect(decidePromotion(paired({ challenger: null })).kind).toBe('failed');
    const nan = Float64Array.from(series(1000, 0, 0.005, 2), (x, i) => (i === 5 ? Number.NaN : x));
    expect(decidePromotion(paired({ challenger: { version: '1.2', pnl: nan, edge: 'edge' } })).kind).toBe('failed');
    const pinned = decidePromotion(paired({ pinned: '1.1', challenger: { version: '1.2', pnl: series(1000, 0.01, 0.001, 2), edge: 'edge' } }));
    expect(pinned.kind).toBe('pinned');
    expect(pinned.reason).toMatch(/^v1\.1 is pinned by the operator/);
    const short = decidePromotion(paired({ minRows: 2000, challenger: { version: '1.2', pnl: series(1000, 0.01, 0.001, 2), edge: 'edge' } }));
    expect(short.kind).toBe('kept');
    expect(short.reason).toMatch(/< 2000 needed, auto_training.gate_days/);
    const first = decidePromotion(paired({ champion: null, challenger: { version: '1.0', pnl: series(1000, 0, 0.005, 2), edge: 'no_edge' } }));
    expect(first.kind).toBe('promoted');
    expect(first.reason).toMatch(/installed: no champion \(verdict no edge: the edge gate decides whether it trades\)/);
    expect(decidePromotion(paired({ champion: { version: '1.1', error: 'cannot load' } })).kind).toBe('promoted');
    expect(() => decidePromotion(paired({ champion: { version: '1.1', pnl: series(999, 0, 0.005, 1) } }))).toThrow(ScoreInputError);
  });

  it('gatePromotionInput builds the paired input from the worker\'s scores and the challenger\'s verdict', () => {
    const champ = series(800, 0, 0.005, 1);
    const chal = series(800, perCandle(30), 0.005, 2);
    const gate: GateScores = {
      metric: 'pnl_pct_30d',
      rows: 800,
      window: [1, 2],
      scores: { champion: 0, challenger: 30 },
      errors: {},
      pnl: { champion: champ, challenger: chal },
      summaries: {},
      seenRows: { champion: 12, challenger: 0 },
      candlesPer30d: PER30,
      blockLength: 48,
      costs: { feeRate: 0.001, slippageBps: 5, entryThreshold: 0.55 },
    };
    const config = defaultConfig();
    const input = gatePromotionInput(gate, { symbol: 'BTC/USDT', championVersion: '1.1', challengerVersion: '1.2', challengerEdge: undefined, config });
    expect(input.minRows).toBe(720);
    expect(input.margin).toBe(config.auto_training.promotion_margin);
    expect(input.championSeenRows).toBe(12);
    expect(decidePromotion(input).kind).toBe('no_edge'); // no verdict in the challenger's metadata
    const failed = gatePromotionInput({ ...gate, errors: { challenger: 'bad scaler' } }, { symbol: 'BTC/USDT', championVersion: '1.1', challengerVersion: '1.2', challengerEdge: undefined, config });
    expect(decidePromotion(failed)).toMatchObject({ kind: 'failed', challengerScore: null });
    expect(decidePromotion(failed).reason).toMatch(/^challenger v1\.2 failed \(bad scaler\); champion v1\.1 [+-][\d.]+ %\/30d stays$/);
  });
});

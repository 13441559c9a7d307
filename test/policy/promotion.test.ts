import { describe, expect, it } from 'vitest';
import { decidePromotion, scoreMetricName, scoreOnWindow, ScoreInputError } from '../../src/policy/promotion.js';

const metric = 'accuracy';

describe('decidePromotion', () => {
  const champion = { version: '1.1', score: 0.57 };
  it('promotes a challenger that meets the margin exactly, with both scores in the reason', () => {
    const d = decidePromotion({ champion, challenger: { version: '1.2', score: 0.575 }, margin: 0.005, metric });
    expect(d).toEqual({ promote: true, reason: 'challenger v1.2 accuracy 0.5750 >= champion v1.1 0.5700 + margin 0.0050: promoted' });
  });
  it('keeps the champion when the challenger is better but by less than the margin', () => {
    const d = decidePromotion({ champion, challenger: { version: '1.2', score: 0.5749 }, margin: 0.005, metric });
    expect(d.promote).toBe(false);
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
    expect(failed).toEqual({ promote: false, reason: 'challenger v1.2 failed (worker crashed); champion v1.1 accuracy 0.5700 stays' });
    expect(decidePromotion({ champion: null, challenger: { version: '1.2', score: Number.NaN }, margin: 0, metric }).promote).toBe(false);
    expect(decidePromotion({ champion, challenger: null, margin: 0, metric }).promote).toBe(false);
  });
  it('promotes a valid challenger when there is no valid champion', () => {
    expect(decidePromotion({ champion: null, challenger: { version: '1.0', score: 0.31 }, margin: 0.005, metric })).toEqual({
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

describe('scoreOnWindow', () => {
  // rows: call up (label up), call down (label flat), call flat (label flat), call up (label down)
  const probs = new Float32Array([0.1, 0.2, 0.7, 0.6, 0.3, 0.1, 0.2, 0.5, 0.3, 0.3, 0.3, 0.4]);
  const labels = [2, 1, 1, 0];
  it('computes accuracy of the argmax call', () => {
    expect(scoreOnWindow(probs, labels)).toBe(0.5);
    expect(scoreMetricName()).toBe('accuracy');
  });
  it('computes mean PnL % after fees per row when closes are given', () => {
    const closes = [100, 102, 102, 103, 100];
    // row0 long 100->102: +2% ; row1 short 102->102: 0 ; row2 flat: out ; row3 long 103->100: -2.9126%
    const expected = ((0.02 - 0.002 + (0 - 0.002) + (-3 / 103 - 0.002)) / 4) * 100;
    expect(scoreOnWindow(probs, labels, closes, { horizon: 1, feeRate: 0.001 })).toBeCloseTo(expected, 10);
    expect(scoreMetricName(closes)).toBe('pnl_after_fees_pct');
  });
  it('uses the horizon to find the exit close', () => {
    const p = new Float32Array([0, 0, 1]);
    expect(scoreOnWindow(p, [2], [100, 50, 110], { horizon: 2, feeRate: 0 })).toBeCloseTo(10, 10);
  });
  it('treats a tie for the top as flat', () => {
    expect(scoreOnWindow(new Float32Array([0.4, 0.2, 0.4]), [1])).toBe(1);
  });
  it('returns NaN for NaN probabilities or an empty window', () => {
    const p = probs.slice();
    p[4] = Number.NaN;
    expect(scoreOnWindow(p, labels)).toBeNaN();
    expect(scoreOnWindow(new Float32Array(0), [])).toBeNaN();
  });
  it('rejects mismatched shapes with a clear error', () => {
    expect(() => scoreOnWindow(probs, [1, 2])).toThrow(ScoreInputError);
    expect(() => scoreOnWindow(probs, labels, [1, 2, 3, 4])).toThrow(/at least 5/);
  });
});

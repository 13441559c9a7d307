import { describe, it, expect } from 'vitest';
import { combineSignals, weightsFromMetadata, EnsembleInputError, directionClass } from '../../src/models/ensemble.js';
import { majorityClass, persistenceClass, taSignal, taClasses, TA_MIN_CANDLES } from '../../src/models/baselines.js';
import { classMetrics, withReplays, argmax3 } from '../../src/training/pipeline-metrics.js';
import { constantCalls, replayCalls } from '../../src/evaluation/judge.js';
import type { Candle } from '../../src/market/types.js';

describe('combineSignals', () => {
  it('weights model scores and reports contributions that sum to the score', () => {
    const s = combineSignals(
      { gru: [0.1, 0.2, 0.7], gbdt: [0.5, 0.3, 0.2], ppo: { action: 1, probs: [0.2, 0.6, 0.2] } },
      { weights: { gru: 2, gbdt: 1, ppo: 1 } },
    );
    // gru: 0.5*(0.7-0.1)=0.3, gbdt: 0.25*(0.2-0.5)=-0.075, ppo: 0.25*(buy 0.6 - sell 0.2)=0.1
    expect(s.contributions.gru).toBeCloseTo(0.3, 10);
    expect(s.contributions.gbdt).toBeCloseTo(-0.075, 10);
    expect(s.contributions.ppo).toBeCloseTo(0.1, 10);
    expect(s.score).toBeCloseTo(0.325, 10);
    expect(s.direction).toBe('bullish');
    // up prob: 0.5*0.7 + 0.25*0.2 + 0.25*0.6 = 0.55
    expect(s.confidence).toBeCloseTo(0.55, 10);
    expect(s.probs[0] + s.probs[1] + s.probs[2]).toBeCloseTo(1, 10);
  });

  it('is neutral inside the band and bearish below it', () => {
    expect(combineSignals({ gbdt: [0.3, 0.4, 0.35] }).direction).toBe('neutral');
    expect(combineSignals({ gbdt: [0.3, 0.4, 0.35] }).confidence).toBeCloseTo(0.4 / 1.05, 10);
    const b = combineSignals({ gru: [0.6, 0.3, 0.1], ppo: { action: 2 } }, { neutralBand: 0.2 });
    expect(b.score).toBeCloseTo(0.5 * -0.5 + 0.5 * -1, 10);
    expect(b.direction).toBe('bearish');
    expect(directionClass(b.direction)).toBe(0);
  });

  it('rejects bad input with a clear error', () => {
    expect(() => combineSignals({})).toThrow(EnsembleInputError);
    expect(() => combineSignals({ gru: [0.5, 0.5] })).toThrow(/gru gave 2 probabilities/);
    expect(() => combineSignals({ gru: [0.5, NaN, 0.5] })).toThrow(/invalid probabilities/);
    expect(() => combineSignals({ gru: [0.2, 0.3, 0.5] }, { weights: { gru: 0 } })).toThrow(/positive weight/);
  });

  it('defaults weights to validation accuracy above chance from metadata', () => {
    const w = weightsFromMetadata({
      performance: {
        gru: { validation: { accuracy: 0.5, directional_accuracy: 0.5, samples: 10 }, test: { accuracy: 0.4, directional_accuracy: 0.4, samples: 10 } },
        gbdt: { validation: { accuracy: 0.25, directional_accuracy: 0.5, samples: 10 }, test: { accuracy: 0.4, directional_accuracy: 0.4, samples: 10 } },
      },
    });
    // accuracy above chance (1/3), floored at 0.01: gbdt at 25% and ppo without figures get the floor
    expect(w.gru).toBeCloseTo(0.5 - 1 / 3, 12);
    expect(w.gbdt).toBe(0.01);
    expect(w.ppo).toBe(0.01);
    const s = combineSignals({ gru: [0, 0, 1], gbdt: [1, 0, 0] }, { weights: w });
    const total = 0.5 - 1 / 3 + 0.01;
    expect(s.score).toBeCloseTo((0.5 - 1 / 3) / total - 0.01 / total, 10);
  });
});

describe('baselines', () => {
  it('majority and persistence', () => {
    expect(majorityClass([0, 2, 2, 1])).toBe(2);
    expect(majorityClass([0, 0, 1, 1, 2])).toBe(1);
    expect(persistenceClass([100, 101, 100.9], 1, 1, 0.002)).toBe(2);
    expect(persistenceClass([100, 101, 100.9], 2, 1, 0.002)).toBe(1);
    expect(persistenceClass([100, 99], 1, 1, 0.002)).toBe(0);
    expect(persistenceClass([100], 0, 1, 0.002)).toBe(1);
  });

  const series = (f: (i: number) => number, n: number): Candle[] =>
    Array.from({ length: n }, (_, i) => ({ timestamp: i * 3_600_000, open: f(i), high: f(i), low: f(i), close: f(i), volume: 1 }));

  it('TA signal follows a steady uptrend and a steady downtrend', () => {
    const up = taSignal(series((i) => 100 * 1.003 ** i + Math.sin(i) * 0.05, 120));
    expect(up.direction).toBe('bullish');
    expect(up.score).toBeGreaterThan(0.15);
    expect(up.contributions.ta).toBe(up.score);
    const down = taSignal(series((i) => 100 * 0.997 ** i + Math.sin(i) * 0.05, 120));
    expect(down.direction).toBe('bearish');
    const short = taSignal(series(() => 100, TA_MIN_CANDLES - 1));
    expect(short).toEqual({ direction: 'neutral', score: 0, confidence: 0, contributions: { ta: 0 } });
    const cls = taClasses(series((i) => 100 * 1.003 ** i, 120).map((c) => c.close));
    expect(cls[0]).toBe(1);
    expect(cls[119]).toBe(2);
  });
});

describe('metrics', () => {
  it('the PnL figure is the judgement of the calls, averaged over symbols (src/evaluation/judge.ts)', () => {
    // Two symbols' replays through the broker rule: the metric is the mean of their totals.
    const a = replayCalls(constantCalls(2, 1), [100, 110, 121], { feeRate: 0, slippageBps: 0, entryThreshold: 0.55, liquidateAtEnd: false });
    const b = replayCalls(constantCalls(2, 0), [100, 90, 80], { feeRate: 0, slippageBps: 0, entryThreshold: 0.55 });
    const m = withReplays({ accuracy: 1, directional_accuracy: 1, samples: 4 }, [a, b]);
    expect(a.totalPct).toBeCloseTo(21, 10);
    expect(m.pnl_pct).toBeCloseTo(10.5, 10);
    expect(m.trades).toBe(1);
    expect(m.exposure).toBeCloseTo(0.5, 12);
  });
  it('accuracy and directional accuracy', () => {
    const m = classMetrics([2, 0, 1, 1], [2, 1, 0, 1], [0, 0, 1, 0.5, 0.25, 0.25, 0.2, 0.6, 0.2, 0.1, 0.8, 0.1]);
    expect(m.accuracy).toBe(0.5);
    // rows with true up/down: 0 (hit) and 2 (miss)
    expect(m.directional_accuracy).toBe(0.5);
    expect(m.samples).toBe(4);
    expect(m.log_loss).toBeCloseTo(-(Math.log(1) + Math.log(0.25) + Math.log(0.2) + Math.log(0.8)) / 4, 6);
    expect([...argmax3([0, 0, 1, 0.5, 0.25, 0.25, 0.2, 0.6, 0.2], 3)]).toEqual([2, 0, 1]);
  });
});

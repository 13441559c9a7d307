import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/schema.js';
import { decideRetrain, type RetrainStats } from '../../src/policy/retrain.js';

const DAY = 86_400_000;
const cfg = defaultConfig().auto_training; // 50 trades, 30 days, 45%, 20 signals, initial 100, 1000 candles
const base: RetrainStats = { hasModel: true, signalsSinceRetrain: 0, winRateSinceRetrain: null, lastRetrainAt: 0, candles: 5000 };
const now = 10 * DAY;

describe('decideRetrain: win rate trigger', () => {
  it('fires with the worked reason text', () => {
    const d = decideRetrain({ ...base, signalsSinceRetrain: 23, winRateSinceRetrain: 0.41 }, cfg, now);
    expect(d).toEqual({ retrain: true, trigger: 'win_rate', reason: 'win rate 41.0% < 45% over 23 signals' });
  });
  it('fires at exactly min_signals_for_decision and not one signal before', () => {
    expect(decideRetrain({ ...base, signalsSinceRetrain: 20, winRateSinceRetrain: 8 / 20 }, cfg, now).trigger).toBe('win_rate');
    const before = decideRetrain({ ...base, signalsSinceRetrain: 19, winRateSinceRetrain: 7 / 19 }, cfg, now);
    expect(before.retrain).toBe(false);
    expect(before.reason).toBe('win rate 36.8% over 19 signals (need 20 to decide)');
  });
  it('does not fire when the win rate equals the threshold', () => {
    const d = decideRetrain({ ...base, signalsSinceRetrain: 20, winRateSinceRetrain: 9 / 20 }, cfg, now);
    expect(d).toEqual({ retrain: false, trigger: null, reason: 'win rate 45.0% >= 45% over 20 signals' });
  });
});

describe('decideRetrain: schedule trigger', () => {
  const s = { ...base, signalsSinceRetrain: 50, winRateSinceRetrain: 0.6, lastRetrainAt: 1_000 };
  it('fires exactly max_days_between_retrain after the last retrain, not 1 ms before', () => {
    const at = 1_000 + 30 * DAY;
    expect(decideRetrain(s, cfg, at)).toEqual({
      retrain: true,
      trigger: 'schedule',
      reason: '30 days since the last retrain (>= 30) with 50 signals',
    });
    expect(decideRetrain(s, cfg, at - 1).retrain).toBe(false);
  });
  it('needs min_trades_before_retrain signals since the last retrain', () => {
    const d = decideRetrain({ ...s, signalsSinceRetrain: 49 }, cfg, 1_000 + 45 * DAY);
    expect(d.retrain).toBe(false);
    expect(d.reason).toBe('45 days since the last retrain but only 49 signals (< 50); win rate 60.0%');
  });
  it('never fires without a known last retrain time', () => {
    expect(decideRetrain({ ...s, lastRetrainAt: null }, cfg, 1e15).retrain).toBe(false);
  });
});

describe('decideRetrain: initial trigger', () => {
  const s = { ...base, hasModel: false, lastRetrainAt: null };
  it('fires at exactly initial_train_after_signals, not one signal before', () => {
    expect(decideRetrain({ ...s, signalsSinceRetrain: 100 }, cfg, now)).toEqual({
      retrain: true,
      trigger: 'initial',
      reason: 'no model yet and 100 signals (>= 100)',
    });
    expect(decideRetrain({ ...s, signalsSinceRetrain: 99 }, cfg, now)).toEqual({
      retrain: false,
      trigger: null,
      reason: 'no model yet: 99/100 signals before the initial training',
    });
  });
});

describe('decideRetrain: safety minimums', () => {
  const firing = { ...base, signalsSinceRetrain: 23, winRateSinceRetrain: 0.41 };
  it('refuses on too few candles, naming the count', () => {
    const d = decideRetrain({ ...firing, candles: 812 }, cfg, now);
    expect(d).toEqual({
      retrain: false,
      trigger: null,
      refused: 'win_rate',
      reason: 'win rate 41.0% < 45% over 23 signals, but refused: only 812 candles (< 1000)',
    });
    expect(decideRetrain({ ...firing, candles: 1000 }, cfg, now).retrain).toBe(true);
    expect(decideRetrain({ ...firing, candles: 999 }, cfg, now).retrain).toBe(false);
  });
  it('refuses on too little validation data', () => {
    const d = decideRetrain({ ...firing, validationRows: 40 }, cfg, now);
    expect(d.retrain).toBe(false);
    expect(d.reason).toMatch(/only 40 validation rows \(< 100\)$/);
    expect(decideRetrain({ ...firing, validationRows: 100 }, cfg, now).retrain).toBe(true);
  });
  it('keeps the 20-signal floor even when the config allows fewer', () => {
    const loose = { ...cfg, min_signals_for_decision: 5, initial_train_after_signals: 5 };
    const d = decideRetrain({ ...base, signalsSinceRetrain: 19, winRateSinceRetrain: 0.2 }, loose, now);
    expect(d).toMatchObject({ retrain: false, refused: 'win_rate' });
    expect(d.reason).toMatch(/only 19 signals \(< 20\)$/);
    expect(decideRetrain({ ...base, signalsSinceRetrain: 20, winRateSinceRetrain: 0.2 }, loose, now).retrain).toBe(true);
    expect(decideRetrain({ ...base, hasModel: false, signalsSinceRetrain: 6 }, loose, now).refused).toBe('initial');
  });
  it('does nothing when auto-training is disabled', () => {
    expect(decideRetrain(firing, { ...cfg, enabled: false }, now)).toEqual({ retrain: false, trigger: null, reason: 'auto-training is disabled' });
  });
});

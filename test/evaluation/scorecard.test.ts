/**
 * The gate's scorecard on constructed decisions whose answers are known: which windows are due,
 * pending or not the gate's call, whether each call was right, what always-promote-newest and
 * never-retrain earned, and a verdict that says so plainly either way.
 */
import { describe, it, expect } from 'vitest';
import type { PromotionDecision } from '../../src/engine-api.js';
import { buildScorecard, formatScorecard, scoreKey, scorecardWindows, type WindowScores } from '../../src/evaluation/scorecard.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2023, 0, 1);
const dec = (day: number, kind: PromotionDecision['kind'], champ: string | null, chal: string | null, symbol = 'BTC/USDT'): PromotionDecision => ({
  at: T0 + day * DAY,
  symbol,
  kind,
  championVersion: champ,
  challengerVersion: chal,
  championScore: null,
  challengerScore: null,
  reason: `${kind} (the text is never parsed)`,
});

const decisions: PromotionDecision[] = [
  dec(0, 'promoted', null, '1.0'), // first model: nothing to compare
  dec(10, 'promoted', '1.0', '1.1'), // challenger earns more afterwards: right
  dec(40, 'kept', '1.1', '1.2'), // challenger earns more afterwards: wrong
  dec(70, 'no_edge', '1.1', '1.3'), // champion earns more: right
  dec(80, 'failed', '1.1', null), // no challenger
  dec(85, 'rollback', '1.1', '1.0'), // the operator's, not the gate's
  dec(100, 'promoted', '1.1', '1.4'), // its 30 days are not over: pending
  dec(20, 'promoted', null, '2.0', 'ETH/USDT'),
  dec(30, 'promoted', '2.0', '2.1', 'ETH/USDT'), // challenger earns less: wrong
];
const dataEnd = { 'BTC/USDT': T0 + 110 * DAY, 'ETH/USDT': T0 + 110 * DAY };

const scores = (over: Partial<Record<number, Partial<WindowScores>>> = {}): Map<string, WindowScores> => {
  const base: Record<number, WindowScores> = {
    10: { champion: -2, challenger: 3, first: -2, rows: 720 },
    40: { champion: 1, challenger: 4, first: 0.5, rows: 720 },
    70: { champion: 2, challenger: -1, first: 5, rows: 720 },
    30: { champion: 1.5, challenger: -3, first: 1.5, rows: 720 },
  };
  const m = new Map<string, WindowScores>();
  for (const d of decisions) {
    const day = Math.round((d.at - T0) / DAY);
    if (base[day]) m.set(scoreKey(d), { ...base[day], ...over[day] });
  }
  return m;
};

describe('gate scorecard', () => {
  it('classifies each decision: due, pending, or not a gate call', () => {
    const w = scorecardWindows(decisions, 30, dataEnd);
    const status = Object.fromEntries(w.map((x) => [`${x.decision.symbol} ${Math.round((x.decision.at - T0) / DAY)}`, x.status]));
    expect(status).toEqual({
      'BTC/USDT 0': 'skipped',
      'BTC/USDT 10': 'due',
      'ETH/USDT 20': 'skipped',
      'ETH/USDT 30': 'due',
      'BTC/USDT 40': 'due',
      'BTC/USDT 70': 'due',
      'BTC/USDT 80': 'skipped',
      'BTC/USDT 85': 'skipped',
      'BTC/USDT 100': 'pending',
    });
    // The window is the 30 days after the decision; never-retrain is the symbol's first model.
    const d40 = w.find((x) => x.decision.at === T0 + 40 * DAY)!;
    expect([d40.from, d40.to]).toEqual([T0 + 40 * DAY, T0 + 70 * DAY]);
    expect(d40.firstVersion).toBe('1.0');
    expect(w.find((x) => x.decision.symbol === 'ETH/USDT' && x.status === 'due')!.firstVersion).toBe('2.0');
    // Exactly at the end of the data is enough; one millisecond short is not.
    expect(scorecardWindows([decisions[1]], 30, { 'BTC/USDT': T0 + 40 * DAY })[0].status).toBe('due');
    expect(scorecardWindows([decisions[1]], 30, { 'BTC/USDT': T0 + 40 * DAY - 1 })[0].status).toBe('pending');
  });

  it('scores the calls and the rival rules on the same windows, and says when the gate does not help', () => {
    const c = buildScorecard(scorecardWindows(decisions, 30, dataEnd), scores(), 30);
    expect(c.scored).toBe(4);
    expect(c.pending).toBe(1);
    const byDay = (day: number, sym = 'BTC/USDT') => c.entries.find((e) => e.at === T0 + day * DAY && e.symbol === sym)!;
    expect(byDay(10)).toMatchObject({ status: 'scored', right: true, gate_pct: 3, newest_pct: 3, never_pct: -2 });
    expect(byDay(40)).toMatchObject({ status: 'scored', right: false, gate_pct: 1, newest_pct: 4, never_pct: 0.5 });
    expect(byDay(70)).toMatchObject({ status: 'scored', right: true, gate_pct: 2, newest_pct: -1, never_pct: 5 });
    expect(byDay(30, 'ETH/USDT')).toMatchObject({ status: 'scored', right: false, gate_pct: -3, newest_pct: -3, never_pct: 1.5 });
    expect([c.right, c.wrong, c.right_rate]).toEqual([2, 2, 0.5]);
    expect([c.promoted_right, c.promoted_wrong, c.kept_right, c.kept_wrong]).toEqual([1, 1, 1, 1]);
    // gate 3 + 1 + 2 - 3 = 3; newest 3 + 4 - 1 - 3 = 3; never -2 + 0.5 + 5 + 1.5 = 5.
    expect(c.totals).toEqual({ gate_pct: 3, newest_pct: 3, never_pct: 5 });
    expect(c.verdict.kind).toBe('does_not_help');
    expect(c.verdict.reason).toMatch(/^the gate did NOT help: never retraining earned at least as much/);
    const text = formatScorecard(c);
    expect(text).toMatch(/calls right 2\/4 \(50 %\)/);
    expect(text).toMatch(/gate \+3\.00 % \| always promote newest \(FreqAI\) \+3\.00 % \| never retrain \+5\.00 %/);
    expect(text).toMatch(/pending/);
  });

  it('helps only when it beats both rivals', () => {
    // The ETH challenger now earns more afterwards, and BTC's first model less: the gate's calls win.
    const c = buildScorecard(scorecardWindows(decisions, 30, dataEnd), scores({ 30: { challenger: 6 }, 70: { first: -4 } }), 30);
    // gate 3 + 1 + 2 + 6 = 12; newest 3 + 4 - 1 + 6 = 12 -> a tie with newest is not help.
    expect(c.totals.gate_pct).toBe(12);
    expect(c.totals.newest_pct).toBe(12);
    expect(c.verdict.kind).toBe('does_not_help');
    const better = buildScorecard(scorecardWindows(decisions, 30, dataEnd), scores({ 30: { challenger: 6 }, 70: { first: -4 }, 40: { challenger: 0.5 } }), 30);
    // gate 3 + 1 + 2 + 6 = 12; newest 3 + 0.5 - 1 + 6 = 8.5; never -2 + 0.5 - 4 + 1.5 = -4.
    expect(better.totals).toEqual({ gate_pct: 12, newest_pct: 8.5, never_pct: -4 });
    expect(better.right).toBe(4);
    expect(better.verdict.kind).toBe('helps');
    expect(better.verdict.reason).toMatch(/^the gate helped: gate \+12\.00 %, always-promote-newest \+8\.50 %, never-retrain -4\.00 %.*weak evidence/);
  });

  it('a window whose versions cannot be scored is named, not counted; nothing due is no evidence', () => {
    const s = scores({ 40: { challenger: null, error: 'v1.2 (challenger) no longer on disk' } });
    const c = buildScorecard(scorecardWindows(decisions, 30, dataEnd), s, 30);
    expect(c.scored).toBe(3);
    expect(c.entries.find((e) => e.at === T0 + 40 * DAY)).toMatchObject({ status: 'unscorable', note: 'v1.2 (challenger) no longer on disk', right: null });
    expect(formatScorecard(c)).toMatch(/unscorable v1\.2 \(challenger\) no longer on disk/);
    const none = buildScorecard(scorecardWindows(decisions, 30, { 'BTC/USDT': T0, 'ETH/USDT': T0 }), new Map(), 30);
    expect(none.scored).toBe(0);
    expect(none.verdict).toEqual({ kind: 'no_evidence', reason: 'no evidence yet: 5 decision(s) still wait for 30 days of candles' });
    expect(() => scorecardWindows(decisions, 0, dataEnd)).toThrow(/days must be > 0/);
  });
});

/**
 * The judgement: a worked example computed by hand, the real PaperBroker on the same candles
 * (equity must agree candle by candle), and constructed series whose answer is known.
 */
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/schema.js';
import { PaperBroker } from '../../src/trading/broker.js';
import { decideOrder } from '../../src/trading/sizing.js';
import { mulberry32 } from '../../src/util/random.js';
import { callsFromProbs, callsFromSignals, constantCalls, judgeRows, replayCalls, taCalls, JudgeInputError, type Calls, type Costs } from '../../src/evaluation/judge.js';
import { edgeVerdict, summariseFolds, type FoldJudgement } from '../../src/evaluation/edge.js';
import { taScores } from '../../src/models/baselines.js';
import type { Direction } from '../../src/engine-api.js';

const costs: Costs = { feeRate: 0.001, slippageBps: 10, entryThreshold: 0.55, liquidateAtEnd: false };

const calls = (xs: [Direction, number][]): Calls => callsFromSignals(xs.map(([direction, confidence]) => ({ direction, confidence })));

describe('replayCalls: a worked example', () => {
  // Closes 100, 110, 121, 108.9, 100; fee 0.1 % per side, slippage 10 bps, threshold 0.55.
  const closes = [100, 110, 121, 108.9, 100];
  const c = calls([
    ['bullish', 0.9], // buy at 100 * 1.001 with all cash / 1.001
    ['neutral', 0.9], // hold
    ['bearish', 0.9], // sell at 121 * 0.999, fee on the proceeds
    ['bullish', 0.5], // below the threshold: stay flat
  ]);
  it('charges fee and slippage as the broker does and attributes each candle its move', () => {
    const r = replayCalls(c, closes, costs);
    const notional = 1 / 1.001;
    const qty = notional / 100.1;
    const proceeds = qty * 121 * 0.999;
    const cash = proceeds * (1 - 0.001);
    const equity = [qty * 110, qty * 121, cash, cash];
    expect(Array.from(r.equity)).toEqual(equity.map((e) => expect.closeTo(e, 12)));
    const pnl = [equity[0] - 1, equity[1] / equity[0] - 1, equity[2] / equity[1] - 1, 0];
    expect(Array.from(r.pnl)).toEqual(pnl.map((p) => expect.closeTo(p, 12)));
    // 121/100.1/1.001 * 0.999 * 0.999 - 1 = +20.52 %: the +21 % move less two fees and two slippages.
    expect(r.totalPct).toBeCloseTo(((121 / 100.1 / 1.001) * 0.999 * 0.999 - 1) * 100, 10);
    expect(r.totalPct).toBeCloseTo(20.517, 3);
    expect(r.trades).toBe(2);
    expect(r.exposure).toBe(0.5);
    expect(r.feesPct).toBeCloseTo((notional * 0.001 + proceeds * 0.001) * 100, 12);
    expect(r.slippagePct).toBeCloseTo((notional - qty * 100 + qty * (121 - 120.879)) * 100, 12);
  });

  it('liquidates a position still open at the end unless told to mark it', () => {
    const hold = constantCalls(4, 1);
    const marked = replayCalls(hold, closes, costs);
    const liquidated = replayCalls(hold, closes, { ...costs, liquidateAtEnd: true });
    expect(marked.totalPct).toBeCloseTo(((100 / 100.1 / 1.001) - 1) * 100, 10);
    expect(liquidated.totalPct).toBeCloseTo(((100 / 100.1 / 1.001) * 0.999 * 0.999 - 1) * 100, 10);
    expect(marked.trades).toBe(1);
    expect(liquidated.trades).toBe(2);
    expect(Array.from(liquidated.pnl.subarray(0, 3))).toEqual(Array.from(marked.pnl.subarray(0, 3)));
  });

  it('never shorts: a confident bearish call while flat does nothing', () => {
    const r = replayCalls(constantCalls(4, -1), closes, costs);
    expect(r.trades).toBe(0);
    expect(r.totalPct).toBe(0);
  });

  it('refuses inputs that cannot be replayed', () => {
    expect(() => replayCalls(constantCalls(4, 1), closes.slice(0, 4), costs)).toThrow(JudgeInputError);
    expect(() => replayCalls(constantCalls(4, 1), closes, { ...costs, positionFraction: 0 })).toThrow(/position fraction/);
  });
});

/** A seeded random walk of closes. */
function walk(n: number, seed: number, vol = 0.01, drift = 0): number[] {
  const r = mulberry32(seed);
  const out = [100];
  for (let i = 1; i < n; i++) {
    const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    out.push(out[i - 1] * Math.exp(drift + vol * z));
  }
  return out;
}

function randomCalls(n: number, seed: number): Calls {
  const r = mulberry32(seed);
  const dirs: Direction[] = ['bearish', 'neutral', 'bullish'];
  return calls(Array.from({ length: n }, () => [dirs[Math.floor(r() * 3)], r()] as [Direction, number]));
}

describe('replayCalls agrees with the real PaperBroker', () => {
  for (const fraction of [1, 0.1]) {
    it(`per-candle equity matches candle by candle (position_fraction ${fraction})`, () => {
      const closes = walk(600, 7);
      const c = randomCalls(599, 8);
      const cfg = { ...defaultConfig().paper_trading, starting_cash: 1_000_000, fee_rate: 0.001, slippage_bps: 5, position_fraction: fraction };
      const mine = replayCalls(c, closes, { feeRate: 0.001, slippageBps: 5, entryThreshold: 0.55, positionFraction: fraction, liquidateAtEnd: false });
      const broker = new PaperBroker(cfg);
      const dirs: Direction[] = ['bearish', 'neutral', 'bullish'];
      let fills = 0;
      for (let i = 0; i < c.n; i++) {
        // The engine's round: the candle closes (mark), the signal is acted on at that close...
        broker.markPrice('X/USDT', closes[i]);
        const d = decideOrder({ direction: dirs[c.direction[i] + 1], confidence: c.confidence[i] }, broker.positionQty('X/USDT'), closes[i], 0.55);
        if (broker.execute('X/USDT', d, closes[i], i)) fills++;
        // ...and the next candle marks the position.
        broker.markPrice('X/USDT', closes[i + 1]);
        expect(mine.equity[i]).toBeCloseTo(broker.equity() / cfg.starting_cash, 10);
      }
      expect(mine.trades).toBe(fills);
      expect(fills).toBeGreaterThan(20);
      expect(mine.feesPct).toBeCloseTo((broker.feesPaid / cfg.starting_cash) * 100, 8);
    });
  }
});

const HOURS_30D = 720;
const verdictOf = (closes: number[], model: Calls, taOf = closes) => {
  // Four folds of equal length over the series, each judged on its own rows as the pipeline does.
  const n = model.n;
  const L = Math.floor(n / 4);
  const scores = taScores(taOf);
  const folds: FoldJudgement[] = [0, 1, 2, 3].map((k) => {
    const from = k * L;
    const to = from + L;
    const slice = { n: L, direction: model.direction.subarray(from, to), confidence: model.confidence.subarray(from, to) };
    return { span: { from, to: to - 1, recipe: 'fold' }, replays: judgeRows({ closes, from, to, strategies: { ensemble: slice }, taScores: scores, majority: 1, costs: { ...costs, slippageBps: 5 } }) };
  });
  const summary = summariseFolds(folds, { candlesPer30d: HOURS_30D, blockLength: 48 });
  return { summary, v: edgeVerdict({ ...summary, subject: 'ensemble' }, { confidence: 0.9, marginPct: 0.5, candlesPer30d: HOURS_30D }) };
};

describe('the judgement on series whose answer is known', () => {
  it('a planted predictable pattern: the model that knows it has an edge', () => {
    // Two hours up 0.4 %, two hours down 0.4 %, plus noise; the model calls each turn a bar ahead.
    const r = mulberry32(3);
    const closes = [100];
    for (let i = 1; i < 4001; i++) closes.push(closes[i - 1] * (1 + (i % 4 === 1 || i % 4 === 2 ? 0.004 : -0.004) + 0.002 * (r() - 0.5)));
    const model = calls(Array.from({ length: 4000 }, (_, i) => (i % 4 === 0 ? ['bullish', 0.8] : i % 4 === 2 ? ['bearish', 0.8] : ['neutral', 0.3]) as [Direction, number]));
    const { summary, v } = verdictOf(closes, model);
    expect(v.verdict).toBe('edge');
    expect(summary.strategies.ensemble!.total_pct).toBeGreaterThan(100);
    expect(summary.strategies.ensemble!.trades).toBeGreaterThan(1900);
    expect(summary.strategies.ensemble!.lower_pct_30d['0.9']).toBeGreaterThan(0.5);
    expect(v.reason).toMatch(/^ensemble \+[\d,.]+ % vs TA [+-]?[\d.]+ %, no-trade 0 % over 4,000 candles/);
  });

  it('a random walk: random calls have no edge (the costs make them lose)', () => {
    const closes = walk(4001, 11);
    const { summary, v } = verdictOf(closes, randomCalls(4000, 12));
    expect(v.verdict).toBe('no_edge');
    expect(summary.strategies.ensemble!.mean_pct_30d).toBeLessThan(0);
    expect(summary.strategies.ensemble!.trades).toBeGreaterThan(200);
  });

  it('a model that is always right but whose moves are smaller than the fees has no edge', () => {
    // +0.1 % then -0.1 % every hour: a round trip costs 0.3 %, more than any move it catches.
    const closes = [100];
    for (let i = 1; i < 4001; i++) closes.push(closes[i - 1] * (i % 2 === 1 ? 1.001 : 1 / 1.001));
    const model = calls(Array.from({ length: 4000 }, (_, i) => (i % 2 === 0 ? ['bullish', 0.9] : ['bearish', 0.9]) as [Direction, number]));
    const { summary, v } = verdictOf(closes, model);
    // Every call is right...
    for (let i = 0; i < 10; i++) expect(Math.sign(closes[i + 1] - closes[i])).toBe(model.direction[i]);
    // ...and it trades every hour and loses.
    expect(summary.strategies.ensemble!.trades).toBeGreaterThan(3900);
    expect(summary.strategies.ensemble!.total_pct).toBeLessThan(-50);
    expect(v.verdict).toBe('no_edge');
    expect(v.reason).toMatch(/does not beat no-trade/);
  });

  it('baselines on the same rows: no-trade is 0, buy-and-hold pays one entry and one exit', () => {
    const closes = walk(1001, 5, 0.01, 0.0005);
    const j = judgeRows({ closes, from: 100, to: 900, strategies: {}, taScores: taScores(closes), majority: 2, costs: { ...costs, liquidateAtEnd: true } });
    expect(j.no_trade.totalPct).toBe(0);
    expect(j.buy_and_hold.totalPct).toBeCloseTo(((closes[900] / closes[100]) * (0.999 / 1.001) * (0.999 / 1.001) - 1) * 100, 8);
    // Majority class "up" is a constant confident bullish call: the same as buy-and-hold.
    expect(Array.from(j.majority.pnl)).toEqual(Array.from(j.buy_and_hold.pnl));
    // The TA rule acts through the same broker rule: its fills happen only where |score| >= threshold.
    const ta = taCalls(taScores(closes), 100, 900);
    expect(j.ta.trades).toBe(replayCalls(ta, closes.slice(100, 901), { ...costs, liquidateAtEnd: true }).trades);
  });

  it('one classifier\'s probabilities become the live predictor\'s call', () => {
    const c = callsFromProbs([0.1, 0.2, 0.7, 0.5, 0.3, 0.2, 0.3, 0.4, 0.3], 3);
    expect(Array.from(c.direction)).toEqual([1, -1, 0]);
    expect(Array.from(c.confidence)).toEqual([expect.closeTo(0.7, 6), expect.closeTo(0.5, 6), expect.closeTo(0.4, 6)]);
  });
});

describe('parseEdgeReport (what the registry trusts from disk)', () => {
  it('accepts a verdict the pipeline wrote and names the first bad field otherwise', async () => {
    const { parseEdgeReport } = await import('../../src/evaluation/edge.js');
    const closes = walk(801, 21);
    const folds: FoldJudgement[] = [0, 1].map((k) => ({
      span: { from: k * 400, to: k * 400 + 399, recipe: 'fold' },
      replays: judgeRows({ closes, from: k * 400, to: k * 400 + 400, strategies: { ensemble: randomCalls(400, k) }, taScores: taScores(closes), majority: 1, costs }),
    }));
    const s = summariseFolds(folds, { candlesPer30d: 720, blockLength: 48 });
    const v = edgeVerdict({ ...s, subject: 'ensemble' }, { confidence: 0.9, marginPct: 0.5, candlesPer30d: 720 });
    const report = JSON.parse(JSON.stringify({ candles_per_30d: 720, confidence: 0.9, margin_pct: 0.5, symbols: { 'X/USDT': { ...s, subject: 'ensemble', verdict: v.verdict, reason: v.reason, ta_verdict: v.taVerdict, ta_reason: v.taReason } } }));
    expect('edge' in parseEdgeReport(report)).toBe(true);
    report.symbols['X/USDT'].strategies.ta.total_pct = 'big';
    expect(parseEdgeReport(report)).toEqual({ error: 'edge.symbols["X/USDT"].strategies.ta.total_pct: expected a number' });
    expect(parseEdgeReport(null)).toEqual({ error: 'edge: expected an object' });
  });
});

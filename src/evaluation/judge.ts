/**
 * THE judgement: a strategy's calls replayed over candles through the paper broker's own rule
 * (decideOrder: long-only spot, one position, enter on a confident bullish call when flat, exit on
 * a confident bearish call), paying the fee per side and adverse slippage exactly as PaperBroker
 * charges them. Training evaluation, walk-forward verdicts, the promotion gate and `kilo eval` all
 * score through replayCalls / judgeRows, so "PnL" means one thing everywhere.
 *
 * Unit: per-candle PnL is the relative change of the account's equity over one candle,
 * equity[i] / equity[i-1] - 1, for an account that puts `positionFraction` of its equity into a
 * position when it enters (default 1: fully invested, so the figure is what a position earns).
 * Row i's PnL includes the costs of acting at close[i] and the move from close[i] to close[i+1]:
 * the signal of candle i is made when candle i closes and filled at that close, as in the engine.
 */
import type { Direction } from '../engine-api.js';
import { decideOrder } from '../trading/sizing.js';
import { combineSignals, directionClass, type EnsembleWeights, type ModelOutputs } from '../models/ensemble.js';
import type { ModelKind } from '../models/metadata.js';
import { taDirection } from '../models/baselines.js';

export class JudgeInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JudgeInputError';
  }
}

/** A strategy's call on each row: direction -1 bearish / 0 neutral / 1 bullish, and its confidence. */
export interface Calls {
  n: number;
  direction: Int8Array;
  confidence: Float64Array;
}

export interface Costs {
  /** Fee per side as a fraction of the notional (paper_trading.fee_rate). */
  feeRate: number;
  /** Adverse slippage per fill in basis points (paper_trading.slippage_bps). */
  slippageBps: number;
  /**
   * Confidence a call needs to act (paper_trading.entry_threshold). The broker scales it by the
   * symbol's volatility against the median of the traded symbols; judged alone a symbol is its own
   * median, so the ratio is 1 and the base threshold applies.
   */
  entryThreshold: number;
  /** Share of equity an entry commits (the broker's position_fraction). @default 1 */
  positionFraction?: number;
  /**
   * Sell an open position at the last close (fee and slippage paid) so a window ends in cash and
   * strategies that end long are not spared their exit. false = mark to market as the broker does.
   * @default true
   */
  liquidateAtEnd?: boolean;
}

export interface Replay {
  /** Per-candle PnL after costs (see the file comment for the unit). */
  pnl: Float64Array;
  /** Equity after each row, marked at close[i + 1], starting from 1. */
  equity: Float64Array;
  /** Fills (buys + sells, the end-of-window liquidation included). */
  trades: number;
  /** Share of rows that end holding a position. */
  exposure: number;
  /** Fees paid, as % of the starting equity. */
  feesPct: number;
  /** Slippage paid (fill vs close), as % of the starting equity. */
  slippagePct: number;
  /** equity[n-1] - 1, in %. */
  totalPct: number;
}

const NAMES: Direction[] = ['bearish', 'neutral', 'bullish'];

/**
 * Replay `calls` over rows 0..n-1 whose closes are closes[0..n] (closes[n] is the close after the
 * last row: the candle the last row's position is marked on). Every order goes through decideOrder.
 */
export function replayCalls(calls: Calls, closes: ArrayLike<number>, costs: Costs): Replay {
  const n = calls.n;
  if (calls.direction.length !== n || calls.confidence.length !== n) throw new JudgeInputError(`calls hold ${calls.direction.length}/${calls.confidence.length} values for ${n} rows`);
  if (closes.length < n + 1) throw new JudgeInputError(`replay of ${n} rows needs ${n + 1} closes (the one after the last row too), got ${closes.length}`);
  const fee = costs.feeRate;
  const slip = costs.slippageBps / 10_000;
  const fraction = costs.positionFraction ?? 1;
  if (!(fee >= 0) || !(slip >= 0) || !(fraction > 0 && fraction <= 1)) throw new JudgeInputError(`bad costs: fee ${fee}, slippage ${costs.slippageBps} bps, position fraction ${fraction}`);
  const liquidate = costs.liquidateAtEnd ?? true;
  const pnl = new Float64Array(n);
  const equity = new Float64Array(n);
  let cash = 1;
  let qty = 0;
  let prev = 1;
  let trades = 0;
  let held = 0;
  let fees = 0;
  let slipPaid = 0;
  for (let i = 0; i < n; i++) {
    const price = closes[i];
    const d = calls.direction[i];
    const decision = decideOrder({ direction: NAMES[d + 1] ?? 'neutral', confidence: calls.confidence[i] }, qty, price, costs.entryThreshold);
    if (decision.action === 'buy') {
      // PaperBroker.buy: notional = min(fraction * equity, cash / (1 + fee)), filled above the close.
      const notional = Math.min(fraction * (cash + qty * price), cash / (1 + fee));
      if (notional > 0) {
        const fill = price * (1 + slip);
        qty = notional / fill;
        fees += notional * fee;
        slipPaid += notional - qty * price;
        cash = Math.max(0, cash - notional - notional * fee);
        trades++;
      }
    } else if (decision.action === 'sell') {
      ({ cash, fees, slipPaid } = sell(cash, qty, price, fee, slip, fees, slipPaid));
      qty = 0;
      trades++;
    }
    const next = closes[i + 1];
    if (qty > 0) held++;
    if (i === n - 1 && liquidate && qty > 0) {
      ({ cash, fees, slipPaid } = sell(cash, qty, next, fee, slip, fees, slipPaid));
      qty = 0;
      trades++;
    }
    const eq = cash + qty * next;
    equity[i] = eq;
    pnl[i] = eq / prev - 1;
    prev = eq;
  }
  return { pnl, equity, trades, exposure: n ? held / n : 0, feesPct: fees * 100, slippagePct: slipPaid * 100, totalPct: n ? (equity[n - 1] - 1) * 100 : 0 };
}

/** PaperBroker.sell: the whole position at the close minus slippage, the fee on the proceeds. */
function sell(cash: number, qty: number, price: number, fee: number, slip: number, fees: number, slipPaid: number) {
  const fill = price * (1 - slip);
  const proceeds = qty * fill;
  return { cash: cash + proceeds - proceeds * fee, fees: fees + proceeds * fee, slipPaid: slipPaid + qty * (price - fill) };
}

export const emptyCalls = (n: number): Calls => ({ n, direction: new Int8Array(n), confidence: new Float64Array(n) });

/** The same call on every row, with full confidence (buy-and-hold, majority class, no-trade). */
export function constantCalls(n: number, direction: -1 | 0 | 1): Calls {
  const c = emptyCalls(n);
  if (direction !== 0) {
    c.direction.fill(direction);
    c.confidence.fill(1);
  }
  return c;
}

const dirValue = (d: Direction): -1 | 0 | 1 => (d === 'bullish' ? 1 : d === 'bearish' ? -1 : 0);

/** Calls from live-style signals (a replay of recorded predictions, the gate's predictor output). */
export function callsFromSignals(signals: ArrayLike<{ direction: Direction; confidence: number }>): Calls {
  const c = emptyCalls(signals.length);
  for (let i = 0; i < signals.length; i++) {
    c.direction[i] = dirValue(signals[i].direction);
    c.confidence[i] = signals[i].confidence;
  }
  return c;
}

/**
 * Calls of ONE classifier from its n x 3 [down, flat, up] probabilities: what the live predictor
 * emits for an artifact holding only that model (combineSignals with one input).
 */
export function callsFromProbs(probs: ArrayLike<number>, n: number): Calls {
  if (probs.length !== n * 3) throw new JudgeInputError(`probs hold ${probs.length} values for ${n} rows x 3 classes`);
  const c = emptyCalls(n);
  for (let i = 0; i < n; i++) {
    const s = combineSignals({ gbdt: [probs[i * 3], probs[i * 3 + 1], probs[i * 3 + 2]] });
    c.direction[i] = dirValue(s.direction);
    c.confidence[i] = s.confidence;
  }
  return c;
}

/** PPO's class view [down, flat, up] back to its action order [hold, buy, sell] for combineSignals. */
const ppoAsActions = (p: ArrayLike<number>, i: number): number[] => [p[i * 3 + 1], p[i * 3 + 2], p[i * 3]];

/**
 * The ensemble's calls over n rows, combined exactly as the live predictor combines them (same
 * weights, same neutral band). `probs[kind]` is n x 3 in class order [down, flat, up] for every
 * kind (PPO included). Also returns the combined probabilities and argmax classes for the
 * secondary accuracy figures.
 */
export function ensembleCalls(probs: Partial<Record<ModelKind, ArrayLike<number>>>, n: number, weights: EnsembleWeights): { calls: Calls; probs: Float32Array; classes: Uint8Array } {
  const calls = emptyCalls(n);
  const out = new Float32Array(n * 3);
  const classes = new Uint8Array(n);
  const kinds = (Object.keys(probs) as ModelKind[]).filter((k) => probs[k]);
  for (const k of kinds) if (probs[k]!.length !== n * 3) throw new JudgeInputError(`${k} probs hold ${probs[k]!.length} values for ${n} rows x 3 classes`);
  for (let i = 0; i < n; i++) {
    const o: ModelOutputs = {};
    for (const k of kinds) {
      const p = probs[k]!;
      if (k === 'ppo') o.ppo = { action: 0, probs: ppoAsActions(p, i) };
      else o[k] = [p[i * 3], p[i * 3 + 1], p[i * 3 + 2]];
    }
    const s = combineSignals(o, { weights });
    calls.direction[i] = dirValue(s.direction);
    calls.confidence[i] = s.confidence;
    out.set(s.probs, i * 3);
    classes[i] = directionClass(s.direction);
  }
  return { calls, probs: out, classes };
}

/** The TA fallback's calls for rows [from, to) from taScores of the whole series (live taSignal's rule). */
export function taCalls(scores: ArrayLike<number>, from: number, to: number): Calls {
  const c = emptyCalls(to - from);
  for (let i = from; i < to; i++) {
    c.direction[i - from] = dirValue(taDirection(scores[i]));
    c.confidence[i - from] = Math.abs(scores[i]);
  }
  return c;
}

/** Baselines every model is judged beside, on the same rows. */
export type BaselineName = 'no_trade' | 'buy_and_hold' | 'ta' | 'majority';
export const BASELINES: readonly BaselineName[] = ['no_trade', 'buy_and_hold', 'ta', 'majority'];

export interface JudgeRowsInput {
  /** Close of every row of the series (index = row); closes[to] must exist. */
  closes: ArrayLike<number>;
  from: number;
  to: number;
  /** Each strategy's calls on rows [from, to) (n = to - from). */
  strategies: Record<string, Calls>;
  /** taScores(closes) of the whole series (the TA baseline). */
  taScores: ArrayLike<number>;
  /** The majority class of the training labels (0 down, 1 flat, 2 up). */
  majority: 0 | 1 | 2;
  costs: Costs;
}

/** Every strategy and every baseline replayed through the broker's rule on the same rows. */
export function judgeRows(input: JudgeRowsInput): Record<string, Replay> {
  const { from, to } = input;
  const n = to - from;
  if (!(n > 0) || from < 0) throw new JudgeInputError(`no rows to judge in [${from}, ${to})`);
  if (input.closes.length < to + 1) throw new JudgeInputError(`rows [${from}, ${to}) need closes up to index ${to}, got ${input.closes.length}`);
  const closes = sliceOf(input.closes, from, to + 1);
  const all: Record<string, Calls> = {
    ...input.strategies,
    no_trade: constantCalls(n, 0),
    buy_and_hold: constantCalls(n, 1),
    ta: taCalls(input.taScores, from, to),
    majority: constantCalls(n, input.majority === 2 ? 1 : input.majority === 0 ? -1 : 0),
  };
  const out: Record<string, Replay> = {};
  for (const [name, calls] of Object.entries(all)) {
    if (calls.n !== n) throw new JudgeInputError(`${name} has ${calls.n} calls for ${n} rows`);
    out[name] = replayCalls(calls, closes, input.costs);
  }
  return out;
}

const sliceOf = (a: ArrayLike<number>, from: number, to: number): Float64Array => {
  const out = new Float64Array(to - from);
  for (let i = from; i < to; i++) out[i - from] = a[i];
  return out;
};

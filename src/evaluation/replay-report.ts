/**
 * The replay report: what kilo earned over a replay beside buy-and-hold, no-trade and the TA rule
 * alone on the same rounds, from the recorded fills and the closes the broker marked at. Pure: the
 * equity curves are rebuilt from the trades, so every figure can be checked against them.
 *
 * Conventions (the same for every strategy, so the columns compare):
 * - equity is marked to market after each round at that round's close (open positions are not
 *   sold at the end; their exit costs are not paid), as the paper broker reports it;
 * - returns are per round (one candle), the equity before the first round being the starting cash;
 * - Sharpe = mean / sample standard deviation of those returns x sqrt(rounds per year), no risk-free
 *   rate (crypto trades every hour of the year); null when the returns do not vary;
 * - max drawdown = the largest fall from a running peak of the curve, in % of that peak;
 * - exposure = the mean share of equity held in positions after each round;
 * - buy-and-hold splits the starting cash equally and buys every symbol at the first round's close,
 *   paying the fee and slippage the broker charges (PaperBroker.buy), then holds.
 */
import type { TradeEvent } from '../engine-api.js';
import type { Scorecard } from './scorecard.js';

const YEAR_MS = 365 * 86_400_000;

export class ReplayReportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplayReportError';
  }
}

/** The rounds of a replay and the prices they were marked at. */
export interface ReplayTrack {
  stepMs: number;
  startingCash: number;
  symbols: string[];
  /** Timestamp (candle open) of the candle each round closed on, ascending. */
  times: number[];
  /** Per symbol, the close each round was marked at (same length as times). */
  closes: Record<string, number[]>;
  feeRate: number;
  slippageBps: number;
}

export interface Curve {
  equity: Float64Array;
  /** Market value of positions after each round. */
  invested: Float64Array;
  /** Per symbol: 1 where a position is held after the round. */
  held: Record<string, Uint8Array>;
  /** Per symbol: cash flows of its fills (buys negative, fee included) + its marked position at the end. */
  symbolPnl: Record<string, number>;
  symbolFees: Record<string, number>;
  symbolTrades: Record<string, number>;
}

export interface StrategyFigures {
  final_equity: number;
  pnl: number;
  pnl_pct: number;
  max_drawdown_pct: number;
  sharpe: number | null;
  exposure_pct: number;
  trades: number;
  fees: number;
}

export type StrategyKey = 'kilo' | 'ta_only' | 'buy_and_hold' | 'no_trade';
export const STRATEGIES: readonly StrategyKey[] = ['kilo', 'ta_only', 'buy_and_hold', 'no_trade'];
export const STRATEGY_LABEL: Record<StrategyKey, string> = { kilo: 'kilo', ta_only: 'TA only', buy_and_hold: 'buy and hold', no_trade: 'no trade' };

export interface SymbolFigures {
  pnl: number;
  pnl_pct: number;
  trades: number;
  fees: number;
  exposure_pct: number;
}

export interface SymbolRowReport {
  symbol: string;
  first_close: number;
  last_close: number;
  /** The symbol's own price move over the replay, %. */
  move_pct: number;
  /** Contribution to each strategy's PnL (money, and % of the starting cash). */
  kilo: SymbolFigures;
  ta_only: SymbolFigures;
  buy_and_hold: SymbolFigures;
}

export interface ReplayReport {
  from: number;
  to: number;
  rounds: number;
  step_ms: number;
  starting_cash: number;
  symbols: string[];
  costs: { fee_rate: number; slippage_bps: number };
  strategies: Record<StrategyKey, StrategyFigures>;
  per_symbol: SymbolRowReport[];
  /** Equity after each round, per strategy (times = candle timestamps). */
  curves: { times: number[] } & Record<StrategyKey, number[]>;
  scorecard: Scorecard | null;
}

function checkTrack(t: ReplayTrack): void {
  if (!t.times.length) throw new ReplayReportError('the replay has no rounds');
  for (const s of t.symbols) {
    const c = t.closes[s];
    if (!c || c.length !== t.times.length) throw new ReplayReportError(`${s}: ${c?.length ?? 0} closes for ${t.times.length} rounds`);
    if (!c.every((x) => x > 0 && Number.isFinite(x))) throw new ReplayReportError(`${s}: a close is missing or not positive`);
  }
}

/**
 * Cash and positions from the fills, marked after every round: a fill belongs to the first round
 * whose candle is at or after its timestamp (the engine fills at the close of the signal's candle).
 */
export function equityFromTrades(t: ReplayTrack, trades: readonly TradeEvent[]): Curve {
  checkTrack(t);
  const n = t.times.length;
  const sorted = [...trades].sort((a, b) => a.at - b.at);
  const qty = new Map<string, number>();
  const held: Record<string, Uint8Array> = {};
  const symbolPnl: Record<string, number> = {};
  const symbolFees: Record<string, number> = {};
  const symbolTrades: Record<string, number> = {};
  for (const s of t.symbols) {
    held[s] = new Uint8Array(n);
    symbolPnl[s] = 0;
    symbolFees[s] = 0;
    symbolTrades[s] = 0;
  }
  const equity = new Float64Array(n);
  const invested = new Float64Array(n);
  let cash = t.startingCash;
  let j = 0;
  for (let k = 0; k < n; k++) {
    for (; j < sorted.length && sorted[j].at <= t.times[k]; j++) {
      const tr = sorted[j];
      if (!(tr.symbol in held)) throw new ReplayReportError(`a trade of ${tr.symbol}, which is not a replayed symbol`);
      const value = tr.qty * tr.price;
      const flow = tr.side === 'buy' ? -(value + tr.fee) : value - tr.fee;
      cash = tr.side === 'buy' ? Math.max(0, cash + flow) : cash + flow;
      qty.set(tr.symbol, tr.side === 'buy' ? (qty.get(tr.symbol) ?? 0) + tr.qty : 0);
      symbolPnl[tr.symbol] += flow;
      symbolFees[tr.symbol] += tr.fee;
      symbolTrades[tr.symbol]++;
    }
    let mv = 0;
    for (const s of t.symbols) {
      const q = qty.get(s) ?? 0;
      if (q > 0) held[s][k] = 1;
      mv += q * t.closes[s][k];
    }
    invested[k] = mv;
    equity[k] = cash + mv;
  }
  if (j < sorted.length) throw new ReplayReportError(`${sorted.length - j} trade(s) after the last round (${new Date(t.times[n - 1]).toISOString()})`);
  for (const s of t.symbols) symbolPnl[s] += (qty.get(s) ?? 0) * t.closes[s][n - 1];
  return { equity, invested, held, symbolPnl, symbolFees, symbolTrades };
}

/** Equal-weight buy-and-hold bought at the first round's close through the broker's buy costs. */
export function buyAndHoldCurve(t: ReplayTrack): Curve {
  checkTrack(t);
  const budget = t.startingCash / t.symbols.length;
  const notional = budget / (1 + t.feeRate);
  const trades: TradeEvent[] = t.symbols.map((s) => {
    const price = t.closes[s][0] * (1 + t.slippageBps / 10_000);
    return { at: t.times[0], symbol: s, side: 'buy', qty: notional / price, price, fee: notional * t.feeRate, reason: 'buy and hold' };
  });
  return equityFromTrades(t, trades);
}

/** Figures of one equity curve (see the file comment for the definitions). */
export function curveFigures(equity: ArrayLike<number>, invested: ArrayLike<number>, startingCash: number, stepMs: number): Omit<StrategyFigures, 'trades' | 'fees'> {
  const n = equity.length;
  const final = n ? equity[n - 1] : startingCash;
  let peak = startingCash;
  let dd = 0;
  let prev = startingCash;
  let sum = 0;
  let sumSq = 0;
  let exposure = 0;
  for (let k = 0; k < n; k++) {
    const e = equity[k];
    peak = Math.max(peak, e);
    dd = Math.max(dd, peak > 0 ? 1 - e / peak : 0);
    const r = e / prev - 1;
    sum += r;
    sumSq += r * r;
    prev = e;
    exposure += e > 0 ? invested[k] / e : 0;
  }
  const mean = n ? sum / n : 0;
  const variance = n > 1 ? Math.max(0, (sumSq - n * mean * mean) / (n - 1)) : 0;
  const sd = Math.sqrt(variance);
  // Below this the "variation" is rounding in a flat curve, not risk.
  const sharpe = sd > 1e-12 ? (mean / sd) * Math.sqrt(YEAR_MS / stepMs) : null;
  return {
    final_equity: final,
    pnl: final - startingCash,
    pnl_pct: ((final - startingCash) / startingCash) * 100,
    max_drawdown_pct: dd * 100,
    sharpe,
    exposure_pct: n ? (exposure / n) * 100 : 0,
  };
}

function strategyOf(t: ReplayTrack, c: Curve): StrategyFigures {
  const trades = Object.values(c.symbolTrades).reduce((a, b) => a + b, 0);
  const fees = Object.values(c.symbolFees).reduce((a, b) => a + b, 0);
  return { ...curveFigures(c.equity, c.invested, t.startingCash, t.stepMs), trades, fees };
}

function symbolFigures(t: ReplayTrack, c: Curve, s: string): SymbolFigures {
  const held = c.held[s];
  let h = 0;
  for (let k = 0; k < held.length; k++) h += held[k];
  return { pnl: c.symbolPnl[s], pnl_pct: (c.symbolPnl[s] / t.startingCash) * 100, trades: c.symbolTrades[s], fees: c.symbolFees[s], exposure_pct: (h / held.length) * 100 };
}

export interface ReplayReportInput {
  track: ReplayTrack;
  /** The engine's fills (kilo) and the TA-only broker's fills on the same rounds. */
  trades: { kilo: readonly TradeEvent[]; ta_only: readonly TradeEvent[] };
  scorecard?: Scorecard | null;
}

export function buildReplayReport(input: ReplayReportInput): ReplayReport {
  const t = input.track;
  const n = t.times.length;
  const kilo = equityFromTrades(t, input.trades.kilo);
  const ta = equityFromTrades(t, input.trades.ta_only);
  const bh = buyAndHoldCurve(t);
  const flat = new Float64Array(n).fill(t.startingCash);
  const noTrade: StrategyFigures = { ...curveFigures(flat, new Float64Array(n), t.startingCash, t.stepMs), trades: 0, fees: 0 };
  const per_symbol: SymbolRowReport[] = t.symbols.map((s) => ({
    symbol: s,
    first_close: t.closes[s][0],
    last_close: t.closes[s][n - 1],
    move_pct: (t.closes[s][n - 1] / t.closes[s][0] - 1) * 100,
    kilo: symbolFigures(t, kilo, s),
    ta_only: symbolFigures(t, ta, s),
    buy_and_hold: symbolFigures(t, bh, s),
  }));
  return {
    from: t.times[0],
    to: t.times[n - 1] + t.stepMs,
    rounds: n,
    step_ms: t.stepMs,
    starting_cash: t.startingCash,
    symbols: [...t.symbols],
    costs: { fee_rate: t.feeRate, slippage_bps: t.slippageBps },
    strategies: { kilo: strategyOf(t, kilo), ta_only: strategyOf(t, ta), buy_and_hold: strategyOf(t, bh), no_trade: noTrade },
    per_symbol,
    curves: { times: [...t.times], kilo: [...kilo.equity], ta_only: [...ta.equity], buy_and_hold: [...bh.equity], no_trade: [...flat] },
    scorecard: input.scorecard ?? null,
  };
}

const sign = (x: number, digits = 2): string => `${x > 0 ? '+' : x < 0 ? '-' : ''}${Math.abs(x).toFixed(digits)}`;
const money = (x: number): string => sign(x, 2);
const day = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

/** The figures as text tables: strategies side by side, then per symbol. */
export function formatReplayReport(r: ReplayReport): string {
  const cols = STRATEGIES.map((k) => STRATEGY_LABEL[k].padStart(14)).join('');
  const row = (name: string, f: (s: StrategyFigures) => string): string => `  ${name.padEnd(22)}${STRATEGIES.map((k) => f(r.strategies[k]).padStart(14)).join('')}`;
  const lines = [
    `replay report ${day(r.from)} .. ${day(r.to)} UTC, ${r.rounds} candles, ${r.symbols.join(', ')}; starting cash ${r.starting_cash.toFixed(2)}, fee ${(r.costs.fee_rate * 100).toFixed(2)} % + slippage ${r.costs.slippage_bps} bps per side`,
    `  ${''.padEnd(22)}${cols}`,
    row('PnL after fees', (s) => money(s.pnl)),
    row('PnL after fees %', (s) => `${sign(s.pnl_pct)} %`),
    row('max drawdown', (s) => `${s.max_drawdown_pct.toFixed(2)} %`),
    row('Sharpe (annualised)', (s) => (s.sharpe === null ? 'n/a' : s.sharpe.toFixed(2))),
    row('exposure', (s) => `${s.exposure_pct.toFixed(1)} %`),
    row('trades', (s) => String(s.trades)),
    row('fees', (s) => s.fees.toFixed(2)),
    'per symbol (PnL contribution after fees, % of starting cash; trades; share of candles holding it):',
    `  ${'symbol'.padEnd(12)}${'move'.padStart(10)}${'kilo'.padStart(26)}${'TA only'.padStart(26)}${'buy and hold'.padStart(16)}`,
  ];
  const sym = (f: SymbolFigures): string => `${sign(f.pnl_pct)} % ${String(f.trades).padStart(4)}t ${f.exposure_pct.toFixed(0).padStart(3)}%`;
  for (const s of r.per_symbol) {
    lines.push(`  ${s.symbol.padEnd(12)}${`${sign(s.move_pct)} %`.padStart(10)}${sym(s.kilo).padStart(26)}${sym(s.ta_only).padStart(26)}${`${sign(s.buy_and_hold.pnl_pct)} %`.padStart(16)}`);
  }
  const k = r.strategies.kilo;
  const beat = (o: StrategyKey): string => `${k.pnl_pct > r.strategies[o].pnl_pct ? 'beat' : 'did not beat'} ${STRATEGY_LABEL[o]} (${sign(r.strategies[o].pnl_pct)} %)`;
  lines.push(`verdict: kilo ${sign(k.pnl_pct)} % after fees ${beat('no_trade')}, ${beat('buy_and_hold')}, ${beat('ta_only')}`);
  return lines.join('\n');
}

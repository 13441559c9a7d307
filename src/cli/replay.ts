/**
 * `kilo replay`: the same engine driven over historical CSV candles with a simulated clock, one
 * candle per round, waiting for trainings so retrain triggers fire and the queue drains in
 * simulated time. Ends with a summary beside buy-and-hold and no-trade.
 */
import { mkdir, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ManualClock } from '../clock.js';
import type { Config } from '../config/schema.js';
import { servingAfter, type PromotionDecision, type TradeEvent } from '../engine-api.js';
import { createEngine } from '../engine.js';
import { CsvMarketSource } from '../market/csv-source.js';
import { TIMEFRAME_MS, type Timeframe } from '../market/types.js';

export interface ReplayOptions {
  config: Config;
  configPath: string;
  csvDir: string;
  stateDir: string;
  from?: number;
  to?: number;
  /** Rounds per second; 0 = as fast as possible. */
  speed: number;
  symbols?: string[];
  keepState: boolean;
  onLine?: (line: string) => void;
}

export interface ReplaySummary {
  from: number;
  to: number;
  rounds: number;
  symbols: string[];
  signals: number;
  correct: number;
  winRate: number | null;
  retrains: { at: number; symbol: string; reason: string }[];
  decisions: PromotionDecision[];
  promoted: number;
  kept: number;
  startingCash: number;
  finalEquity: number;
  pnl: number;
  pnlPct: number;
  feesPaid: number;
  buyAndHoldPct: number;
  noTradePct: number;
  trades: TradeEvent[];
  firstPrices: Record<string, number>;
  lastPrices: Record<string, number>;
  openPositions: { symbol: string; qty: number }[];
}

const DAY_MS = 86_400_000;

export async function runReplay(o: ReplayOptions): Promise<ReplaySummary> {
  const tf = o.config.exchange.timeframe as Timeframe;
  const step = TIMEFRAME_MS[tf];
  const csvDir = resolve(o.csvDir);
  const probe = new CsvMarketSource(csvDir, new ManualClock(Number.MAX_SAFE_INTEGER / 2));
  const available = (await probe.listSymbols(tf)).map((s) => s.symbol);
  if (!available.length) throw new Error(`${csvDir}: no *-${tf}.csv files`);
  const wanted = o.symbols ?? o.config.universe.symbols.filter((s) => available.includes(s));
  const symbols = wanted.length ? wanted : available.slice(0, 5);
  const missing = symbols.filter((s) => !available.includes(s));
  if (missing.length) throw new Error(`${csvDir}: no ${tf} candles for ${missing.join(', ')}`);

  // The files' ranges come from their streaming index: a large CSV is never held whole.
  const series = await Promise.all(symbols.map((s) => probe.range(s, tf)));
  const empty = symbols.filter((_, i) => series[i].first === null);
  if (empty.length) throw new Error(`${csvDir}: no ${tf} candles for ${empty.join(', ')}`);
  const firstTs = Math.max(...series.map((c) => c.first!));
  const lastTs = Math.min(...series.map((c) => c.last!));
  // Default start leaves the history policy enough past to train on.
  const from = Math.floor((o.from ?? firstTs + (o.config.model.min_history_days_to_train + 30) * DAY_MS) / step) * step;
  const to = Math.min(o.to ?? lastTs + step, lastTs + step);
  if (!(from < to)) throw new Error(`empty replay window: from ${new Date(from).toISOString()} to ${new Date(to).toISOString()}`);

  if (!o.keepState) await rm(o.stateDir, { recursive: true, force: true });
  await mkdir(o.stateDir, { recursive: true });
  const config: Config = {
    ...o.config,
    data: { ...o.config.data, source: 'csv', csv_dir: csvDir },
    universe: { ...o.config.universe, mode: 'list', symbols, core_symbols: [] },
  };
  const marketClock = new ManualClock(from);
  const engine = await createEngine({
    home: o.stateDir,
    config,
    configPath: o.configPath,
    marketClock,
    clock: marketClock,
    onLogLine: o.onLine,
  });
  const trades: TradeEvent[] = [];
  engine.on('trade', (t) => trades.push(t));
  const firstPrices: Record<string, number> = {};
  const lastPrices: Record<string, number> = {};
  engine.on('signal', () => undefined);
  await engine.start({ loop: false });
  let rounds = 0;
  const pace = o.speed > 0 ? 1000 / o.speed : 0;
  for (let t = from; t + step <= to; t += step) {
    const t0 = Date.now();
    await engine.runRound();
    // Trainings finish "instantly" in simulated time: the next candle waits for them.
    await engine.idle();
    await engine.pumpQueue();
    await engine.idle();
    rounds++;
    for (const row of engine.getSnapshot().symbols) {
      if (row.price === null) continue;
      if (!(row.symbol in firstPrices)) firstPrices[row.symbol] = row.price;
      lastPrices[row.symbol] = row.price;
    }
    marketClock.advance(step);
    if (pace) await new Promise((r) => setTimeout(r, Math.max(0, pace - (Date.now() - t0))));
  }
  await engine.stop();
  const overall = engine.outcomes.overall();
  const view = engine.broker.view();
  const decisions = engine.promotions.list().slice().reverse();
  const fee = config.paper_trading.fee_rate;
  const bh = Object.keys(firstPrices).map((s) => (lastPrices[s] / firstPrices[s]) * (1 - fee) * (1 - fee) - 1);
  return {
    from,
    to,
    rounds,
    symbols,
    signals: overall.signals,
    correct: overall.correct,
    winRate: overall.winRate,
    retrains: engine.queue
      .list()
      .filter((e) => e.trigger === 'retrain')
      .map((e) => ({ at: e.added_at, symbol: e.symbol, reason: e.reason })),
    decisions,
    promoted: decisions.filter((d) => d.kind === 'promoted').length,
    kept: decisions.filter((d) => d.kind !== 'promoted').length,
    startingCash: config.paper_trading.starting_cash,
    finalEquity: view.equity,
    pnl: view.pnl,
    pnlPct: view.pnlPct,
    feesPaid: engine.broker.feesPaid,
    buyAndHoldPct: bh.length ? (bh.reduce((a, b) => a + b, 0) / bh.length) * 100 : 0,
    noTradePct: 0,
    trades,
    firstPrices,
    lastPrices,
    openPositions: engine.broker.openPositions().map((p) => ({ symbol: p.symbol, qty: p.qty })),
  };
}

const pct = (x: number | null): string => (x === null ? 'n/a' : `${x >= 0 ? '+' : ''}${x.toFixed(2)}%`);
const day = (t: number): string => new Date(t).toISOString().slice(0, 16).replace('T', ' ');

export function formatReplaySummary(s: ReplaySummary): string {
  const lines = [
    `replay ${day(s.from)} .. ${day(s.to)} UTC, ${s.rounds} rounds, ${s.symbols.join(', ')}`,
    `signals scored: ${s.signals}, correct ${s.correct}, win rate ${s.winRate === null ? 'n/a' : `${(s.winRate * 100).toFixed(1)}%`}`,
    `retrains queued: ${s.retrains.length}`,
    ...s.retrains.map((r) => `  ${day(r.at)} ${r.symbol}: ${r.reason}`),
    `model decisions: ${s.decisions.length} (promoted ${s.promoted}, kept ${s.kept})`,
    ...s.decisions.map((d) => `  ${day(d.at)} ${d.symbol}: ${d.kind} ${servingAfter(d) ?? '-'} - ${d.reason}`),
    `trades: ${s.trades.length}, fees paid ${s.feesPaid.toFixed(2)}`,
    `paper PnL after fees: ${s.pnl.toFixed(2)} (${pct(s.pnlPct)}) | buy-and-hold (equal weight): ${pct(s.buyAndHoldPct)} | no-trade: ${pct(s.noTradePct)}`,
  ];
  return lines.join('\n');
}

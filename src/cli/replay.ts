/**
 * `kilo replay`: the same engine driven over historical CSV candles with a simulated clock, one
 * candle per round, waiting for trainings so retrain triggers fire and the queue drains in
 * simulated time. Beside it, in the same run and on the same candles, a second paper broker trades
 * the TA rule alone. Ends with the report (src/evaluation/replay-report.ts): kilo beside
 * buy-and-hold, no-trade and TA only, per symbol, and the promotion gate's scorecard.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ManualClock } from '../clock.js';
import type { Config } from '../config/schema.js';
import { servingAfter, type PromotionDecision, type TradeEvent } from '../engine-api.js';
import { createEngine } from '../engine.js';
import { CsvMarketSource } from '../market/csv-source.js';
import { TIMEFRAME_MS, type Candle, type Timeframe } from '../market/types.js';
import { taDirection, taScores } from '../models/baselines.js';
import { PaperBroker } from '../trading/broker.js';
import { TradingDesk } from '../trading/desk.js';
import { OutcomeTracker } from '../trading/outcomes.js';
import { buildReplayReport, formatReplayReport, type ReplayReport, type ReplayTrack } from '../evaluation/replay-report.js';
import { runScorecard } from '../evaluation/scorecard-run.js';
import { formatScorecard } from '../evaluation/scorecard.js';
import { terminalChart } from '../evaluation/replay-chart.js';

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
  /** Score the gate's decisions on the days after them (needs their artifacts). @default true */
  scorecard?: boolean;
  /** Ends the replay early (after the round in progress): the report covers the rounds done. */
  signal?: AbortSignal;
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
  /** The rounds and the closes they were marked at (the report's input). */
  track: ReplayTrack;
  /** The engine broker's equity after each round, as it reported it (the report rebuilds it from the trades). */
  equityRecorded: number[];
  /** Fills of the TA-only broker on the same rounds. */
  taTrades: TradeEvent[];
  report: ReplayReport;
  /** Wall time (ms) by what it was spent on: the round's phases, the wait for trainings, the TA-only broker and the replay's own bookkeeping. */
  wallMs: Record<string, number>;
}

const DAY_MS = 86_400_000;

export async function runReplay(o: ReplayOptions): Promise<ReplaySummary> {
  const setupStarted = performance.now();
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
  const ranges = await Promise.all(symbols.map((s) => probe.range(s, tf)));
  const empty = symbols.filter((_, i) => ranges[i].first === null);
  if (empty.length) throw new Error(`${csvDir}: no ${tf} candles for ${empty.join(', ')}`);
  const firstTs = Math.max(...ranges.map((c) => c.first!));
  const lastTs = Math.min(...ranges.map((c) => c.last!));
  // Default start leaves the history policy enough past to train on.
  const from = Math.floor((o.from ?? firstTs + (o.config.model.min_history_days_to_train + 30) * DAY_MS) / step) * step;
  const to = Math.min(o.to ?? lastTs + step, lastTs + step);
  if (!(from < to)) throw new Error(`empty replay window: from ${new Date(from).toISOString()} to ${new Date(to).toISOString()}`);

  // Every candle of the window and enough before it for the TA rule's EMAs, read once: the TA-only
  // broker trades them and the report marks every strategy at these closes.
  const history = await Promise.all(symbols.map((s) => probe.fetchCandles(s, tf, from - TA_WARMUP_BARS * step, to)));
  const series = new Map(symbols.map((s, i) => [s, seriesOf(history[i])]));

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
    // The replay's home is its own and is never resumed from the middle: state is written every
    // REPLAY_PERSIST_ROUNDS rounds and completely (temp, fsync, rename) when it ends.
    replay: { persistEveryRounds: REPLAY_PERSIST_ROUNDS },
  });
  const trades: TradeEvent[] = [];
  engine.on('trade', (t) => trades.push(t));
  const firstPrices: Record<string, number> = {};
  const lastPrices: Record<string, number> = {};
  engine.on('signal', () => undefined);
  const ta = await taOnlyDesk(config, join(o.stateDir, 'ta-only'));
  const track: ReplayTrack = {
    stepMs: step,
    startingCash: config.paper_trading.starting_cash,
    symbols,
    times: [],
    closes: Object.fromEntries(symbols.map((s) => [s, []])),
    feeRate: config.paper_trading.fee_rate,
    slippageBps: config.paper_trading.slippage_bps,
  };
  const equityRecorded: number[] = [];
  const wallMs: Record<string, number> = {};
  const lap = (what: string, since: number): number => {
    const t = performance.now();
    wallMs[what] = (wallMs[what] ?? 0) + t - since;
    return t;
  };
  let w = lap('setup', setupStarted);
  await engine.start({ loop: false });
  w = lap('start', w);
  let rounds = 0;
  const pace = o.speed > 0 ? 1000 / o.speed : 0;
  for (let t = from; t + step <= to; t += step) {
    if (o.signal?.aborted) {
      o.onLine?.(`replay stopped at ${new Date(t).toISOString()} (${rounds} rounds done): the report covers them`);
      break;
    }
    const t0 = Date.now();
    let w0 = performance.now();
    // The round at market time t acts on the candle that opened at t - step (it closed at t).
    const bar = t - step;
    ta.round(series, bar);
    w0 = lap('ta_only', w0);
    await engine.runRound();
    w0 = lap('round', w0);
    // Trainings finish "instantly" in simulated time: the next candle waits for them. The round
    // pumped the queue last; only a training that finished since can have freed a slot for another.
    const training = engine.trainingsRunning() > 0;
    await engine.idle();
    if (training) {
      await engine.pumpQueue();
      await engine.idle();
    }
    w0 = lap('training_wait', w0);
    rounds++;
    track.times.push(bar);
    for (const sym of symbols) track.closes[sym].push(series.get(sym)!.closeAt(bar));
    equityRecorded.push(engine.broker.equity());
    for (const row of engine.getSnapshot().symbols) {
      if (row.price === null) continue;
      if (!(row.symbol in firstPrices)) firstPrices[row.symbol] = row.price;
      lastPrices[row.symbol] = row.price;
    }
    marketClock.advance(step);
    lap('replay', w0);
    if (pace) await new Promise((r) => setTimeout(r, Math.max(0, pace - (Date.now() - t0))));
  }
  w = performance.now();
  await engine.stop();
  lap('stop', w);
  // The round's share, phase by phase (the engine's own figures; 'round' above is their sum and the rest).
  for (const [k, v] of Object.entries(engine.roundPhases())) wallMs[`round.${k}`] = v;
  const overall = engine.outcomes.overall();
  const view = engine.broker.view();
  const decisions = engine.promotions.list().slice().reverse();
  const lastBar = track.times.at(-1);
  w = performance.now();
  const scorecard =
    o.scorecard === false || lastBar === undefined
      ? null
      : await runScorecard({
          decisions,
          config,
          versions: engine.registry.list(),
          // Simulated time: only candles that had closed when the replay ended exist.
          candles: async (s, since, until) => series.get(s)!.candles.filter((c) => c.timestamp >= since && c.timestamp <= until),
          dataEnd: Object.fromEntries(symbols.map((s) => [s, lastBar])),
        });
  const report = buildReplayReport({ track, trades: { kilo: trades, ta_only: ta.trades }, scorecard });
  lap('report', w);
  return {
    from,
    to: Math.min(to, from + rounds * step),
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
    buyAndHoldPct: report.strategies.buy_and_hold.pnl_pct,
    noTradePct: 0,
    trades,
    firstPrices,
    lastPrices,
    openPositions: engine.broker.openPositions().map((p) => ({ symbol: p.symbol, qty: p.qty })),
    track,
    equityRecorded,
    taTrades: ta.trades,
    report,
    wallMs,
  };
}

/** Rounds between two writes of the replay's engine state and stats (always written at the end). */
export const REPLAY_PERSIST_ROUNDS = 500;

/** Bars of history before the window: the TA rule's EMA(26) and RSI(14) settle well within it. */
const TA_WARMUP_BARS = 500;

interface Series {
  candles: Candle[];
  /** The close of the candle opened at `bar`; across a gap in the file, the last close before it. */
  closeAt(bar: number): number;
  /** Index of the candle opened at `bar`, or -1. */
  indexAt(bar: number): number;
  ta: Float64Array;
}

function seriesOf(candles: Candle[]): Series {
  const index = new Map(candles.map((c, i) => [c.timestamp, i]));
  const ta = taScores(candles.map((c) => c.close));
  const before = (bar: number): number => {
    let lo = 0;
    let hi = candles.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (candles[mid].timestamp <= bar) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best;
  };
  return {
    candles,
    ta,
    indexAt: (bar) => index.get(bar) ?? -1,
    closeAt: (bar) => {
      const i = index.get(bar) ?? before(bar);
      // No candle yet at the window's start: the first one the symbol has (it cannot trade before it).
      return candles[i >= 0 ? i : 0].close;
    },
  };
}

/**
 * A second paper broker that trades the TA fallback rule alone (the judgement's TA baseline:
 * taScores over the series) through the same desk as the engine: volatility-scaled threshold,
 * decideOrder, fees and slippage. Its outcomes file stays in memory (never saved).
 */
async function taOnlyDesk(config: Config, dir: string) {
  const broker = new PaperBroker(config.paper_trading);
  const outcomes = await OutcomeTracker.open(join(dir, 'performance.json'), { feeRate: config.paper_trading.fee_rate });
  const desk = new TradingDesk({ broker, outcomes, config });
  const trades: TradeEvent[] = [];
  return {
    trades,
    round(series: Map<string, Series>, bar: number): void {
      const fresh: [string, Series, number][] = [];
      for (const [symbol, s] of series) {
        const i = s.indexAt(bar);
        if (i < 0) continue;
        desk.onCandle(symbol, s.candles[i]);
        fresh.push([symbol, s, i]);
      }
      for (const [symbol, s, i] of fresh) {
        const score = s.ta[i];
        const r = desk.onSignal({ symbol, at: bar, direction: taDirection(score), confidence: Math.abs(score), contributions: { ta: score }, modelVersion: null, fallback: true }, s.candles[i].close, bar);
        if (r.trade) trades.push(r.trade);
      }
    },
  };
}

const pct = (x: number | null): string => (x === null ? 'n/a' : `${x >= 0 ? '+' : ''}${x.toFixed(2)}%`);
const day = (t: number): string => new Date(t).toISOString().slice(0, 16).replace('T', ' ');

export function formatReplaySummary(s: ReplaySummary, o: { color?: boolean; chartWidth?: number } = {}): string {
  const lines = [
    `replay ${day(s.from)} .. ${day(s.to)} UTC, ${s.rounds} rounds, ${s.symbols.join(', ')}`,
    `signals scored: ${s.signals}, correct ${s.correct}, win rate ${s.winRate === null ? 'n/a' : `${(s.winRate * 100).toFixed(1)}%`}`,
    `retrains queued: ${s.retrains.length}`,
    ...s.retrains.map((r) => `  ${day(r.at)} ${r.symbol}: ${r.reason}`),
    `model decisions: ${s.decisions.length} (promoted ${s.promoted}, kept ${s.kept})`,
    ...s.decisions.map((d) => `  ${day(d.at)} ${d.symbol}: ${d.kind} ${servingAfter(d) ?? '-'} - ${d.reason}`),
    `trades: ${s.trades.length}, fees paid ${s.feesPaid.toFixed(2)}`,
    `paper PnL after fees: ${s.pnl.toFixed(2)} (${pct(s.pnlPct)}) | buy-and-hold (equal weight): ${pct(s.buyAndHoldPct)} | no-trade: ${pct(s.noTradePct)}`,
    '',
    formatReplayReport(s.report),
    '',
    s.report.scorecard ? formatScorecard(s.report.scorecard, { maxRows: 40 }) : 'gate scorecard: not computed (--no-scorecard)',
    '',
    terminalChart(s.report, { color: o.color, width: o.chartWidth }),
  ];
  return lines.join('\n');
}

/** Everything --json prints, keys in snake_case (the report's own, and the run's records). */
export function replayJson(s: ReplaySummary): Record<string, unknown> {
  const trade = (t: TradeEvent) => ({ at: t.at, symbol: t.symbol, side: t.side, qty: t.qty, price: t.price, fee: t.fee, reason: t.reason, ...(t.realisedPnl !== undefined ? { realised_pnl: t.realisedPnl } : {}) });
  return {
    ...s.report,
    // The window the replay was asked for (the report's own range starts at the first marked candle's open).
    from: s.from,
    to: s.to,
    signals: s.signals,
    correct: s.correct,
    win_rate: s.winRate,
    retrains: s.retrains,
    decisions: s.decisions.map((d) => ({ at: d.at, symbol: d.symbol, kind: d.kind, champion_version: d.championVersion, challenger_version: d.challengerVersion, champion_score: d.championScore, challenger_score: d.challengerScore, serving_version: servingAfter(d), reason: d.reason })),
    promoted: s.promoted,
    kept: s.kept,
    open_positions: s.openPositions,
    first_prices: s.firstPrices,
    last_prices: s.lastPrices,
    trades: s.trades.map(trade),
    ta_only_trades: s.taTrades.map(trade),
  };
}

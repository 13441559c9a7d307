/**
 * The replay report on real candles (../shared/data/ohlcv): a short replay of BTC and ETH with a
 * tiny config, then every figure of the report recomputed here, independently, from what the run
 * recorded: the fills, the engine broker's own equity after each round, and the closes read from
 * the CSV files themselves (not from the replay).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtemp, readFile, rm, readdir } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runReplay, formatReplaySummary, replayJson, type ReplaySummary } from '../../src/cli/replay.js';
import { reportTarget, writeReport } from '../../src/cli/commands/replay.js';
import type { TradeEvent } from '../../src/engine-api.js';
import { taScores } from '../../src/models/baselines.js';
import { runScorecard } from '../../src/evaluation/scorecard-run.js';
import { discoverModels } from '../../src/registry/discover.js';
import { DATA, hasData, testConfig } from '../engine/helpers.js';

const HOUR = 3_600_000;
const ROOT = resolve(__dirname, '../..');

/** Closes by open time straight from the CSV file. */
async function csvCloses(symbol: string): Promise<Map<number, number>> {
  const text = await readFile(join(DATA, `${symbol.replace('/', '-')}-1h.csv`), 'utf8');
  const out = new Map<number, number>();
  for (const line of text.split('\n').slice(1)) {
    const f = line.split(',');
    if (f.length >= 5) out.set(Number(f[0]), Number(f[4]));
  }
  return out;
}

/** Every candle of the CSV file (the scorecard's predictors need real OHLCV). */
async function csvCandles(symbol: string) {
  const text = await readFile(join(DATA, `${symbol.replace('/', '-')}-1h.csv`), 'utf8');
  return text
    .split('\n')
    .slice(1)
    .map((l) => l.split(',').map(Number))
    .filter((f) => f.length >= 6)
    .map(([timestamp, open, high, low, close, volume]) => ({ timestamp, open, high, low, close, volume }));
}

/** Equity after each round from the fills, marked at `closes`: the broker's bookkeeping, written again. */
function rebuild(trades: readonly TradeEvent[], times: number[], closes: Record<string, number[]>, cash0: number) {
  let cash = cash0;
  const qty: Record<string, number> = {};
  const equity: number[] = [];
  const invested: number[] = [];
  const held: Record<string, number> = {};
  const flows: Record<string, number> = {};
  let j = 0;
  const ts = [...trades].sort((a, b) => a.at - b.at);
  times.forEach((t, k) => {
    while (j < ts.length && ts[j].at <= t) {
      const x = ts[j++];
      const v = x.qty * x.price;
      if (x.side === 'buy') {
        cash = Math.max(0, cash - v - x.fee);
        qty[x.symbol] = (qty[x.symbol] ?? 0) + x.qty;
        flows[x.symbol] = (flows[x.symbol] ?? 0) - v - x.fee;
      } else {
        cash += v - x.fee;
        qty[x.symbol] = 0;
        flows[x.symbol] = (flows[x.symbol] ?? 0) + v - x.fee;
      }
    }
    let mv = 0;
    for (const [s, q] of Object.entries(qty)) {
      mv += q * closes[s][k];
      if (q > 0) held[s] = (held[s] ?? 0) + 1;
    }
    equity.push(cash + mv);
    invested.push(mv);
  });
  const last = times.length - 1;
  const symbolPnl = Object.fromEntries(Object.keys(closes).map((s) => [s, (flows[s] ?? 0) + (qty[s] ?? 0) * closes[s][last]]));
  return { equity, invested, held, symbolPnl };
}

function stats(equity: number[], invested: number[], cash0: number) {
  const rets = equity.map((e, i) => e / (i ? equity[i - 1] : cash0) - 1);
  const m = rets.reduce((a, b) => a + b, 0) / rets.length;
  const sd = Math.sqrt(rets.reduce((a, r) => a + (r - m) ** 2, 0) / (rets.length - 1));
  let peak = cash0;
  let dd = 0;
  for (const e of equity) {
    peak = Math.max(peak, e);
    dd = Math.max(dd, (peak - e) / peak);
  }
  const exposure = invested.reduce((a, v, i) => a + v / equity[i], 0) / equity.length;
  return { pnl: equity.at(-1)! - cash0, dd: dd * 100, sharpe: sd > 0 ? (m / sd) * Math.sqrt(365 * 24) : null, exposure: exposure * 100 };
}

describe.skipIf(!hasData)('replay report on real candles (skipped when ../shared/data/ohlcv is absent: it replays real BTC and ETH hours)', () => {
  let home: string;
  let s: ReplaySummary;
  afterAll(async () => {
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('replays a short window and every report figure matches a recomputation from the trades and the CSV closes', async () => {
    home = await mkdtemp(join(tmpdir(), 'kilo-replay-report-'));
    const config = testConfig((c) => {
      c.universe.symbols = ['BTC/USDT', 'ETH/USDT'];
      c.training.walk_forward_folds = 0;
      c.training.auto_profile = 'quick';
      c.training.quick = { ...c.training.quick, trees: 8, data_days: 100 };
      c.auto_training.initial_train_after_signals = 5;
      c.auto_training.max_days_between_retrain = 1;
      c.auto_training.min_trades_before_retrain = 5;
      c.auto_training.gate_days = 2;
      c.auto_training.scorecard_days = 1;
      c.model.require_edge = false;
      c.paper_trading.entry_threshold = 0.2;
    });
    s = await runReplay({
      config,
      configPath: join(home, 'config.yaml'),
      csvDir: DATA,
      stateDir: join(home, 'replay'),
      from: Date.UTC(2023, 2, 1),
      to: Date.UTC(2023, 2, 6),
      speed: 0,
      keepState: false,
    });
    if (process.env.KILO_DEBUG) console.log(formatReplaySummary(s, { chartWidth: 60 }));
    const r = s.report;
    const cash0 = config.paper_trading.starting_cash;
    expect(r.rounds).toBe(5 * 24);
    expect(s.track.times[0]).toBe(Date.UTC(2023, 2, 1) - HOUR);

    // The closes the report marked at are the CSV's own.
    const closes: Record<string, number[]> = {};
    for (const sym of ['BTC/USDT', 'ETH/USDT']) {
      const csv = await csvCloses(sym);
      closes[sym] = r.curves.times.map((t) => csv.get(t)!);
      expect(closes[sym]).toEqual(s.track.closes[sym]);
    }
    // kilo: the equity rebuilt from the fills is the engine broker's own equity, round by round.
    expect(s.trades.length).toBeGreaterThan(0);
    const kilo = rebuild(s.trades, r.curves.times, closes, cash0);
    kilo.equity.forEach((e, k) => expect(e).toBeCloseTo(s.equityRecorded[k], 6));
    kilo.equity.forEach((e, k) => expect(r.curves.kilo[k]).toBeCloseTo(e, 6));
    const ks = stats(kilo.equity, kilo.invested, cash0);
    expect(r.strategies.kilo.pnl).toBeCloseTo(ks.pnl, 6);
    expect(r.strategies.kilo.pnl).toBeCloseTo(s.pnl, 6);
    expect(r.strategies.kilo.pnl_pct).toBeCloseTo((ks.pnl / cash0) * 100, 8);
    expect(r.strategies.kilo.max_drawdown_pct).toBeCloseTo(ks.dd, 8);
    expect(r.strategies.kilo.sharpe!).toBeCloseTo(ks.sharpe!, 6);
    expect(r.strategies.kilo.exposure_pct).toBeCloseTo(ks.exposure, 6);
    expect(r.strategies.kilo.trades).toBe(s.trades.length);
    expect(r.strategies.kilo.fees).toBeCloseTo(s.feesPaid, 6);

    // TA only: a second broker on the same rounds; its fills follow the TA rule's score on the CSV.
    expect(s.taTrades.length).toBeGreaterThan(0);
    const ta = rebuild(s.taTrades, r.curves.times, closes, cash0);
    const ts = stats(ta.equity, ta.invested, cash0);
    expect(r.strategies.ta_only.pnl).toBeCloseTo(ts.pnl, 6);
    expect(r.strategies.ta_only.max_drawdown_pct).toBeCloseTo(ts.dd, 8);
    expect(r.strategies.ta_only.sharpe!).toBeCloseTo(ts.sharpe!, 6);
    expect(r.strategies.ta_only.exposure_pct).toBeCloseTo(ts.exposure, 6);
    expect(r.strategies.ta_only.trades).toBe(s.taTrades.length);
    expect(r.strategies.ta_only.fees).toBeCloseTo(s.taTrades.reduce((a, t) => a + t.fee, 0), 8);
    for (const t of s.taTrades) {
      const csv = await csvCloses(t.symbol);
      const times = [...csv.keys()].filter((x) => x <= t.at).sort((a, b) => a - b);
      const score = taScores(times.map((x) => csv.get(x)!)).at(-1)!;
      // A buy on a bullish score, a sell on a bearish one, both above the base threshold (scaled by volatility).
      if (t.side === 'buy') expect(score).toBeGreaterThan(0.15);
      else expect(score).toBeLessThan(-0.15);
      expect(Math.abs(score)).toBeGreaterThanOrEqual(0.2 * Math.SQRT1_2 - 1e-9);
    }

    // Buy and hold: half the cash into each symbol at the first close, fee and slippage as the broker charges.
    const fee = config.paper_trading.fee_rate;
    const slip = config.paper_trading.slippage_bps / 10_000;
    const bhEq = r.curves.times.map((_, k) => ['BTC/USDT', 'ETH/USDT'].reduce((a, sym) => a + ((cash0 / 2 / (1 + fee)) / (closes[sym][0] * (1 + slip))) * closes[sym][k], 0));
    const bs = stats(bhEq, bhEq, cash0);
    expect(r.strategies.buy_and_hold.pnl).toBeCloseTo(bs.pnl, 6);
    expect(r.strategies.buy_and_hold.max_drawdown_pct).toBeCloseTo(bs.dd, 8);
    expect(r.strategies.buy_and_hold.sharpe!).toBeCloseTo(bs.sharpe!, 6);
    expect(r.strategies.buy_and_hold.exposure_pct).toBeCloseTo(100, 8);
    expect(s.buyAndHoldPct).toBeCloseTo((bs.pnl / cash0) * 100, 8);
    expect(r.strategies.no_trade).toMatchObject({ pnl: 0, pnl_pct: 0, max_drawdown_pct: 0, sharpe: null, exposure_pct: 0, trades: 0, fees: 0 });

    // Per symbol: contributions add up to the totals and match the fills of each symbol.
    for (const row of r.per_symbol) {
      expect(row.kilo.pnl).toBeCloseTo(kilo.symbolPnl[row.symbol], 6);
      expect(row.ta_only.pnl).toBeCloseTo(ta.symbolPnl[row.symbol], 6);
      expect(row.kilo.trades).toBe(s.trades.filter((t) => t.symbol === row.symbol).length);
      expect(row.kilo.exposure_pct).toBeCloseTo(((kilo.held[row.symbol] ?? 0) / r.rounds) * 100, 8);
      expect(row.move_pct).toBeCloseTo((closes[row.symbol].at(-1)! / closes[row.symbol][0] - 1) * 100, 8);
    }
    expect(r.per_symbol.reduce((a, x) => a + x.kilo.pnl, 0)).toBeCloseTo(r.strategies.kilo.pnl, 6);
    expect(r.per_symbol.reduce((a, x) => a + x.buy_and_hold.pnl, 0)).toBeCloseTo(r.strategies.buy_and_hold.pnl, 6);

    // The scorecard judged the gated decisions whose next day had closed inside the replay.
    const card = r.scorecard!;
    const gated = s.decisions.filter((d) => d.championVersion !== null && d.challengerVersion !== null && ['promoted', 'kept', 'no_edge'].includes(d.kind));
    expect(card.scored + card.pending + card.entries.filter((e) => e.status === 'unscorable').length).toBe(gated.length);
    for (const e of card.entries.filter((x) => x.status === 'scored')) {
      expect(e.window[1]).toBeLessThanOrEqual(r.curves.times.at(-1)!);
      expect(e.right).toBe(e.kind === 'promoted' ? e.challenger_pct! > e.champion_pct! : e.champion_pct! >= e.challenger_pct!);
    }

    // Later, when the day after each gated decision exists (the CSV goes on past the replay), the
    // scorecard scores both versions on it with their real artifacts: what kilo models does.
    expect(gated.length).toBeGreaterThanOrEqual(1);
    const csvAll = Object.fromEntries(await Promise.all(['BTC/USDT', 'ETH/USDT'].map(async (sym) => [sym, await csvCandles(sym)] as const)));
    const later = await runScorecard({
      decisions: s.decisions,
      config,
      versions: await discoverModels(join(home, 'replay', 'models')),
      candles: async (sym, since, until) => csvAll[sym].filter((c) => c.timestamp >= since && c.timestamp <= until),
      dataEnd: { 'BTC/USDT': Date.UTC(2023, 5, 1), 'ETH/USDT': Date.UTC(2023, 5, 1) },
    });
    expect(later.scored).toBe(gated.length);
    for (const e of later.entries.filter((x) => x.status === 'scored')) {
      expect(e.rows).toBe(24);
      expect(Number.isFinite(e.champion_pct) && Number.isFinite(e.challenger_pct)).toBe(true);
      expect(e.right).toBe(e.kind === 'promoted' ? e.challenger_pct! > e.champion_pct! : e.champion_pct! >= e.challenger_pct!);
      expect(e.gate_pct).toBe(e.kind === 'promoted' ? e.challenger_pct : e.champion_pct);
    }
    expect(['helps', 'does_not_help']).toContain(later.verdict.kind);
    // Versions loaded once for all their windows and feature rows shared between windows change no
    // figure: each decision scored on its own (fresh loads, fresh features) gives the same.
    for (const d of s.decisions) {
      const alone = await runScorecard({
        // the symbol's first decision names its first model (a first model is never scored itself)
        decisions: [...new Set([s.decisions.filter((x) => x.symbol === d.symbol).sort((a, b) => a.at - b.at)[0], d])],
        config,
        versions: await discoverModels(join(home, 'replay', 'models')),
        candles: async (sym, since, until) => csvAll[sym].filter((c) => c.timestamp >= since && c.timestamp <= until),
        dataEnd: { 'BTC/USDT': Date.UTC(2023, 5, 1), 'ETH/USDT': Date.UTC(2023, 5, 1) },
      });
      const mine = (c: typeof later) => c.entries.find((e) => e.at === d.at && e.symbol === d.symbol && e.challenger_version === d.challengerVersion);
      expect(mine(alone)).toEqual(mine(later));
    }

    // Text: the figures, the verdict, a chart with both axes; JSON in snake_case.
    const text = formatReplaySummary(s, { chartWidth: 60 });
    if (process.env.KILO_DEBUG) console.log(text);
    expect(text).toMatch(/Sharpe \(annualised\)/);
    expect(text).toMatch(/verdict: kilo [+-]\d+\.\d\d % after fees (beat|did not beat) no trade/);
    expect(text).toMatch(/gate scorecard \(1 days after each decision/);
    expect(text).toMatch(/└─{60}/);
    expect(text).toMatch(/2023-03-01/);
    expect(text).toMatch(/┤/);
    const json = JSON.parse(JSON.stringify(replayJson(s)));
    const keys = (o: unknown): string[] => (o && typeof o === 'object' ? Object.entries(o).flatMap(([k, v]) => (/^\d+$/.test(k) ? keys(v) : [k, ...keys(v)])) : []);
    for (const k of keys(json)) expect(k).toMatch(/^[a-z0-9_/]+$/i);
    expect(keys(json).filter((k) => /[A-Z]/.test(k) && !k.includes('/'))).toEqual([]);
    expect(json.strategies.kilo.max_drawdown_pct).toBeCloseTo(ks.dd, 8);
    expect(json.last_prices['BTC/USDT']).toBe(closes['BTC/USDT'].at(-1));

    // --report: a self-contained HTML file (no script, nothing fetched) and an SVG.
    const html = join(home, 'report.html');
    await writeReport(await reportTarget(html, home), r);
    const body = await readFile(html, 'utf8');
    expect(body).toMatch(/^<!doctype html>/);
    expect(body).toMatch(/<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(body).not.toMatch(/<script|src=|href=/);
    expect(body.match(/<polyline data-series="(kilo|buy_and_hold|ta_only|no_trade)"/g)?.length).toBe(4);
    await writeReport(await reportTarget(join(home, 'chart.svg'), home), r);
    expect(await readFile(join(home, 'chart.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\n$/);
    expect((await readdir(home)).filter((f) => f.includes('.kilo-tmp'))).toEqual([]);
  }, 300_000);

  it('refuses a --report path it cannot write before replaying anything, naming it', async () => {
    await expect(reportTarget('/no/such/folder/r.html', '/')).rejects.toThrow('--report /no/such/folder/r.html: folder /no/such/folder does not exist');
    await expect(reportTarget('r.txt', tmpdir())).rejects.toThrow(/--report r.txt: expected a file name ending in .html or .svg/);
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/kilo.js'), '--home', tmpdir(), 'replay', '--csv', DATA, '--report', '/no/such/folder/r.html'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('/no/such/folder/r.html');
  }, 90_000);
});

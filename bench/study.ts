/**
 * `npm run study`: does any modelling variant give the models an edge after costs? Every variant is
 * judged walk-forward on the 8 hourly symbols of ../shared/data/ohlcv through the SAME judgement
 * the verdict uses (src/evaluation/judge.ts: the broker's rule, fees, slippage), with the verdict's
 * light fold recipe. FOLDS consecutive test folds of FOLD_DAYS each end at the last candle; every
 * fold model trains on everything before its fold. Choices are made on folds 1..FOLDS-1 only; the
 * last fold is the holdout, reported and never chosen on.
 *
 * Stages (each chosen on the earlier folds): 1. labels/horizon; 2. add-ons on the stage-1 winner
 * (class weights, cross-asset features); 3. the add-ons that each helped, together. Calibration
 * (temperature scaling fitted on validation, the entry threshold then applied to calibrated
 * probabilities) is post-hoc, so every variant is judged both raw and calibrated from the same models.
 * Results are kept per (variant, symbol, fold) in OUT/results.json, so an interrupted run resumes.
 * Each fold model trains on the STUDY_TRAIN_DAYS (default 365, the quick profile's data_days)
 * before its fold, as the engine's trainings do.
 * Env: STUDY_OUT (default data/study), STUDY_SYMBOLS (comma list), STUDY_FOLDS, STUDY_FOLD_DAYS, STUDY_TRAIN_DAYS.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defaultConfig } from '../src/config/schema.js';
import type { Candle } from '../src/market/types.js';
import { WARMUP_BARS } from '../src/features/index.js';
import { buildJobSpec } from '../src/training/pipeline-spec.js';
import { costsOf, foldData, judgeTestSlice, trainFoldStages, type FoldPlan } from '../src/training/pipeline-verdict.js';
import type { PipelineJobSpec } from '../src/training/protocol.js';
import { ratePct30d } from '../src/evaluation/edge.js';
import { writeFileAtomic } from '../src/util/atomic.js';
import { readCandles, requireData } from './data.js';
import { crossAssetFeatures } from './study-features.js';

requireData();

const ALL = ['BTC', 'ETH', 'SOL', 'ADA', 'XRP', 'BNB', 'DOGE', 'LINK'];
const SYMBOLS = (process.env.STUDY_SYMBOLS?.split(',') ?? ALL).map((s) => `${s.trim()}/USDT`);
const FOLDS = Number(process.env.STUDY_FOLDS ?? 5);
const FOLD_DAYS = Number(process.env.STUDY_FOLD_DAYS ?? 60);
const TRAIN_DAYS = Number(process.env.STUDY_TRAIN_DAYS ?? 365);
const OUT = resolve(process.env.STUDY_OUT ?? 'data/study');
const ROUND_TRIP = 2 * (0.001 + 0.0005);
const STRATS = ['ensemble', 'gbdt', 'gru', 'ppo', 'ta', 'buy_and_hold', 'no_trade'] as const;

interface Variant {
  name: string;
  horizon: number;
  threshold: number;
  classWeights?: 'balanced';
  cross?: boolean;
}
/** A variant judged raw or with calibrated probabilities. */
interface Entry {
  v: Variant;
  cal: boolean;
  name: string;
}
const entriesOf = (v: Variant): Entry[] => [
  { v, cal: false, name: v.name },
  { v, cal: true, name: `${v.name} +calibration` },
];
type Cell = { sumLog: number; n: number; totalPct: number; trades: number; exposure: number };
type Results = Record<string, Record<string, Record<number, Record<string, Cell>>>>; // variant -> symbol -> fold -> strategy

const resultsFile = join(OUT, 'results.json');
mkdirSync(OUT, { recursive: true });
const results: Results = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')) : {};
/**
 * The fold recipe, pinned so results stay comparable when the verdict's lightProfile changes: the
 * quick profile's sizes with the verdict's fold recipe as it was when the study ran (a fifth of the
 * epochs, a third of the patience, half the trees, a quarter of the PPO steps). recipe.json records
 * it beside results.json; a resumed run with another recipe is refused.
 */
const QUICK = defaultConfig().training.quick;
const RECIPE: PipelineJobSpec['profile'] = { ...QUICK, name: 'quick', epochs: 4, patience: 2, trees: 40, ppo_steps: 1024 };
const recipeFile = join(OUT, 'recipe.json');
if (existsSync(recipeFile) && readFileSync(recipeFile, 'utf8') !== JSON.stringify(RECIPE)) {
  throw new Error(`${recipeFile} holds another fold recipe than ${JSON.stringify(RECIPE)}: use a fresh STUDY_OUT`);
}
await writeFileAtomic(recipeFile, JSON.stringify(RECIPE));
const save = (): Promise<void> => writeFileAtomic(resultsFile, JSON.stringify(results));
const log = (s: string): void => console.log(`[${new Date().toISOString().slice(11, 19)}] ${s}`);

const candles: Record<string, Candle[]> = Object.fromEntries(SYMBOLS.map((s) => [s, readCandles(`${s.replace('/', '-')}-1h.csv`)]));
const btc = readCandles('BTC-USDT-1h.csv');
const H = 3_600_000;
// Fold boundaries in time, the same for every symbol and variant (the largest horizon's labels exist).
const lastTs = Math.min(...SYMBOLS.map((s) => candles[s][candles[s].length - 1].timestamp)) - 13 * H;
const bounds = Array.from({ length: FOLDS + 1 }, (_, k) => lastTs - (FOLDS - k) * FOLD_DAYS * 24 * H);

/** The fold's candles (TRAIN_DAYS before it, warm-up included, up to the end) and its test rows in them. */
function foldInput(symbol: string, k: number): { candles: Candle[]; plan: FoldPlan } {
  const all = candles[symbol];
  const at = (t: number): number => {
    const i = all.findIndex((x) => x.timestamp >= t);
    return i < 0 ? all.length : i;
  };
  const first = Math.max(0, at(bounds[k] - TRAIN_DAYS * 24 * H) - WARMUP_BARS);
  const c = all.slice(first);
  return { candles: c, plan: { test: [{ start: at(bounds[k]) - first - WARMUP_BARS, end: at(bounds[k + 1]) - first - WARMUP_BARS }] } };
}

async function runCell(v: Variant, symbol: string, k: number): Promise<[Record<string, Cell>, Record<string, Cell>]> {
  const config = defaultConfig();
  const base = buildJobSpec(config, { symbols: [symbol], candles: { [symbol]: candles[symbol].slice(-10) }, quick: true, version: '0.0', modelsDir: OUT });
  const spec: PipelineJobSpec = { ...base, horizon: v.horizon, labelThreshold: v.threshold, classWeights: v.classWeights, seed: 11, candles: [] };
  const f = foldInput(symbol, k);
  const data = foldData([{ symbol, candles: f.candles }], f.plan, spec, v.cross ? { extraFeatures: crossAssetFeatures(btc) } : {});
  const stages = await trainFoldStages(data, spec, RECIPE, {}, () => undefined);
  const cells = (calibrate: boolean): Record<string, Cell> => {
    const j = judgeTestSlice(data, stages, costsOf(spec), 'fold', { calibrate })[symbol];
    const out: Record<string, Cell> = {};
    for (const s of STRATS) {
      const r = j.replays[s];
      if (!r) continue;
      out[s] = { sumLog: r.pnl.reduce((a, x) => a + Math.log1p(x), 0), n: r.pnl.length, totalPct: r.totalPct, trades: r.trades, exposure: r.exposure };
    }
    return out;
  };
  return [cells(false), cells(true)];
}

async function runVariant(v: Variant): Promise<Entry[]> {
  const [raw, cal] = entriesOf(v);
  for (const e of [raw, cal]) results[e.name] ??= {};
  for (const symbol of SYMBOLS) {
    for (const e of [raw, cal]) results[e.name][symbol] ??= {};
    for (let k = 0; k < FOLDS; k++) {
      if (results[raw.name][symbol][k] && results[cal.name][symbol][k]) continue;
      const t0 = performance.now();
      [results[raw.name][symbol][k], results[cal.name][symbol][k]] = await runCell(v, symbol, k);
      await save();
      const e = results[raw.name][symbol][k].ensemble;
      const c = results[cal.name][symbol][k].ensemble;
      log(`${v.name} ${symbol} fold ${k + 1}/${FOLDS}: ensemble ${e.totalPct.toFixed(2)} % (${e.trades} fills), calibrated ${c.totalPct.toFixed(2)} % (${c.trades} fills), TA ${results[raw.name][symbol][k].ta.totalPct.toFixed(2)} %, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    }
  }
  return [raw, cal];
}

/** Compounded % of a strategy over the given folds for one symbol, and its rate (% per 30 days). */
function agg(v: string, symbol: string, strat: string, folds: number[]): { total: number; rate: number } {
  const cells = folds.map((k) => results[v][symbol][k][strat]);
  const sumLog = cells.reduce((s, c) => s + c.sumLog, 0);
  const n = cells.reduce((s, c) => s + c.n, 0);
  return { total: Math.expm1(sumLog) * 100, rate: ratePct30d(sumLog / n, 720) };
}
const CHOICE = Array.from({ length: FOLDS - 1 }, (_, k) => k);
const HOLDOUT = [FOLDS - 1];
/** The choice metric: the ensemble's mean rate over symbols on the choice folds only. */
const score = (v: string): number => SYMBOLS.reduce((s, sym) => s + agg(v, sym, 'ensemble', CHOICE).rate, 0) / SYMBOLS.length;

const base: Variant = { name: 'base h1 thr0.002', horizon: 1, threshold: 0.002 };
const stage1: Variant[] = [
  base,
  { name: `h1 thr${ROUND_TRIP}`, horizon: 1, threshold: ROUND_TRIP },
  { name: `h4 thr${ROUND_TRIP}`, horizon: 4, threshold: ROUND_TRIP },
  { name: `h12 thr${2 * ROUND_TRIP}`, horizon: 12, threshold: 2 * ROUND_TRIP },
];
log(`study: ${SYMBOLS.length} symbols, ${FOLDS} folds of ${FOLD_DAYS} days (each trained on the ${TRAIN_DAYS} days before it) from ${new Date(bounds[0]).toISOString().slice(0, 10)} to ${new Date(bounds[FOLDS]).toISOString().slice(0, 10)}; choose on folds 1-${FOLDS - 1}, hold out fold ${FOLDS}; out ${OUT}`);
const best = (xs: Entry[]): Entry => xs.reduce((a, b) => (score(b.name) > score(a.name) ? b : a));
const all: Entry[] = [];
for (const v of stage1) all.push(...(await runVariant(v)));
const win1 = best(all);
log(`stage 1 winner on folds 1-${FOLDS - 1}: ${win1.name} (${score(win1.name).toFixed(3)} %/30d)`);
const addOns: Variant[] = [
  { ...win1.v, name: `${win1.v.name} +class weights`, classWeights: 'balanced' },
  { ...win1.v, name: `${win1.v.name} +cross-asset BTC`, cross: true },
];
const helped: Variant[] = [];
for (const v of addOns) {
  const entries = await runVariant(v);
  all.push(...entries);
  // Compared like for like: the add-on with the winner's calibration setting.
  if (score(entries[win1.cal ? 1 : 0].name) > score(win1.name)) helped.push(v);
}
if (helped.length >= 2) {
  const combo: Variant = { ...win1.v, name: `${win1.v.name} +class weights +cross-asset BTC`, classWeights: 'balanced', cross: true };
  all.push(...(await runVariant(combo)));
}
const chosen = best(all);

// ----- report -----
const f = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
const mean = (v: string, strat: string, folds: number[]): number => SYMBOLS.reduce((s, sym) => s + agg(v, sym, strat, folds).total, 0) / SYMBOLS.length;
/** Share of candles in the market and fills, per symbol over the folds. */
function activity(v: string, symbol: string, folds: number[]): { exposure: number; fills: number } {
  const cells = folds.map((k) => results[v][symbol][k].ensemble);
  const n = cells.reduce((s, c) => s + c.n, 0);
  return { exposure: cells.reduce((s, c) => s + c.exposure * c.n, 0) / n, fills: cells.reduce((s, c) => s + c.trades, 0) };
}
/**
 * Timing: the ensemble's log return minus what holding the market for the same share of each fold
 * would earn (exposure x buy-and-hold's log return), compounded, %. A long-only model in a rising
 * market earns with no skill at all; this is what its entries and exits added on top of that.
 */
function timing(v: string, symbol: string, folds: number[]): number {
  const sumLog = folds.reduce((s, k) => {
    const c = results[v][symbol][k];
    return s + c.ensemble.sumLog - c.ensemble.exposure * c.buy_and_hold.sumLog;
  }, 0);
  return Math.expm1(sumLog) * 100;
}
const meanOf = (g: (sym: string) => number): number => SYMBOLS.reduce((s, sym) => s + g(sym), 0) / SYMBOLS.length;
const count = (g: (sym: string) => boolean): string => `${SYMBOLS.filter(g).length}/${SYMBOLS.length}`;
const lines: string[] = [];
lines.push(`# Study: ${SYMBOLS.length} symbols, ${FOLDS} walk-forward folds of ${FOLD_DAYS} days, each fold model trained on the ${TRAIN_DAYS} days before it (${new Date(bounds[0]).toISOString().slice(0, 10)}..${new Date(bounds[FOLDS]).toISOString().slice(0, 10)})`);
lines.push(`PnL after fees (0.1 %/side) and slippage (5 bps/side) through the broker rule (long-only, entry threshold 0.55), compounded per symbol, then the mean over symbols. Models gbdt + gru + ppo and their ensemble (the default config) on the fold recipe ${JSON.stringify(RECIPE)}, GRU(32) on at most 2000 windows.`);
lines.push(`Chosen on folds 1-${FOLDS - 1} (choice metric: mean ensemble rate, %/30d): **${chosen.name}**. Fold ${FOLDS} is the holdout. "timing" = ensemble minus exposure-matched buy-and-hold (what the entries and exits added beyond being long part of the time).`);
lines.push('');
const C = `1-${FOLDS - 1}`;
lines.push(`| variant | choice score %/30d | ensemble folds ${C} | ensemble holdout | TA folds ${C} | TA holdout | no-trade | buy-and-hold folds ${C} | buy-and-hold holdout | timing folds ${C} / holdout | exposure / fills per symbol, folds ${C} | symbols ens > 0 (folds ${C} / holdout) | symbols ens > max(TA, 0) (holdout) |`);
lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const { name } of all) {
  const beat = count((sym) => agg(name, sym, 'ensemble', HOLDOUT).total > Math.max(0, agg(name, sym, 'ta', HOLDOUT).total));
  const act = SYMBOLS.map((sym) => activity(name, sym, CHOICE));
  lines.push(
    `| ${name} | ${score(name).toFixed(2)} | ${f(mean(name, 'ensemble', CHOICE))} % | ${f(mean(name, 'ensemble', HOLDOUT))} % | ${f(mean(name, 'ta', CHOICE))} % | ${f(mean(name, 'ta', HOLDOUT))} % | 0 % | ${f(mean(name, 'buy_and_hold', CHOICE))} % | ${f(mean(name, 'buy_and_hold', HOLDOUT))} % | ` +
      `${f(meanOf((sym) => timing(name, sym, CHOICE)))} / ${f(meanOf((sym) => timing(name, sym, HOLDOUT)))} % | ${(act.reduce((s, a) => s + a.exposure, 0) / act.length).toFixed(2)} / ${(act.reduce((s, a) => s + a.fills, 0) / act.length).toFixed(1)} | ` +
      `${count((sym) => agg(name, sym, 'ensemble', CHOICE).total > 0)} / ${count((sym) => agg(name, sym, 'ensemble', HOLDOUT).total > 0)} | ${beat} |`,
  );
}
lines.push('');
lines.push(`Per symbol, the chosen variant (${chosen.name}) beside the baselines, folds ${C} / holdout, %:`);
lines.push(`| symbol | ensemble | TA | no-trade | buy-and-hold | timing | exposure | fills |`);
lines.push('|---|---|---|---|---|---|---|---|');
const pair = (v: string, sym: string, strat: string): string => `${f(agg(v, sym, strat, CHOICE).total)} / ${f(agg(v, sym, strat, HOLDOUT).total)}`;
for (const sym of SYMBOLS) {
  const a = activity(chosen.name, sym, CHOICE);
  const h = activity(chosen.name, sym, HOLDOUT);
  lines.push(
    `| ${sym} | ${pair(chosen.name, sym, 'ensemble')} | ${pair(chosen.name, sym, 'ta')} | 0 / 0 | ${pair(chosen.name, sym, 'buy_and_hold')} | ${f(timing(chosen.name, sym, CHOICE))} / ${f(timing(chosen.name, sym, HOLDOUT))} | ` +
      `${a.exposure.toFixed(2)} / ${h.exposure.toFixed(2)} | ${a.fills} / ${h.fills} |`,
  );
}
lines.push(`| mean | ${f(mean(chosen.name, 'ensemble', CHOICE))} / ${f(mean(chosen.name, 'ensemble', HOLDOUT))} | ${f(mean(chosen.name, 'ta', CHOICE))} / ${f(mean(chosen.name, 'ta', HOLDOUT))} | 0 / 0 | ${f(mean(chosen.name, 'buy_and_hold', CHOICE))} / ${f(mean(chosen.name, 'buy_and_hold', HOLDOUT))} | ${f(meanOf((sym) => timing(chosen.name, sym, CHOICE)))} / ${f(meanOf((sym) => timing(chosen.name, sym, HOLDOUT)))} | | |`);
lines.push('');
lines.push(`Per symbol, every variant (ensemble folds ${C} / holdout, %):`);
lines.push(`| variant | ${SYMBOLS.map((s) => s.split('/')[0]).join(' | ')} |`);
lines.push(`|---|${SYMBOLS.map(() => '---').join('|')}|`);
for (const v of all) lines.push(`| ${v.name} | ${SYMBOLS.map((s) => pair(v.name, s, 'ensemble')).join(' | ')} |`);
for (const strat of ['ta', 'buy_and_hold']) lines.push(`| ${strat} | ${SYMBOLS.map((s) => pair(base.name, s, strat)).join(' | ')} |`);
lines.push('| no_trade | ' + SYMBOLS.map(() => '0 / 0').join(' | ') + ' |');
lines.push('');
lines.push(`Per model of the chosen variant (${chosen.name}), mean over symbols, folds ${C} / holdout: ` + ['gbdt', 'gru', 'ppo', 'ensemble'].map((m) => `${m} ${f(mean(chosen.name, m, CHOICE))} / ${f(mean(chosen.name, m, HOLDOUT))} %`).join(', '));
lines.push(
  `Holdout, chosen variant: ensemble ${f(mean(chosen.name, 'ensemble', HOLDOUT))} % vs no-trade 0 %, TA ${f(mean(chosen.name, 'ta', HOLDOUT))} %, buy-and-hold ${f(mean(chosen.name, 'buy_and_hold', HOLDOUT))} %; ` +
    `above no-trade on ${count((sym) => agg(chosen.name, sym, 'ensemble', HOLDOUT).total > 0)} symbols, above buy-and-hold on ${count((sym) => agg(chosen.name, sym, 'ensemble', HOLDOUT).total > agg(chosen.name, sym, 'buy_and_hold', HOLDOUT).total)}, ` +
    `timing ${f(meanOf((sym) => timing(chosen.name, sym, HOLDOUT)))} % (positive on ${count((sym) => timing(chosen.name, sym, HOLDOUT) > 0)}).`,
);
const report = lines.join('\n');
await writeFileAtomic(join(OUT, 'report.md'), report + '\n');
console.log(`\n${report}`);

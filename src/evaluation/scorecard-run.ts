/**
 * Scoring the scorecard's windows: each due decision's champion, challenger and the symbol's first
 * model predict the candles of the days after it, and those calls go through the same shared-window
 * judgement the gate itself uses (src/training/gate.ts -> src/evaluation/judge.ts), so "PnL after
 * costs" means the same thing in the gate and in its scorecard. The verdict is scorecard.ts (pure).
 */
import type { Config } from '../config/schema.js';
import type { PromotionDecision } from '../engine-api.js';
import type { Candle } from '../market/types.js';
import { TIMEFRAME_MS, type Timeframe } from '../market/types.js';
import type { DiscoveredVersion } from '../registry/discover.js';
import { compatibleArtifacts } from '../policy/selection.js';
import { buildScorecard, scoreKey, scorecardWindows, type Scorecard, type ScorecardWindow, type WindowScores } from './scorecard.js';
import type { FeatureMemo, SymbolPredictor } from '../models/predictor.js';

/** Candles before a window the predictors need for their features and windows. */
const WARMUP_BARS = 1500;

export interface ScorecardRunInput {
  decisions: readonly PromotionDecision[];
  config: Config;
  /** Discovered model versions (the registry's list). */
  versions: readonly DiscoveredVersion[];
  /** Candles of `symbol` with timestamp in [since, until] (ms, both inclusive), oldest first. */
  candles: (symbol: string, since: number, until: number) => Promise<Candle[]>;
  /** End (exclusive) of the candles that exist per symbol: windows past it stay pending. */
  dataEnd: Readonly<Record<string, number>>;
  /** @default config.auto_training.scorecard_days */
  days?: number;
}

/** The artifact folder of `version` that serves `symbol` under `config`, or null. */
export function artifactDirFor(versions: readonly DiscoveredVersion[], config: Config, version: string | null, symbol: string): string | null {
  if (!version) return null;
  const v = versions.find((x) => x.version === version);
  return (v && compatibleArtifacts(config, v).find((a) => a.servesSymbols.includes(symbol))?.dir) ?? null;
}

export async function runScorecard(input: ScorecardRunInput): Promise<Scorecard> {
  const { config } = input;
  const days = input.days ?? config.auto_training.scorecard_days;
  const step = TIMEFRAME_MS[config.exchange.timeframe as Timeframe] ?? 3_600_000;
  const windows = scorecardWindows(input.decisions, days, input.dataEnd);
  const scores = new Map<string, WindowScores>();
  // tfjs loads only when a window is due (kilo models stays quick without one).
  const { scoreOnSharedWindow } = windows.some((w) => w.status === 'due') ? await import('../training/gate.js') : { scoreOnSharedWindow: null };
  const costs = { feeRate: config.paper_trading.fee_rate, slippageBps: config.paper_trading.slippage_bps, entryThreshold: config.paper_trading.entry_threshold };
  const due = windows.filter((w) => w.status === 'due');
  const dirsOf = due.map((w): Record<string, string | null> => ({
    champion: artifactDirFor(input.versions, config, w.decision.championVersion, w.decision.symbol),
    challenger: artifactDirFor(input.versions, config, w.decision.challengerVersion, w.decision.symbol),
    first: artifactDirFor(input.versions, config, w.firstVersion, w.decision.symbol),
  }));
  // A version is the champion, the challenger or the first model of many windows: it is loaded
  // once and disposed after the last window that scores it (windows come oldest first).
  const lastUse = new Map<string, number>();
  dirsOf.forEach((dirs, i) => Object.values(dirs).forEach((dir) => dir && lastUse.set(dir, i)));
  const loaded = new Map<string, Promise<SymbolPredictor>>();
  const predictorFor = (dir: string): Promise<SymbolPredictor> => {
    let p = loaded.get(dir);
    if (!p) {
      p = loadPredictor(dir);
      // A failed load is reported by each window that asks for it; nothing to dispose.
      p.catch(() => undefined);
      loaded.set(dir, p);
    }
    return p;
  };
  const release = (dir: string): void => {
    const p = loaded.get(dir);
    loaded.delete(dir);
    p?.then((x) => x.artifact.dispose(), () => undefined);
  };
  // Feature rows per symbol, shared by the versions of a window and by overlapping windows;
  // rows older than the window being scored are dropped (windows come oldest first).
  const memos = new Map<string, FeatureMemo>();
  try {
    for (const [i, w] of due.entries()) {
      await scoreWindow(w, dirsOf[i]);
      for (const dir of Object.values(dirsOf[i])) if (dir && lastUse.get(dir) === i) release(dir);
    }
  } finally {
    for (const dir of [...loaded.keys()]) release(dir);
  }
  return buildScorecard(windows, scores, days);

  async function scoreWindow(w: ScorecardWindow, dirs: Record<string, string | null>): Promise<void> {
    const d = w.decision;
    const memo = memos.get(d.symbol) ?? new Map();
    memos.set(d.symbol, memo);
    for (const key of [...memo.keys()]) if (Number(key.slice(key.lastIndexOf('|') + 1)) < w.from) memo.delete(key);
    const missing = (['champion', 'challenger'] as const).filter((k) => !dirs[k]);
    if (missing.length) {
      const what = missing.map((k) => `v${k === 'champion' ? d.championVersion : d.challengerVersion} (${k})`).join(', ');
      scores.set(scoreKey(d), { champion: null, challenger: null, first: null, rows: 0, error: `${what} no longer on disk or no longer fits the config` });
      return;
    }
    const artifacts = Object.fromEntries(Object.entries(dirs).filter((e): e is [string, string] => e[1] !== null));
    // The window's last candle only marks the last row: rows are the candles in [from, to).
    const candles = await input.candles(d.symbol, w.from - WARMUP_BARS * step, w.to);
    const g = await scoreOnSharedWindow!({
      symbol: d.symbol,
      candles,
      artifacts,
      rows: Math.round((days * 86_400_000) / step),
      horizon: config.model.horizon,
      labelThreshold: config.model.label_threshold,
      from: w.from,
      costs,
      predictorFor,
      features: memo,
    });
    const total = (k: string): number | null => (g.summaries[k] && Number.isFinite(g.scores[k]) ? g.summaries[k].total_pct : null);
    const errors = Object.entries(g.errors).map(([k, e]) => `${k}: ${e}`);
    scores.set(scoreKey(d), { champion: total('champion'), challenger: total('challenger'), first: total('first'), rows: g.rows, error: errors.join('; ') || undefined });
  }
}

/** What the gate would load for an artifact folder (it disposes the artifact when the predictor cannot be built). */
async function loadPredictor(dir: string): Promise<SymbolPredictor> {
  const { loadArtifact } = await import('../models/artifact-load.js');
  const { SymbolPredictor } = await import('../models/predictor.js');
  const artifact = await loadArtifact(dir);
  try {
    return new SymbolPredictor(artifact);
  } catch (err) {
    artifact.dispose();
    throw err;
  }
}

/**
 * Candles for the scorecard outside a replay (kilo models), read from what the home already has,
 * never from the network: the CSV folder, the engine's candle store for an exchange, or the
 * seeded simulator. `now` is the engine's market time (wall time when it has none).
 */
export async function homeCandles(home: string, config: Config, symbols: readonly string[], now: number): Promise<Pick<ScorecardRunInput, 'candles' | 'dataEnd'>> {
  const tf = config.exchange.timeframe as Timeframe;
  const { ManualClock } = await import('../clock.js');
  const clock = new ManualClock(now);
  let read: (symbol: string, since: number, until: number) => Promise<Candle[]>;
  if (config.data.source === 'exchange') {
    const { CandleStore } = await import('../market/candle-store.js');
    const { join } = await import('node:path');
    const store = new CandleStore(join(home, config.data.cache_dir), clock);
    const cache = new Map<string, Promise<Candle[]>>();
    read = async (s, since, until) => {
      if (!cache.has(s)) cache.set(s, store.read(config.exchange.id, s, tf).catch(() => []));
      return (await cache.get(s)!).filter((c) => c.timestamp >= since && c.timestamp <= until);
    };
  } else {
    const source =
      config.data.source === 'csv'
        ? new (await import('../market/csv-source.js')).CsvMarketSource((await import('node:path')).resolve(home, config.data.csv_dir), clock, { timeframe: tf })
        : new (await import('../market/sim-source.js')).SimMarketSource(config.data.sim_seed, clock, { extraSymbols: config.data.sim_extra_symbols });
    read = async (s, since, until) => (await source.fetchCandles(s, tf, since, until + 1).catch(() => [])).filter((c) => c.timestamp <= until);
  }
  const dataEnd: Record<string, number> = {};
  for (const s of symbols) {
    const recent = await read(s, -Infinity, now);
    dataEnd[s] = recent.at(-1)?.timestamp ?? -Infinity;
  }
  return { candles: read, dataEnd };
}

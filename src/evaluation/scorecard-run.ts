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
import { buildScorecard, scoreKey, scorecardWindows, type Scorecard, type WindowScores } from './scorecard.js';

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
  const { scoreOnSharedWindow } = await import('../training/gate.js');
  const costs = { feeRate: config.paper_trading.fee_rate, slippageBps: config.paper_trading.slippage_bps, entryThreshold: config.paper_trading.entry_threshold };
  for (const w of windows) {
    if (w.status !== 'due') continue;
    const d = w.decision;
    const dirs: Record<string, string | null> = {
      champion: artifactDirFor(input.versions, config, d.championVersion, d.symbol),
      challenger: artifactDirFor(input.versions, config, d.challengerVersion, d.symbol),
      first: artifactDirFor(input.versions, config, w.firstVersion, d.symbol),
    };
    const missing = (['champion', 'challenger'] as const).filter((k) => !dirs[k]);
    if (missing.length) {
      const what = missing.map((k) => `v${k === 'champion' ? d.championVersion : d.challengerVersion} (${k})`).join(', ');
      scores.set(scoreKey(d), { champion: null, challenger: null, first: null, rows: 0, error: `${what} no longer on disk or no longer fits the config` });
      continue;
    }
    const artifacts = Object.fromEntries(Object.entries(dirs).filter((e): e is [string, string] => e[1] !== null));
    // The window's last candle only marks the last row: rows are the candles in [from, to).
    const candles = await input.candles(d.symbol, w.from - WARMUP_BARS * step, w.to);
    const g = await scoreOnSharedWindow({
      symbol: d.symbol,
      candles,
      artifacts,
      rows: Math.round((days * 86_400_000) / step),
      horizon: config.model.horizon,
      labelThreshold: config.model.label_threshold,
      from: w.from,
      costs,
    });
    const total = (k: string): number | null => (g.summaries[k] && Number.isFinite(g.scores[k]) ? g.summaries[k].total_pct : null);
    const errors = Object.entries(g.errors).map(([k, e]) => `${k}: ${e}`);
    scores.set(scoreKey(d), { champion: total('champion'), challenger: total('challenger'), first: total('first'), rows: g.rows, error: errors.join('; ') || undefined });
  }
  return buildScorecard(windows, scores, days);
}

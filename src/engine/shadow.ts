/**
 * Scoring a challenger in shadow (auto_training.shadow_days): champion and challenger predict the
 * candles since the shadow started and both streams of calls go through the gate's own shared-window
 * judgement (src/training/gate.ts -> src/evaluation/judge.ts: per-candle PnL after fees and
 * slippage), so "ahead" means what the gate meant. Nothing is traded. The verdict is
 * src/policy/shadow.ts (pure); ModelDecisions applies it.
 */
import type { Config } from '../config/schema.js';
import type { Candle } from '../market/types.js';
import { TIMEFRAME_MS, type Timeframe } from '../market/types.js';
import type { DiscoveredVersion } from '../registry/discover.js';
import { artifactDirFor } from '../evaluation/scorecard-run.js';
import type { ShadowScores, ShadowState } from '../policy/shadow.js';

/** Candles before the shadow window the predictors need for their features and windows. */
const WARMUP_BARS = 1500;

export interface ShadowScoringInput {
  symbol: string;
  shadow: ShadowState;
  config: Config;
  versions: readonly DiscoveredVersion[];
  /** Closed candles of `symbol` with timestamp in [since, until] (ms), oldest first. */
  candles: (symbol: string, since: number, until: number) => Promise<Candle[]>;
  now: number;
}

export async function scoreShadow(i: ShadowScoringInput): Promise<ShadowScores> {
  const { config, shadow: s, symbol } = i;
  const step = TIMEFRAME_MS[config.exchange.timeframe as Timeframe] ?? 3_600_000;
  const champion = artifactDirFor(i.versions, config, s.champion, symbol);
  const challenger = artifactDirFor(i.versions, config, s.challenger, symbol);
  if (!champion || !challenger) return { error: `v${!champion ? s.champion : s.challenger} is no longer on disk or no longer fits the config` };
  const until = Math.floor(Math.min(i.now, s.until) / step) * step;
  const candles = await i.candles(symbol, s.startedAt - WARMUP_BARS * step, until);
  const { scoreOnSharedWindow } = await import('../training/gate.js');
  const g = await scoreOnSharedWindow({
    symbol,
    candles,
    artifacts: { champion, challenger },
    rows: Math.max(1, Math.round((until - s.startedAt) / step)),
    horizon: config.model.horizon,
    labelThreshold: config.model.label_threshold,
    from: s.startedAt,
    costs: { feeRate: config.paper_trading.fee_rate, slippageBps: config.paper_trading.slippage_bps, entryThreshold: config.paper_trading.entry_threshold },
  });
  const errors = Object.entries(g.errors).map(([k, e]) => `${k}: ${e}`);
  if (errors.length) return { error: errors.join('; ') };
  if (!g.rows || !g.pnl.champion || !g.pnl.challenger) return { champion: [], challenger: [], window: null };
  return { champion: g.pnl.champion, challenger: g.pnl.challenger, window: g.window };
}

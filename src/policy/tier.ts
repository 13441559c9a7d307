/**
 * Judge an asset nobody listed (tier "unknown") from its own candles. Pure. Checks in order:
 * enough history -> not a stablecoin (daily volatility) -> liquid enough (24h quote volume) ->
 * few enough gaps; the first failing check is the verdict, with the numbers in the reason.
 */
import type { Config } from '../config/schema.js';
import { TIMEFRAME_MS, type Candle, type Timeframe } from '../market/types.js';

export type UnknownAssetVerdict = 'trainable' | 'insufficient_data' | 'stablecoin' | 'illiquid';

export interface UnknownAssetJudgement {
  verdict: UnknownAssetVerdict;
  reason: string;
  historyDays: number;
  /** Share of the expected candles present between the first and the last one (0..1). */
  coverage: number;
  /** Standard deviation of daily close-to-close log returns; null with fewer than 2 days. */
  dailyVol: number | null;
  quoteVolume24h: number;
}

const DAY_MS = 86_400_000;
const pct = (x: number, digits = 2): string => `${(x * 100).toFixed(digits)}%`;

export function dailyVolatility(candles: readonly Candle[]): number | null {
  const lastClose = new Map<number, number>();
  for (const c of candles) lastClose.set(Math.floor(c.timestamp / DAY_MS), c.close);
  const days = [...lastClose.keys()].sort((a, b) => a - b);
  const rets: number[] = [];
  for (let i = 1; i < days.length; i++) {
    const a = lastClose.get(days[i - 1]) as number;
    const b = lastClose.get(days[i]) as number;
    if (a > 0 && b > 0) rets.push(Math.log(b / a));
  }
  if (rets.length < 2) return null;
  // Robust scale (1.4826 x median absolute deviation): one de-peg day (USDC in March 2023) must
  // not make a stablecoin look volatile, and one quiet week must not make a coin look stable.
  const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
  const median = (xs: number[]): number => {
    const s = sorted(xs);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  };
  const med = median(rets);
  return 1.4826 * median(rets.map((r) => Math.abs(r - med)));
}

/** Quote volume (close x base volume) of the candles in the last 24 h of the series. */
export function quoteVolumeLast24h(candles: readonly Candle[]): number {
  const last = candles.at(-1);
  if (!last) return 0;
  let sum = 0;
  for (let i = candles.length - 1; i >= 0 && candles[i].timestamp > last.timestamp - DAY_MS; i--) sum += candles[i].close * candles[i].volume;
  return sum;
}

export function classifyUnknownAsset(
  candles: readonly Candle[],
  tf: Timeframe,
  config: Config,
  opts: { quoteVolume24h?: number } = {},
): UnknownAssetJudgement {
  const step = TIMEFRAME_MS[tf];
  const first = candles[0];
  const last = candles.at(-1);
  const spanMs = first && last ? last.timestamp - first.timestamp + step : 0;
  const historyDays = spanMs / DAY_MS;
  const coverage = spanMs > 0 ? Math.min(1, (candles.length * step) / spanMs) : 0;
  const dailyVol = dailyVolatility(candles);
  const quoteVolume24h = opts.quoteVolume24h ?? quoteVolumeLast24h(candles);
  const base = { historyDays, coverage, dailyVol, quoteVolume24h };
  const m = config.model;
  const a = config.assets;

  if (historyDays < m.min_history_days_to_train) {
    return { ...base, verdict: 'insufficient_data', reason: `only ${historyDays.toFixed(1)} days of history, ${m.min_history_days_to_train} needed (model.min_history_days_to_train)` };
  }
  if (dailyVol !== null && dailyVol < a.stablecoin_max_daily_vol) {
    return { ...base, verdict: 'stablecoin', reason: `daily volatility ${pct(dailyVol, 3)} is below ${pct(a.stablecoin_max_daily_vol, 3)} (assets.stablecoin_max_daily_vol): looks like a stablecoin` };
  }
  if (quoteVolume24h < a.min_quote_volume_24h) {
    return { ...base, verdict: 'illiquid', reason: `24h quote volume ${Math.round(quoteVolume24h).toLocaleString('en-US')} is below ${a.min_quote_volume_24h.toLocaleString('en-US')} (assets.min_quote_volume_24h)` };
  }
  if (coverage < m.min_history_coverage_pct) {
    return { ...base, verdict: 'insufficient_data', reason: `history has gaps: ${pct(coverage, 1)} of candles present, ${pct(m.min_history_coverage_pct, 1)} needed (model.min_history_coverage_pct)` };
  }
  return { ...base, verdict: 'trainable', reason: `${historyDays.toFixed(0)} days of history, daily volatility ${dailyVol === null ? 'n/a' : pct(dailyVol)}, 24h quote volume ${Math.round(quoteVolume24h).toLocaleString('en-US')}` };
}

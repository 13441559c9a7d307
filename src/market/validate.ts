import { TIMEFRAME_MS, type Candle, type Timeframe } from './types.js';
import type { BadRow } from './csv.js';

/**
 * Bounds no real spot candle reaches: a price of 1e308 is well-formed JSON and a finite double,
 * but one such candle turns every sum it enters (PnL, equity, features) into Infinity or NaN.
 * 1e12 leaves room for pairs quoted in small units (BTC/IDR ~ 1e9); volumes of meme coins reach
 * ~1e13 units an hour.
 */
export const MAX_PRICE = 1e12;
export const MIN_PRICE = 1e-12;
export const MAX_VOLUME = 1e18;

/** Why a parsed candle is absurd, or null. */
export function absurdCandle(c: { open: number; high: number; low: number; close: number; volume: number }): string | null {
  for (const k of ['open', 'high', 'low', 'close'] as const) {
    const v = c[k];
    if (!Number.isFinite(v)) return `${k} is not finite (${v})`;
    if (v > MAX_PRICE) return `${k} ${v} is absurd (above ${MAX_PRICE})`;
    if (v > 0 && v < MIN_PRICE) return `${k} ${v} is absurd (below ${MIN_PRICE})`;
  }
  if (!Number.isFinite(c.volume) || c.volume > MAX_VOLUME) return `volume ${c.volume} is absurd (above ${MAX_VOLUME})`;
  return null;
}

export interface Gap {
  /** Open time of the first missing candle. */
  from: number;
  /** Open time of the last missing candle. */
  to: number;
  missing: number;
}

export interface ValidationReport {
  file?: string;
  candles: number;
  first: number | null;
  last: number | null;
  gaps: Gap[];
  missing: number;
  /** Timestamps seen more than once (each extra occurrence counted). */
  duplicates: number[];
  nonPositive: number[];
  /** Prices or volumes no real candle has (1e308, Infinity): see absurdCandle. */
  absurd: number[];
  inconsistentOhlc: number[];
  outOfOrder: number[];
  offGrid: number[];
  /** True when the last candle is older than `staleAfterMs` (default two timeframes) before `now`. */
  stale: boolean;
  badRows: BadRow[];
  /** No problem that makes a candle unusable (gaps alone are tolerated and reported). */
  ok: boolean;
}

export interface ValidateOptions {
  file?: string;
  badRows?: BadRow[];
  now?: number;
  staleAfterMs?: number;
}

/** Check a candle series against the grid of its timeframe. Pure: reports, never repairs. */
export function validateCandles(candles: readonly Candle[], tf: Timeframe, opts: ValidateOptions = {}): ValidationReport {
  const step = TIMEFRAME_MS[tf];
  const duplicates: number[] = [];
  const nonPositive: number[] = [];
  const absurd: number[] = [];
  const inconsistentOhlc: number[] = [];
  const outOfOrder: number[] = [];
  const offGrid: number[] = [];
  const gaps: Gap[] = [];
  let prev: number | null = null;
  for (const c of candles) {
    if (!(c.open > 0 && c.high > 0 && c.low > 0 && c.close > 0) || c.volume < 0) nonPositive.push(c.timestamp);
    if (absurdCandle(c)) absurd.push(c.timestamp);
    if (c.high < Math.max(c.open, c.close) || c.low > Math.min(c.open, c.close) || c.low > c.high) inconsistentOhlc.push(c.timestamp);
    if (c.timestamp % step !== 0) offGrid.push(c.timestamp);
    if (prev !== null) {
      if (c.timestamp === prev) duplicates.push(c.timestamp);
      else if (c.timestamp < prev) outOfOrder.push(c.timestamp);
      else if (c.timestamp - prev > step) {
        const missing = Math.round((c.timestamp - prev) / step) - 1;
        gaps.push({ from: prev + step, to: c.timestamp - step, missing });
      }
    }
    if (prev === null || c.timestamp > prev) prev = c.timestamp;
  }
  const last = candles.length ? candles.reduce((m, c) => Math.max(m, c.timestamp), -Infinity) : null;
  const staleAfter = opts.staleAfterMs ?? 2 * step;
  const stale = opts.now !== undefined && (last === null || opts.now - (last + step) > staleAfter);
  const badRows = opts.badRows ?? [];
  return {
    ...(opts.file ? { file: opts.file } : {}),
    candles: candles.length,
    first: candles.length ? candles[0].timestamp : null,
    last,
    gaps,
    missing: gaps.reduce((s, g) => s + g.missing, 0),
    duplicates,
    nonPositive,
    absurd,
    inconsistentOhlc,
    outOfOrder,
    offGrid,
    stale,
    badRows,
    ok: !duplicates.length && !nonPositive.length && !absurd.length && !inconsistentOhlc.length && !outOfOrder.length && !offGrid.length && !badRows.length,
  };
}

export interface HistoryStats {
  /** Days from the first candle to `now` (capped at windowDays). */
  historyDays: number;
  /** Candles present in the last windowDays / candles expected there (0..1). */
  coveragePct: number;
}

/** How much usable history a symbol has over the last `windowDays` before `now`. */
export function historyStats(candles: readonly Candle[], tf: Timeframe, windowDays: number, now: number): HistoryStats {
  const step = TIMEFRAME_MS[tf];
  const start = now - windowDays * 86_400_000;
  const closedBefore = Math.floor(now / step) * step;
  const inWindow = new Set(candles.filter((c) => c.timestamp >= start && c.timestamp + step <= now).map((c) => c.timestamp));
  if (!candles.length) return { historyDays: 0, coveragePct: 0 };
  const first = candles.reduce((m, c) => Math.min(m, c.timestamp), Infinity);
  const historyDays = Math.min(windowDays, Math.max(0, (now - first) / 86_400_000));
  const expected = Math.max(0, Math.floor((closedBefore - Math.ceil(start / step) * step) / step));
  return { historyDays, coveragePct: expected === 0 ? 0 : Math.min(1, inWindow.size / expected) };
}

/** Keep only what is safe to store: sorted, deduplicated, positive, consistent and not absurd. */
export function cleanCandles(candles: readonly Candle[], tf: Timeframe): Candle[] {
  const step = TIMEFRAME_MS[tf];
  const byTs = new Map<number, Candle>();
  for (const c of candles) {
    const good =
      c.timestamp % step === 0 &&
      c.open > 0 && c.high > 0 && c.low > 0 && c.close > 0 && c.volume >= 0 &&
      c.high >= Math.max(c.open, c.close) && c.low <= Math.min(c.open, c.close) &&
      absurdCandle(c) === null;
    if (good && !byTs.has(c.timestamp)) byTs.set(c.timestamp, c);
  }
  return [...byTs.values()].sort((a, b) => a.timestamp - b.timestamp);
}

/**
 * Suspicious candles: a close that moved further from the symbol's last trusted close than the
 * symbol's own recent behaviour makes plausible. Per symbol, the scale is an exponentially weighted
 * mean of its absolute log returns (half-life `halfLife` candles), so a 40 % hour is flagged on BTC
 * (typical |move| ~0.4 %: 100x) but a brand-new coin, whose history is too short to have a scale,
 * is judged only against a wide bound (its price doubling or halving within one candle).
 *
 * A flagged candle is `pending` until the next `confirmCandles` candles say what it was:
 *  - `confirmed`: they keep at least half of the move (a real move, or one that goes on further);
 *    it becomes the reference and trading resumes.
 *  - `reverted`: the price gave back more than half of it - a bad print (or a wick the market did
 *    not keep); it never becomes the reference: the candles after it are judged against the
 *    trusted close.
 * Pure: candles in, verdicts out; the engine's feed and `kilo data check` share it.
 */
import type { Candle } from './types.js';

export interface SuspectOptions {
  /** A move is suspicious beyond this multiple of the symbol's mean absolute move. @default 25 */
  factor: number;
  /** ...and beyond this relative move at least (stablecoins have a tiny scale). @default 0.05 */
  minMove: number;
  /** Candles needed before the symbol's own scale is trusted. @default 48 */
  minHistory: number;
  /** Half-life of the scale estimate, in candles. @default 100 */
  halfLife: number;
  /** Candles after a flagged one that decide whether it was real. @default 1 */
  confirmCandles: number;
}

export const DEFAULT_SUSPECT: SuspectOptions = { factor: 25, minMove: 0.05, minHistory: 48, halfLife: 100, confirmCandles: 1 };

/** Young symbols: only a doubling or a halving in one candle is suspicious. */
const YOUNG_BOUND = Math.log(2);

export interface SuspectCandle {
  timestamp: number;
  /** Close-to-trusted-close move, in percent (signed). */
  movePct: number;
  /** The bound it crossed, in percent. */
  thresholdPct: number;
  status: 'pending' | 'confirmed' | 'reverted';
  reason: string;
}

/** Flag the suspicious candles of one ascending series. */
export function findSuspects(candles: readonly Candle[], opts: Partial<SuspectOptions> = {}): SuspectCandle[] {
  const o = { ...DEFAULT_SUSPECT, ...opts };
  const alpha = 1 - Math.pow(0.5, 1 / o.halfLife);
  const out: SuspectCandle[] = [];
  let ref = candles[0]?.close;
  let scale = 0;
  let n = 0;
  const bound = (): number => (n < o.minHistory ? Math.max(YOUNG_BOUND, Math.log(1 + o.minMove)) : Math.max(Math.log(1 + o.minMove), o.factor * scale));
  const learn = (r: number): void => {
    scale = n === 0 ? r : scale + alpha * (r - scale);
    n++;
  };
  for (let i = 1; i < candles.length; i++) {
    const c = candles[i];
    if (!(c.close > 0) || !(ref > 0)) continue;
    const move = Math.log(c.close / ref);
    const thr = bound();
    if (Math.abs(move) <= thr) {
      learn(Math.abs(move));
      ref = c.close;
      continue;
    }
    const after = candles.slice(i + 1, i + 1 + o.confirmCandles);
    const base = {
      timestamp: c.timestamp,
      movePct: round((Math.exp(move) - 1) * 100),
      thresholdPct: round((Math.exp(thr) - 1) * 100),
    };
    const expect = n < o.minHistory ? 'for a symbol this young' : `for this symbol (${o.factor}x its typical move)`;
    if (after.length < o.confirmCandles) {
      out.push({ ...base, status: 'pending', reason: `moved ${fmt(base.movePct)} in one candle, more than the ${base.thresholdPct.toFixed(1)}% plausible ${expect}; waiting for the next candle to confirm it` });
      // The newest candles cannot be judged yet; nothing after them to learn from either.
      break;
    }
    // Kept at least half of the move, on the same side of the trusted close.
    const holds = after.every((a) => Math.sign(Math.log(a.close / ref)) === Math.sign(move) && Math.abs(Math.log(a.close / ref)) >= Math.abs(move) / 2);
    if (holds) {
      out.push({ ...base, status: 'confirmed', reason: `moved ${fmt(base.movePct)} in one candle (plausible: ${base.thresholdPct.toFixed(1)}%), kept by the next ${o.confirmCandles} candle(s)` });
      learn(Math.abs(move));
      ref = c.close;
    } else {
      // A bad print (or a wick the market did not keep): the trusted close stays where it was.
      out.push({ ...base, status: 'reverted', reason: `moved ${fmt(base.movePct)} in one candle (plausible: ${base.thresholdPct.toFixed(1)}%) and gave back more than half of it: treated as a bad print` });
    }
  }
  return out;
}

const round = (x: number): number => Math.round(x * 100) / 100;
const fmt = (pct: number): string => `${pct >= 0 ? '+' : ''}${pct.toFixed(1)}%`;

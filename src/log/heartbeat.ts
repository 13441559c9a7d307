/**
 * The heartbeat as one log line: portfolio first, then one segment per symbol with price,
 * candles, signals, win rate, retrain need (with its reason), last retrain, state and the edge gate's call.
 */
import type { HeartbeatEvent } from '../engine-api.js';
import { fmtPct } from '../evaluation/edge.js';

// One formatter per digit count: toLocaleString builds a new Intl.NumberFormat on every call,
// and a replay writes a heartbeat every round. Same locale and options, same text.
const formats = new Map<number, Intl.NumberFormat>();
const num = (x: number, digits: number): string => {
  let f = formats.get(digits);
  if (!f) formats.set(digits, (f = new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })));
  return f.format(x);
};

/** Enough significant digits for both BTC (43,210.50) and DOGE (0.08123). */
export function formatPrice(p: number | null): string {
  if (p === null || !Number.isFinite(p)) return 'n/a';
  const abs = Math.abs(p);
  return num(p, abs >= 1000 ? 2 : abs >= 1 ? 4 : 6);
}

const pctText = (x: number | null): string => (x === null || !Number.isFinite(x) ? 'n/a' : `${(x * 100).toFixed(1)}%`);
const dateText = (t: number | null): string => (t === null ? 'never' : new Date(t).toISOString().slice(0, 16).replace('T', ' '));

/** The edge gate's flag with its figures: `no edge>TA (ensemble -2.3 % vs TA +89.1 %, 90 % bound -6.0 %)`. */
const edgeText = (e: NonNullable<HeartbeatEvent['symbols'][number]['edge']>): string => {
  const f = e.figures;
  return f ? `${e.label} (${f.subject} ${fmtPct(f.subjectPct)} vs TA ${fmtPct(f.taPct)}, ${Math.round(f.level * 100)} % bound ${fmtPct(f.lowerTotalPct)})` : `${e.label} (no verdict)`;
};

export function formatHeartbeatLine(event: HeartbeatEvent): string {
  const p = event.portfolio;
  const sign = p.pnl >= 0 ? '+' : '';
  const head =
    `heartbeat ${new Date(event.at).toISOString()} equity ${num(p.equity, 2)} (${sign}${num(p.pnl, 2)}, ${sign}${p.pnlPct.toFixed(2)}%)` +
    ` cash ${num(p.cash, 2)} exposure ${(p.exposure * 100).toFixed(1)}%`;
  const rows = event.symbols.map((s) => {
    const retrain = s.needsRetrain ? `RETRAIN (${s.retrainReason})` : s.retrainReason ? `ok (${s.retrainReason})` : 'ok';
    return (
      `${s.symbol} ${s.state} price ${formatPrice(s.price)} candles ${s.candles} signals ${s.signals}` +
      ` win ${pctText(s.winRate)} retrain ${retrain} last retrain ${dateText(s.lastRetrain)}${s.edge ? ` edge ${edgeText(s.edge)}` : ''}`
    );
  });
  return [head, ...rows].join(' | ');
}

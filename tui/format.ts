/** Pure formatting helpers shared by the screens (no ink/react here, so they are easy to test). */

export function fmtNum(v: number | null | undefined, digits = 2): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  return v.toFixed(digits);
}

/** Prices span 5 orders of magnitude (BTC vs DOGE): keep ~5 significant digits. */
export function fmtPrice(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  const a = Math.abs(v);
  if (a >= 1000) return v.toFixed(0);
  if (a >= 10) return v.toFixed(2);
  if (a >= 1) return v.toFixed(3);
  return v.toPrecision(4);
}

/** Selection scores are whole points; fractional ones (tests, other policies) keep 3 digits. */
export function fmtScore(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  return Number.isInteger(v) ? String(v) : v.toFixed(3);
}

export function fmtPct(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  return `${(v * 100).toFixed(digits)}%`;
}

export function fmtSignedPct(v: number | null | undefined, digits = 2): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  const s = (v * 100).toFixed(digits);
  return v > 0 ? `+${s}%` : `${s}%`;
}

export function fmtDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '-';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${h % 24}h`;
}

export function fmtAgo(at: number | null | undefined, now: number): string {
  if (at === null || at === undefined) return 'never';
  return `${fmtDuration(now - at)} ago`;
}

export function fmtDate(at: number | null | undefined): string {
  if (at === null || at === undefined || !Number.isFinite(at)) return '-';
  return new Date(at).toISOString().slice(0, 10);
}

/** Cut to width with an ellipsis; pads when align is given. */
export function fit(text: string, width: number, align: 'left' | 'right' | 'none' = 'none'): string {
  if (width <= 0) return '';
  let t = text;
  if (t.length > width) t = width === 1 ? '…' : `${t.slice(0, width - 1)}…`;
  if (align === 'left') return t.padEnd(width);
  if (align === 'right') return t.padStart(width);
  return t;
}

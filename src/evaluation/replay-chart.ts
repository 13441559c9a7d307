/**
 * The replay's equity beside buy-and-hold (and the TA rule): a terminal chart with both axes
 * (asciichart draws the y axis; the time axis is added below it) and a self-contained HTML or SVG
 * file an operator can open in a browser (inline SVG, no script, no external resource).
 */
import asciichart from 'asciichart';
import { STRATEGY_LABEL, type ReplayReport, type StrategyKey } from './replay-report.js';
import { formatScorecard } from './scorecard.js';

const ANSI = /\x1b\[[0-9;]*m/g;
const date = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** Evenly spaced samples of a curve (first and last kept), at most `width` of them. */
export function downsample(xs: ArrayLike<number>, width: number): number[] {
  const n = xs.length;
  if (n <= width) return Array.from(xs);
  return Array.from({ length: width }, (_, i) => xs[Math.round((i * (n - 1)) / (width - 1))]);
}

const asPct = (r: ReplayReport, k: StrategyKey, width: number): number[] => downsample(r.curves[k], width).map((e) => (e / r.starting_cash - 1) * 100);

export interface TerminalChartOptions {
  /** Columns of the plot area. @default 80 */
  width?: number;
  /** Rows of the plot area. @default 14 */
  height?: number;
  /** ANSI colours: all series in one chart. Without colour one chart per series (same scale), so they stay tellable apart. */
  color?: boolean;
}

/** Equity (% of the starting cash) of kilo vs buy-and-hold (and TA only, in colour) over time. */
export function terminalChart(r: ReplayReport, o: TerminalChartOptions = {}): string {
  const width = Math.max(10, o.width ?? 80);
  const height = Math.max(4, o.height ?? 14);
  const keys: StrategyKey[] = o.color ? ['kilo', 'buy_and_hold', 'ta_only'] : ['kilo', 'buy_and_hold'];
  const series = keys.map((k) => asPct(r, k, width));
  const all = series.flat();
  const min = Math.min(0, ...all);
  const max = Math.max(0, ...all);
  const format = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(1)} %`.padStart(9);
  const colors = [asciichart.green, asciichart.blue, asciichart.yellow];
  const axis = (plot: string): string => {
    const first = plot.split('\n')[0].replace(ANSI, '');
    const offset = Math.max(first.indexOf('┤'), first.indexOf('┼'));
    const cols = series[0].length;
    const labels = [0, Math.floor((cols - 1) / 2), cols - 1].map((c) => ({ c, text: date(r.curves.times[Math.round((c * (r.rounds - 1)) / Math.max(1, cols - 1))]) }));
    let line = ' '.repeat(offset + 1 + cols + 12);
    for (const { c, text } of labels) {
      const at = Math.min(Math.max(0, offset + c - Math.floor(text.length / 2)), line.length - text.length);
      line = line.slice(0, at) + text + line.slice(at + text.length);
    }
    return `${plot}\n${' '.repeat(offset)}└${'─'.repeat(cols)}\n${line.trimEnd()}`;
  };
  const title = `equity, % of starting cash, ${date(r.from)} .. ${date(r.to)} (UTC)`;
  if (o.color) {
    const plot = asciichart.plot(series, { height, min, max, format, colors });
    const legend = keys.map((k, i) => `${colors[i]}──${asciichart.reset} ${STRATEGY_LABEL[k]}`).join('   ');
    return `${title}\n${axis(plot)}\n${' '.repeat(10)}${legend}`;
  }
  return [title, ...keys.map((k, i) => `${STRATEGY_LABEL[k]}:\n${axis(asciichart.plot(series[i], { height: Math.max(4, Math.round(height / 2)), min, max, format }))}`)].join('\n');
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const SVG_COLORS: Record<StrategyKey, string> = { kilo: '#1a9850', buy_and_hold: '#2166ac', ta_only: '#d08c00', no_trade: '#888888' };

/** A standalone SVG: the four equity curves in % of the starting cash, both axes labelled, a legend. */
export function reportSvg(r: ReplayReport, o: { width?: number; height?: number } = {}): string {
  const W = o.width ?? 960;
  const H = o.height ?? 420;
  const m = { l: 70, r: 20, t: 36, b: 50 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const keys: StrategyKey[] = ['no_trade', 'ta_only', 'buy_and_hold', 'kilo'];
  const points = Math.min(r.rounds, 2000);
  const series = Object.fromEntries(keys.map((k) => [k, asPct(r, k, points)])) as Record<StrategyKey, number[]>;
  const all = Object.values(series).flat();
  const lo = Math.min(0, ...all);
  const hi = Math.max(0, ...all);
  const span = hi - lo || 1;
  const x = (i: number, n: number): number => m.l + (n > 1 ? (i / (n - 1)) * pw : 0);
  const y = (v: number): number => m.t + ph - ((v - lo) / span) * ph;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<title>${esc(`kilo replay ${date(r.from)} .. ${date(r.to)}: equity vs buy and hold`)}</title>`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${m.l}" y="20" font-size="14">${esc(`Equity, % of starting cash (${r.symbols.join(', ')}), after fees`)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const v = lo + (span * i) / 5;
    parts.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.l - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${esc(`${v >= 0 ? '+' : ''}${v.toFixed(1)} %`)}</text>`);
  }
  for (let i = 0; i <= 6; i++) {
    const idx = Math.round((i * (r.rounds - 1)) / 6);
    const xx = m.l + (r.rounds > 1 ? (idx / (r.rounds - 1)) * pw : 0);
    parts.push(`<line x1="${xx.toFixed(1)}" x2="${xx.toFixed(1)}" y1="${m.t + ph}" y2="${m.t + ph + 5}" stroke="#333"/>`);
    parts.push(`<text x="${xx.toFixed(1)}" y="${m.t + ph + 20}" text-anchor="middle">${esc(date(r.curves.times[idx]))}</text>`);
  }
  parts.push(`<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${m.t + ph}" stroke="#333"/>`, `<line x1="${m.l}" x2="${m.l + pw}" y1="${m.t + ph}" y2="${m.t + ph}" stroke="#333"/>`);
  parts.push(`<text x="${m.l + pw / 2}" y="${H - 8}" text-anchor="middle">time (UTC)</text>`);
  for (const k of keys) {
    const s = series[k];
    const d = s.map((v, i) => `${x(i, s.length).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    parts.push(`<polyline data-series="${k}" fill="none" stroke="${SVG_COLORS[k]}" stroke-width="${k === 'kilo' ? 2 : 1.3}" points="${d}"/>`);
  }
  keys.forEach((k, i) => {
    const lx = m.l + 10 + i * 170;
    const f = r.strategies[k];
    parts.push(`<line x1="${lx}" x2="${lx + 20}" y1="${m.t + 10}" y2="${m.t + 10}" stroke="${SVG_COLORS[k]}" stroke-width="2"/>`);
    parts.push(`<text x="${lx + 26}" y="${m.t + 14}">${esc(`${STRATEGY_LABEL[k]} ${f.pnl_pct >= 0 ? '+' : ''}${f.pnl_pct.toFixed(2)} %`)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** One HTML file: the chart (inline SVG), the figures, the scorecard. Nothing is fetched. */
export function reportHtml(r: ReplayReport, text: string): string {
  const card = r.scorecard ? formatScorecard(r.scorecard) : 'gate scorecard: not computed';
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${esc(`kilo replay report ${date(r.from)} .. ${date(r.to)}`)}</title>`,
    '<style>body{font-family:sans-serif;margin:24px;color:#222}pre{font-size:12px;background:#f6f6f6;padding:12px;overflow-x:auto}</style>',
    '</head><body>',
    `<h1>${esc(`kilo replay ${date(r.from)} .. ${date(r.to)}`)}</h1>`,
    reportSvg(r),
    '<h2>Figures</h2>',
    `<pre>${esc(text)}</pre>`,
    '<h2>Promotion gate scorecard</h2>',
    `<pre>${esc(card)}</pre>`,
    '</body></html>',
    '',
  ].join('\n');
}

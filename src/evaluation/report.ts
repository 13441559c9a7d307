/** Plain-text tables of a walk-forward judgement, for `kilo train` and `kilo eval`. */
import { boundAt, fmtPct, type EdgeReport, type StrategyName, type SymbolEdge } from './edge.js';

const ORDER: StrategyName[] = ['ensemble', 'gbdt', 'gru', 'ppo', 'ta', 'buy_and_hold', 'no_trade', 'majority'];
const label = (s: StrategyName): string => (['ta', 'buy_and_hold', 'no_trade', 'majority'].includes(s) ? `base:${s}` : s);

/** Per strategy: each fold's PnL after costs, the total, the rate, its lower bound, fills, exposure, accuracy. */
export function formatEdgeTable(report: EdgeReport, symbol: string, confidence: number): string {
  const sym: SymbolEdge | undefined = report.symbols[symbol];
  if (!sym) return `no walk-forward judgement for ${symbol}`;
  const c = report.costs;
  const lines = [
    `walk-forward out of sample: ${report.recipe.note}${report.duration_s > 0 ? ` (${report.duration_s.toFixed(1)} s)` : ''}; ${sym.rows.toLocaleString('en-US')} candles ` +
      `(fee ${(c.fee_rate * 100).toFixed(2)} % + slippage ${c.slippage_bps} bps per side, entry threshold ${c.entry_threshold}, long-only, fully invested)`,
    `folds: ${sym.folds.map((f, i) => `${i + 1} ${new Date(f.from).toISOString().slice(0, 10)}..${new Date(f.to).toISOString().slice(0, 10)} (${f.recipe})`).join(', ')}`,
  ];
  const { level } = boundAt(undefined, confidence);
  const foldCols = sym.folds.map((_, i) => `fold ${i + 1}`.padStart(9)).join(' ');
  lines.push(`${'strategy'.padEnd(17)} ${foldCols} ${'total'.padStart(9)} ${'%/30d'.padStart(8)} ${`${Math.round(level * 100)}% bound`.padStart(9)} ${'trades'.padStart(7)} ${'exposure'.padStart(8)} ${'accuracy'.padStart(8)}`);
  for (const name of ORDER) {
    const e = sym.strategies[name];
    if (!e) continue;
    const folds = e.fold_pnl_pct.map((p) => fmtPct(p).padStart(9)).join(' ');
    const lb = boundAt(e.lower_pct_30d, confidence).value;
    lines.push(
      `${label(name).padEnd(17)} ${folds} ${fmtPct(e.total_pct).padStart(9)} ${fmtPct(e.mean_pct_30d, 2).padStart(8)} ${fmtPct(lb, 2).padStart(9)} ` +
        `${String(e.trades).padStart(7)} ${`${(e.exposure * 100).toFixed(0)} %`.padStart(8)} ${(e.accuracy !== undefined ? `${(e.accuracy * 100).toFixed(1)} %` : '-').padStart(8)}`,
    );
  }
  return lines.join('\n');
}

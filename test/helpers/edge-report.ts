/**
 * Constructed walk-forward verdicts (metadata.json `edge`) with known figures, for the edge gate's
 * tests: a strategy's stored total, rate and lower bounds at every stored confidence level.
 */
import type { EdgeReport, StrategyEdge, SymbolEdge } from '../../src/evaluation/edge.js';

/** total %, rate %/30d, its 90 % lower bound, and (models) the 90 % lower bound over TA. */
export const strat = (total: number, rate: number, lower90: number, vsTa90?: number): StrategyEdge => ({
  fold_pnl_pct: [total / 4, total / 4, total / 4, total / 4],
  total_pct: total,
  mean_pct_30d: rate,
  lower_pct_30d: { '0.8': lower90 + 1, '0.9': lower90, '0.95': lower90 - 1, '0.975': lower90 - 2, '0.99': lower90 - 3 },
  ...(vsTa90 !== undefined ? { vs_ta_mean_pct_30d: vsTa90 + 2, vs_ta_lower_pct_30d: { '0.8': vsTa90 + 1, '0.9': vsTa90, '0.95': vsTa90 - 1, '0.975': vsTa90 - 2, '0.99': vsTa90 - 3 } } : {}),
  trades: 10,
  exposure: 0.5,
  fees_pct: 1,
});

export const edgeReport = (symbol: string, strategies: SymbolEdge['strategies'], rows = 1281): EdgeReport => ({
  unit: 'test',
  candles_per_30d: 720,
  costs: { fee_rate: 0.001, slippage_bps: 5, entry_threshold: 0.55, position_fraction: 1, liquidate_at_end: true },
  bootstrap: { block_length: 48, resamples: 2000, seed: 1, levels: [0.8, 0.9, 0.95, 0.975, 0.99] },
  confidence: 0.9,
  margin_pct: 0.5,
  recipe: { folds: 4, light: {}, final: 'quick', note: 'test' },
  duration_s: 1,
  symbols: {
    [symbol]: {
      rows,
      folds: [1, 2, 3, 4].map((k) => ({ from: k, to: k + 1, rows: rows / 4, recipe: 'fold' as const })),
      strategies: { no_trade: strat(0, 0, 0), buy_and_hold: strat(20, 2, -5), ...strategies },
      subject: 'ensemble',
      verdict: 'no_edge',
      reason: 'stored at training time',
      ta_verdict: 'no_edge',
      ta_reason: 'stored',
    },
  },
});

/** The SOL/USDT: the ensemble -2.3 % with no edge, the TA rule +89.1 % with one. */
export const noEdgeTaEdge = (symbol: string): EdgeReport => edgeReport(symbol, { ensemble: strat(-2.3, -0.5, -4.2, -20), ta: strat(89.1, 12, 3) });
/** A model whose bound beats no-trade and TA by the margin. */
export const clearEdge = (symbol: string): EdgeReport => edgeReport(symbol, { ensemble: strat(12, 3, 1.2, 0.8), ta: strat(4, 1, 0.2) });

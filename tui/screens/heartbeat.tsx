import React from 'react';
import { Box } from 'ink';
import type { SymbolRow, SymbolState } from '../../src/engine-api.js';
import { useEngineSnapshot } from '../hooks/use-engine.js';
import { useHeartbeatInput } from '../hooks/use-heartbeat-input.js';
import { Table, type Cell, type Column } from '../components/table.js';
import { sparkline } from '../components/sparkline.js';
import { CHART_COLORS, LineChart } from '../components/line-chart.js';
import { St } from '../components/styled.js';
import { fmtAgo, fmtPct, fmtPrice } from '../format.js';
import { edgeSummary } from '../../src/engine/edge-gate.js';

export const STATE_COLOR: Record<SymbolState, string> = {
  live: 'green',
  blocked: 'red',
  queued: 'yellow',
  training: 'cyan',
  unsupported: 'gray',
  fallback: 'magenta',
};

const COLUMNS: Column[] = [
  { key: 'symbol', title: 'Symbol', width: 10, priority: 0 },
  { key: 'price', title: 'Price', width: 9, align: 'right', priority: 1 },
  { key: 'spark', title: 'Trend', width: 8, priority: 4 },
  { key: 'candles', title: 'Candles', width: 7, align: 'right', priority: 6 },
  { key: 'signal', title: 'Signal', width: 9, priority: 2 },
  { key: 'win', title: 'Win', width: 6, align: 'right', priority: 2 },
  { key: 'pnl', title: 'PnL', width: 9, align: 'right', priority: 8 },
  { key: 'retrain', title: 'Retrain', width: 12, priority: 4, grow: 1 },
  { key: 'last', title: 'Last train', width: 10, priority: 7 },
  { key: 'model', title: 'Model', width: 5, priority: 3 },
  { key: 'edge', title: 'Edge', width: 12, priority: 8 },
  { key: 'state', title: 'State', width: 11, priority: 0 },
];

const EDGE_COLOR = { model: 'green', ta: 'yellow', hold: 'red', override: 'magenta' } as const;

/** Paper PnL in the quote currency, signed, coloured by sign. */
export function pnlCell(v: number): Cell {
  if (!Number.isFinite(v) || v === 0) return { text: '0.00' };
  const a = Math.abs(v);
  const text = `${v > 0 ? '+' : '-'}${a >= 10_000 ? `${(a / 1000).toFixed(1)}k` : a.toFixed(2)}`;
  return { text, color: v > 0 ? 'green' : 'red' };
}

const DIR_SHORT = { bullish: 'bull', bearish: 'bear', neutral: 'flat' } as const;
const DIR_COLOR = { bullish: 'green', bearish: 'red', neutral: 'gray' } as const;

export function heartbeatCells(r: SymbolRow, now: number): Record<string, Cell> {
  const sig = r.lastSignal;
  return {
    symbol: { text: r.symbol },
    price: { text: fmtPrice(r.price) },
    spark: { text: sparkline(r.sparkline, 8), color: 'blue' },
    candles: { text: String(r.candles) },
    signal: sig ? { text: `${DIR_SHORT[sig.direction]} ${sig.confidence.toFixed(2)}`, color: DIR_COLOR[sig.direction] } : { text: '-' },
    win: { text: fmtPct(r.winRate) },
    pnl: pnlCell(r.pnl.realised + r.pnl.unrealised),
    retrain: r.needsRetrain ? { text: `yes ${r.retrainReason}`, color: 'yellow' } : { text: 'no' },
    last: { text: r.lastRetrain === null ? 'never' : fmtAgo(r.lastRetrain, now).replace(' ago', '') },
    model: { text: r.modelVersion ?? '-' },
    // The edge gate (src/engine/edge-gate.ts): 'edge', 'no edge>TA', 'no edge>hold', 'override', 'gate off'.
    edge: r.edge ? { text: r.edge.label, color: EDGE_COLOR[r.edge.kind] } : { text: '-' },
    state: { text: r.state, color: STATE_COLOR[r.state] },
  };
}

export interface HeartbeatProps {
  width: number;
  height: number;
  active: boolean;
  selected: number;
  onSelect: (update: (i: number) => number) => void;
}

export function Heartbeat({ width, height, active, selected, onSelect }: HeartbeatProps): React.ReactElement {
  const snap = useEngineSnapshot();
  const rows = snap.symbols;
  const index = Math.min(selected, Math.max(0, rows.length - 1));
  useHeartbeatInput({ count: rows.length, setIndex: onSelect, active });
  const cur = rows[index];
  // Rows first (table header, detail line and chart title take 3 lines); the equity chart gets
  // what is left, between 1 and 8 lines.
  const maxRows = Math.max(1, Math.min(Math.max(1, rows.length), height - 4));
  const chartRows = Math.max(1, Math.min(8, height - 3 - maxRows));
  return (
    <Box flexDirection="column" width={width}>
      <Table columns={COLUMNS} rows={rows.map((r) => heartbeatCells(r, snap.marketNow ?? snap.now))} width={width} selected={index} maxRows={maxRows} empty="no symbols yet (the engine is starting)" />
      <St dim>{cur ? `${cur.symbol}: ${cur.state}${cur.stateReason ? ` (${cur.stateReason})` : ''}; retrain: ${cur.needsRetrain ? cur.retrainReason : 'not needed'}${cur.edge ? `; ${edgeSummary(cur.edge)}` : ''}${cur.shadow ? `; ${cur.shadow.label}` : ''}` : ' '}</St>
      <LineChart
        title="Equity vs buy-and-hold"
        series={[
          { label: 'equity', values: snap.portfolio.equityCurve, color: CHART_COLORS.green },
          { label: 'buy-and-hold', values: snap.portfolio.buyAndHoldCurve ?? [], color: CHART_COLORS.gray },
        ]}
        width={width - 2}
        height={chartRows}
        digits={2}
      />
    </Box>
  );
}

import React, { useState } from 'react';
import { Box } from 'ink';
import type { PositionView, SymbolRow, TradeEvent } from '../../src/engine-api.js';
import { useEngineSnapshot } from '../hooks/use-engine.js';
import { useListInput } from '../hooks/use-list-input.js';
import { useInputCommitProbe } from '../hooks/use-routed-input.js';
import { Table, type Cell, type Column } from '../components/table.js';
import { St } from '../components/styled.js';
import { fit, fmtPrice } from '../format.js';
import { pnlCell } from './heartbeat.js';

const POSITION_COLUMNS: Column[] = [
  { key: 'symbol', title: 'Position', width: 10, priority: 0 },
  { key: 'qty', title: 'Qty', width: 10, align: 'right', priority: 3 },
  { key: 'entry', title: 'Entry', width: 9, align: 'right', priority: 0 },
  { key: 'last', title: 'Last', width: 9, align: 'right', priority: 1 },
  { key: 'value', title: 'Value', width: 9, align: 'right', priority: 2 },
  { key: 'upnl', title: 'Unrealised', width: 10, align: 'right', priority: 0 },
  { key: 'pct', title: '%', width: 7, align: 'right', priority: 1 },
  { key: 'opened', title: 'Opened', width: 16, priority: 4 },
];

const SYMBOL_COLUMNS: Column[] = [
  { key: 'symbol', title: 'Symbol', width: 10, priority: 0 },
  { key: 'realised', title: 'Realised', width: 9, align: 'right', priority: 0 },
  { key: 'unrealised', title: 'Unrealised', width: 10, align: 'right', priority: 1 },
  { key: 'total', title: 'PnL', width: 9, align: 'right', priority: 0 },
  { key: 'fees', title: 'Fees', width: 8, align: 'right', priority: 2 },
  { key: 'trades', title: 'Trades', width: 6, align: 'right', priority: 3 },
];

const TRADE_COLUMNS: Column[] = [
  { key: 'at', title: 'Time', width: 16, priority: 1 },
  { key: 'side', title: 'Side', width: 4, priority: 0 },
  { key: 'symbol', title: 'Symbol', width: 10, priority: 0 },
  { key: 'qty', title: 'Qty', width: 10, align: 'right', priority: 4 },
  { key: 'price', title: 'Price', width: 9, align: 'right', priority: 2 },
  { key: 'fee', title: 'Fee', width: 6, align: 'right', priority: 5 },
  { key: 'pnl', title: 'PnL', width: 9, align: 'right', priority: 1 },
  { key: 'reason', title: 'Reason', width: 14, priority: 3, grow: 1 },
];

const when = (t: number): string => new Date(t).toISOString().slice(0, 16).replace('T', ' ');
const money = (v: number): string => v.toFixed(2);

export function positionCells(p: PositionView): Record<string, Cell> {
  return {
    symbol: { text: p.symbol },
    qty: { text: p.qty.toPrecision(5) },
    entry: { text: fmtPrice(p.entryPrice) },
    last: { text: fmtPrice(p.lastPrice) },
    value: { text: money(p.value) },
    upnl: pnlCell(p.unrealisedPnl),
    pct: { text: `${p.unrealisedPct >= 0 ? '+' : ''}${p.unrealisedPct.toFixed(2)}%`, color: p.unrealisedPct >= 0 ? 'green' : 'red' },
    opened: { text: when(p.openedAt) },
  };
}

export function tradeCells(t: TradeEvent): Record<string, Cell> {
  return {
    at: { text: when(t.at) },
    side: { text: t.side, color: t.side === 'buy' ? 'green' : 'yellow' },
    symbol: { text: t.symbol },
    qty: { text: t.qty.toPrecision(5) },
    price: { text: fmtPrice(t.price) },
    fee: { text: t.fee.toFixed(2) },
    pnl: t.realisedPnl === undefined ? { text: '' } : pnlCell(t.realisedPnl),
    reason: { text: t.reason },
  };
}

function symbolCells(r: SymbolRow): Record<string, Cell> {
  return {
    symbol: { text: r.symbol },
    realised: pnlCell(r.pnl.realised),
    unrealised: pnlCell(r.pnl.unrealised),
    total: pnlCell(r.pnl.realised + r.pnl.unrealised),
    fees: { text: money(r.pnl.fees) },
    trades: { text: String(r.pnl.trades) },
  };
}

export interface PortfolioProps {
  width: number;
  height: number;
  active: boolean;
}

/** Open positions (entry price, unrealised PnL), PnL per symbol, and the recent trades with their reason. */
export function Portfolio({ width, height, active }: PortfolioProps): React.ReactElement {
  const snap = useEngineSnapshot();
  const p = snap.portfolio;
  const trades = p.trades ?? [];
  const positions = p.positions ?? [];
  const [sel, setSel] = useState(0);
  useInputCommitProbe();
  useListInput('portfolio', trades.length, setSel, active);
  const index = Math.min(sel, Math.max(0, trades.length - 1));
  const head = `equity ${money(p.equity)} (${p.pnlPct >= 0 ? '+' : ''}${p.pnlPct.toFixed(2)}%)  cash ${money(p.cash)}  exposure ${(p.exposure * 100).toFixed(1)}%  realised ${money(p.realisedPnl ?? 0)}  fees ${money(p.feesPaid ?? 0)}  trades ${p.tradeCount ?? 0}`;
  const posRows = Math.max(1, Math.min(positions.length || 1, Math.floor((height - 6) / 3)));
  const symRows = Math.max(1, Math.min(snap.symbols.length || 1, Math.floor((height - 6) / 3)));
  const tradeRows = Math.max(1, height - 5 - posRows - symRows - 2);
  const cur = trades[index];
  return (
    <Box flexDirection="column" width={width}>
      <St bold>{fit(head, width)}</St>
      <Table columns={POSITION_COLUMNS} rows={positions.map(positionCells)} width={width} maxRows={posRows} empty="no open positions" />
      <Table columns={SYMBOL_COLUMNS} rows={snap.symbols.map(symbolCells)} width={width} maxRows={symRows} empty="no symbols" />
      <Table columns={TRADE_COLUMNS} rows={trades.map(tradeCells)} width={width} selected={active ? index : -1} maxRows={tradeRows} empty="no trades yet" />
      <St dim>{fit(cur ? `${when(cur.at)} ${cur.side} ${cur.symbol}: ${cur.reason}` : ' ', width)}</St>
    </Box>
  );
}

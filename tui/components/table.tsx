import React from 'react';
import { Box } from 'ink';
import { St } from './styled.js';
import { fit } from '../format.js';

export interface Column {
  key: string;
  title: string;
  width: number;
  /** @default 'left' */
  align?: 'left' | 'right';
  /** Lower numbers survive longer when the terminal is narrow. @default 5 */
  priority?: number;
  /** Share of the spare width this column takes on a wide terminal (long lists, reasons). @default 0 */
  grow?: number;
}

export interface Cell {
  text: string;
  color?: string;
}

/**
 * Keep the columns that fit in `width` (one space between columns plus a 2-char selection marker),
 * dropping the highest priority numbers first but keeping the original order.
 */
export function layoutColumns(columns: readonly Column[], width: number): Column[] {
  const kept = [...columns];
  const total = (cs: Column[]) => 2 + cs.reduce((s, c) => s + c.width + 1, 0);
  while (kept.length > 1 && total(kept) > width) {
    let drop = 0;
    for (let i = 1; i < kept.length; i++) {
      if ((kept[i].priority ?? 5) >= (kept[drop].priority ?? 5)) drop = i;
    }
    kept.splice(drop, 1);
  }
  // Spare width goes to the growing columns, so a wide terminal shows whole symbol lists and reasons.
  const spare = width - total(kept);
  const shares = kept.reduce((s, c) => s + (c.grow ?? 0), 0);
  if (spare <= 0 || shares === 0) return kept;
  let left = spare;
  const grown = kept.map((c) => {
    const extra = c.grow ? Math.floor((spare * c.grow) / shares) : 0;
    left -= extra;
    return extra ? { ...c, width: c.width + extra } : c;
  });
  return grown;
}

export interface TableProps {
  columns: readonly Column[];
  rows: readonly Record<string, Cell>[];
  width: number;
  selected?: number;
  /** Rows shown at most; the window follows the selection. @default Infinity */
  maxRows?: number;
  empty?: string;
}

export function Table({ columns, rows, width, selected = -1, maxRows = Infinity, empty = '(none)' }: TableProps): React.ReactElement {
  const cols = layoutColumns(columns, width);
  const line = (cells: (c: Column) => string) => cols.map((c) => fit(cells(c), c.width, c.align ?? 'left')).join(' ');
  const start = Math.max(0, Math.min(rows.length - maxRows, selected - Math.floor(maxRows / 2)));
  const visible = Number.isFinite(maxRows) ? rows.slice(start, start + maxRows) : rows;
  const offset = Number.isFinite(maxRows) ? start : 0;
  return (
    <Box flexDirection="column">
      <St bold>{`  ${line((c) => c.title)}`}</St>
      {rows.length === 0 ? <St dim>{`  ${empty}`}</St> : null}
      {visible.map((row, i) => {
        const isSel = i + offset === selected;
        return (
          <Box key={i + offset}>
            <St color="cyan" bold={isSel}>{isSel ? '> ' : '  '}</St>
            {cols.map((c, ci) => (
              <St key={c.key} color={row[c.key]?.color} inverse={isSel}>
                {fit(row[c.key]?.text ?? '', c.width, c.align ?? 'left') + (ci < cols.length - 1 ? ' ' : '')}
              </St>
            ))}
          </Box>
        );
      })}
    </Box>
  );
}

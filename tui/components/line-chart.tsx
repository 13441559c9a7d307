import React from 'react';
import { Box } from 'ink';
import { St } from './styled.js';
import { fmtNum } from '../format.js';

const EIGHTHS = ' ▁▂▃▄▅▆▇█';

/**
 * A filled column chart of `values` resampled to `width` columns and `height` rows, top row first.
 * Used for the training-loss curve and the equity curve.
 */
export function lineChart(values: readonly number[], width: number, height: number): string[] {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length === 0 || width <= 0 || height <= 0) return [];
  const cols: number[] = [];
  const n = Math.min(width, v.length);
  for (let c = 0; c < n; c++) {
    // Resample by taking the value at the proportional index so the shape survives squeezing.
    const i = n === 1 ? v.length - 1 : Math.round((c * (v.length - 1)) / (n - 1));
    cols.push(v[i]);
  }
  const lo = Math.min(...cols);
  const hi = Math.max(...cols);
  const span = hi - lo;
  const levels = cols.map((x) => (span === 0 ? Math.ceil((height * 8) / 2) : Math.max(1, Math.round(((x - lo) / span) * height * 8))));
  const rows: string[] = [];
  for (let r = height - 1; r >= 0; r--) {
    rows.push(levels.map((lv) => EIGHTHS[Math.max(0, Math.min(8, lv - r * 8))]).join(''));
  }
  return rows;
}

export interface LineChartProps {
  title: string;
  values: readonly number[];
  width: number;
  /** @default 4 */
  height?: number;
  color?: string;
  digits?: number;
}

export function LineChart({ title, values, width, height = 4, color = 'green', digits = 4 }: LineChartProps): React.ReactElement {
  const finite = values.filter((x) => Number.isFinite(x));
  const last = finite.length ? finite[finite.length - 1] : null;
  const lo = finite.length ? Math.min(...finite) : null;
  const hi = finite.length ? Math.max(...finite) : null;
  const rows = lineChart(finite, Math.max(1, width), height);
  return (
    <Box flexDirection="column">
      <St dim>{`${title}  last ${fmtNum(last, digits)}  min ${fmtNum(lo, digits)}  max ${fmtNum(hi, digits)}`}</St>
      {rows.length === 0 ? <St dim>(no data yet)</St> : rows.map((r, i) => <St key={i} color={color}>{r}</St>)}
    </Box>
  );
}

import React from 'react';
import { St } from './styled.js';

const BARS = '▁▂▃▄▅▆▇█';

/** The last `width` values as one line of block characters scaled between their min and max. */
export function sparkline(values: readonly number[], width: number): string {
  const v = values.filter((x) => Number.isFinite(x)).slice(-Math.max(0, width));
  if (v.length === 0 || width <= 0) return '';
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  const span = hi - lo;
  return v
    .map((x) => (span === 0 ? BARS[3] : BARS[Math.min(BARS.length - 1, Math.floor(((x - lo) / span) * BARS.length))]))
    .join('');
}

export interface SparklineProps {
  values: readonly number[];
  /** @default 12 */
  width?: number;
  color?: string;
}

export function Sparkline({ values, width = 12, color }: SparklineProps): React.ReactElement {
  return <St color={color}>{sparkline(values, width).padEnd(width)}</St>;
}

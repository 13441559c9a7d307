import React from 'react';
import { Box, Text } from 'ink';
import asciichart from 'asciichart';
import chalk from 'chalk';
import { St } from './styled.js';
import { fit, fmtNum } from '../format.js';
import { useTheme } from '../theme.js';

export interface Series {
  label: string;
  values: readonly number[];
  /** An asciichart colour (asciichart.green, ...); dropped under NO_COLOR. */
  color?: string;
}

/**
 * `values` resampled to `n` points by taking the value at the proportional index, so the shape
 * survives squeezing (and stretching).
 */
export function resample(values: readonly number[], n: number): number[] {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length === 0 || n <= 0) return [];
  // Short series are stretched over the width too: ten epochs read better as a step line than as ten columns.
  return Array.from({ length: n }, (_, c) => v[n === 1 ? v.length - 1 : Math.round((c * (v.length - 1)) / (n - 1))]);
}

/**
 * Rows of an asciichart plot of the series with a y axis of `digits` decimals, `width` columns wide
 * in total (axis included) and `height` rows: a +2 % move no longer fills the whole height, the
 * axis says how big it is.
 */
export function chartRows(series: readonly Series[], width: number, height: number, digits: number, colors: boolean): string[] {
  const data = series.map((s) => ({ s, v: s.values.filter((x) => Number.isFinite(x)) })).filter((x) => x.v.length > 0);
  if (!data.length || width <= 0 || height <= 0) return [];
  // The common recent span: every series' newest points line up on the right.
  const n = Math.min(...data.map((x) => x.v.length));
  const all = data.flatMap((x) => x.v.slice(-n));
  const label = Math.max(...[Math.min(...all), Math.max(...all)].map((x) => x.toFixed(digits).length)) + 1;
  const points = Math.max(2, width - label - 2);
  const lines = data.map(({ v }) => {
    const r = resample(v.slice(-n), points);
    return r.length === 1 ? [r[0], r[0]] : r;
  });
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const text = asciichart.plot(lines, {
    // asciichart draws height + 1 rows.
    height: Math.max(1, height - 1),
    format: (x: number) => x.toFixed(digits).padStart(label),
    ...(colors ? { colors: data.map(({ s }) => s.color ?? asciichart.default) } : {}),
    // A flat line gets a visible band around it instead of a zero-height axis.
    ...(lo === hi ? { min: lo - Math.max(1e-9, Math.abs(lo) * 0.01), max: hi + Math.max(1e-9, Math.abs(hi) * 0.01) } : {}),
  });
  return text.split('\n');
}

export interface LineChartProps {
  title: string;
  series: readonly Series[];
  width: number;
  /** Rows of the plot (the title line comes on top). @default 4 */
  height?: number;
  digits?: number;
}

export function LineChart({ title, series, width, height = 4, digits = 4 }: LineChartProps): React.ReactElement {
  const { noColor } = useTheme();
  const legend = series
    .map((s) => {
      const v = s.values.filter((x) => Number.isFinite(x));
      return `${s.label} ${fmtNum(v.at(-1) ?? null, digits)} (min ${fmtNum(v.length ? Math.min(...v) : null, digits)}, max ${fmtNum(v.length ? Math.max(...v) : null, digits)})`;
    })
    .join('  ');
  // asciichart writes its own escape codes: only where Ink itself would colour (a colour terminal).
  const rows = chartRows(series, width, height, digits, !noColor && chalk.level > 0);
  return (
    <Box flexDirection="column">
      <St dim>{fit(`${title}  ${legend}`, width)}</St>
      {rows.length === 0 ? <St dim>(no data yet)</St> : rows.map((r, i) => <Text key={i} wrap="truncate-end">{r}</Text>)}
    </Box>
  );
}

export const CHART_COLORS = { green: asciichart.green, cyan: asciichart.cyan, gray: asciichart.darkgray, yellow: asciichart.yellow, magenta: asciichart.magenta };

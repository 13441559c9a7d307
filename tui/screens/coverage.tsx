import React, { useState } from 'react';
import { Box } from 'ink';
import type { CoverageCell, CoverageRowView } from '../../src/engine-api.js';
import { useEngineSnapshot } from '../hooks/use-engine.js';
import { useListInput } from '../hooks/use-list-input.js';
import { useInputCommitProbe } from '../hooks/use-routed-input.js';
import { Table, type Cell, type Column } from '../components/table.js';
import { St } from '../components/styled.js';
import { fit, fmtDate, fmtDuration } from '../format.js';
import { STATE_COLOR } from './heartbeat.js';
import { compareVersions } from '../../src/registry/version.js';

const DAY = 86_400_000;
const MARK: Record<CoverageCell['state'], string> = { serving: '●', available: '○', incompatible: '✗', incomplete: '!' };
const MARK_COLOR: Record<CoverageCell['state'], string> = { serving: 'green', available: 'white', incompatible: 'red', incomplete: 'yellow' };

/** "● 12d": the cell's state and how old its training data is on the market clock. */
export function cellText(c: CoverageCell | undefined, now: number): Cell {
  if (!c) return { text: '·', color: 'gray' };
  const age = c.trainedTo === null ? '?' : `${Math.max(0, Math.floor((now - c.trainedTo) / DAY))}d`;
  return { text: `${MARK[c.state]} ${age}`, color: MARK_COLOR[c.state] };
}

export interface CoverageProps {
  width: number;
  height: number;
  active: boolean;
}

/** Symbols x versions: which version holds each symbol, how old, in what state, and the ETA of its training. */
export function Coverage({ width, height, active }: CoverageProps): React.ReactElement {
  const snap = useEngineSnapshot();
  const rows: CoverageRowView[] = snap.coverage?.rows ?? [];
  const now = snap.marketNow ?? snap.now;
  const [sel, setSel] = useState(0);
  useInputCommitProbe();
  useListInput('coverage', rows.length, setSel, active);
  const index = Math.min(sel, Math.max(0, rows.length - 1));
  // The newest versions that fit; a narrow terminal shows fewer.
  const versions = [...new Set(rows.flatMap((r) => r.cells.map((c) => c.version)))].sort(compareVersions);
  const fixed = 2 + 11 + 12 + 8 + 10 + 4;
  const shown = versions.slice(-Math.max(1, Math.floor((width - fixed) / 8)));
  const columns: Column[] = [
    { key: 'symbol', title: 'Symbol', width: 10, priority: 0 },
    { key: 'state', title: 'State', width: 11, priority: 0 },
    { key: 'serving', title: 'Serving', width: 7, priority: 1 },
    ...shown.map((v) => ({ key: `v${v}`, title: `v${v}`, width: 7, priority: 2 })),
    { key: 'job', title: 'Training', width: 10, priority: 3 },
  ];
  const table = rows.map((r) => {
    const cells: Record<string, Cell> = {
      symbol: { text: r.symbol },
      state: { text: r.state, color: STATE_COLOR[r.state] },
      serving: { text: r.servingVersion ?? '-' },
      job: r.job ? { text: `${r.job.state === 'running' ? 'run' : 'queued'} ${fmtDuration(r.job.etaS === null ? null : r.job.etaS * 1000)}`, color: 'cyan' } : { text: '' },
    };
    for (const v of shown) cells[`v${v}`] = cellText(r.cells.find((c) => c.version === v), now);
    return cells;
  });
  const cur = rows[index];
  const detail = cur
    ? [
        `${cur.symbol}: ${cur.state}${cur.reason ? ` (${cur.reason})` : ''}${cur.job ? `; job ${cur.job.id} ${cur.job.state}, eta ${fmtDuration(cur.job.etaS === null ? null : cur.job.etaS * 1000)}` : ''}`,
        ...(cur.cells.length
          ? cur.cells.map((c) => `  v${c.version} ${c.state.padEnd(12)} trained ${fmtDate(c.trainedFrom)}..${fmtDate(c.trainedTo)}  features ${c.featureHash ?? '-'}  created ${fmtDate(c.createdAt)}  ${c.note}`)
          : ['  no version holds it yet']),
      ]
    : [];
  const detailRoom = Math.max(1, Math.min(detail.length, Math.floor(height / 3)));
  return (
    <Box flexDirection="column" width={width}>
      <Table columns={columns} rows={table} width={width} selected={index} maxRows={Math.max(1, height - 2 - detailRoom)} empty="no symbols in the universe yet" />
      <St dim>{fit('● serving  ○ available  ✗ incompatible  ! incomplete  · none; age of the training data', width)}</St>
      {detail.slice(0, detailRoom).map((d, i) => (
        <St key={i}>{fit(d, width)}</St>
      ))}
    </Box>
  );
}

import React, { useState } from 'react';
import { Box } from 'ink';
import type { JobState, JobView } from '../../src/engine-api.js';
import { useEngine, useEngineSnapshot } from '../hooks/use-engine.js';
import { useQueueInput } from '../hooks/use-queue-input.js';
import { useInputCommitProbe } from '../hooks/use-routed-input.js';
import type { Report } from '../hooks/use-report.js';
import { Table, type Cell, type Column } from '../components/table.js';
import { progressBar } from '../components/progress-bar.js';
import { CHART_COLORS, LineChart } from '../components/line-chart.js';
import { St } from '../components/styled.js';
import { fmtDuration, fmtNum } from '../format.js';

const JOB_COLOR: Record<JobState, string> = { queued: 'yellow', running: 'cyan', done: 'green', failed: 'red', cancelled: 'gray' };

const COLUMNS: Column[] = [
  { key: 'id', title: 'Job', width: 6, priority: 0 },
  { key: 'symbol', title: 'Symbol', width: 10, priority: 0 },
  { key: 'state', title: 'State', width: 9, priority: 0 },
  { key: 'prio', title: 'Prio', width: 4, align: 'right', priority: 3 },
  { key: 'bar', title: 'Progress', width: 14, priority: 1 },
  { key: 'epoch', title: 'Epoch', width: 7, priority: 2 },
  { key: 'loss', title: 'Loss', width: 7, align: 'right', priority: 2 },
  { key: 'val', title: 'Val', width: 6, align: 'right', priority: 4 },
  { key: 'eta', title: 'ETA', width: 7, priority: 2 },
  { key: 'att', title: 'Try', width: 3, align: 'right', priority: 5 },
  { key: 'err', title: 'Last error', width: 18, priority: 6 },
];

export function jobCells(j: JobView): Record<string, Cell> {
  const p = j.progress;
  const fraction = j.state === 'done' ? 1 : (p?.fraction ?? 0);
  return {
    id: { text: j.id },
    symbol: { text: j.symbol },
    state: { text: j.state, color: JOB_COLOR[j.state] },
    prio: { text: String(j.priority) },
    bar: { text: `${progressBar(fraction, 9)}${String(Math.round(fraction * 100)).padStart(4)}%`, color: 'cyan' },
    epoch: { text: p ? `${p.phase === 'gru' || p.epochs > 0 ? `${p.epoch}/${p.epochs}` : p.phase}` : '-' },
    loss: { text: fmtNum(p?.loss ?? null, 4) },
    val: { text: fmtNum(p?.valMetric ?? null, 3) },
    eta: { text: j.state === 'running' ? fmtDuration(p?.etaS === null || p?.etaS === undefined ? null : p.etaS * 1000) : '-' },
    att: { text: String(j.attempts) },
    err: { text: j.lastError ?? '', color: 'red' },
  };
}

export interface QueueProps {
  width: number;
  height: number;
  active: boolean;
  selectedSymbol: string | null;
  report: Report;
}

export function Queue({ width, height, active, selectedSymbol, report }: QueueProps): React.ReactElement {
  const engine = useEngine();
  const snap = useEngineSnapshot();
  const jobs = snap.jobs;
  const [sel, setSel] = useState(0);
  useInputCommitProbe();
  const index = Math.min(sel, Math.max(0, jobs.length - 1));
  useQueueInput({ engine, jobs, index, setIndex: setSel, selectedSymbol, report, active });
  const cur = jobs[index];
  const maxRows = Math.max(1, Math.min(Math.max(1, jobs.length), height - 6));
  const chartRows = Math.max(1, Math.min(8, height - 3 - maxRows));
  return (
    <Box flexDirection="column" width={width}>
      <Table columns={COLUMNS} rows={jobs.map(jobCells)} width={width} selected={index} maxRows={maxRows} empty={`queue empty; t trains ${selectedSymbol ?? 'the selected symbol'} now`} />
      <St dim>
        {cur
          ? `job ${cur.id} ${cur.symbol}: ${cur.reason}${cur.progress ? `; phase ${cur.progress.phase}` : ''}${cur.progress?.worker ? ` on worker ${cur.progress.worker}` : ''}${cur.lastError ? `; error: ${cur.lastError}` : ''}`
          : ' '}
      </St>
      <LineChart
        title={cur ? `Training, job ${cur.id}${cur.curvePhase ? ` (${cur.curvePhase})` : ''}` : 'Training'}
        series={[
          { label: 'loss', values: cur?.lossHistory ?? [], color: CHART_COLORS.cyan },
          { label: cur?.valLabel ?? 'validation', values: cur?.valHistory ?? [], color: CHART_COLORS.yellow },
        ]}
        width={width - 2}
        height={chartRows}
      />
    </Box>
  );
}

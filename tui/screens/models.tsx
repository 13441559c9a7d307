import React, { useState } from 'react';
import { Box } from 'ink';
import type { ModelVersionView } from '../../src/engine-api.js';
import { useEngine, useEngineSnapshot } from '../hooks/use-engine.js';
import { useModelsInput } from '../hooks/use-models-input.js';
import { useInputCommitProbe } from '../hooks/use-routed-input.js';
import type { Report } from '../hooks/use-report.js';
import { Table, type Cell, type Column } from '../components/table.js';
import { St } from '../components/styled.js';
import { fmtDate, fmtNum } from '../format.js';

const COLUMNS: Column[] = [
  { key: 'version', title: 'Version', width: 8, priority: 0 },
  { key: 'mark', title: 'Use', width: 8, priority: 0 },
  { key: 'mode', title: 'Mode', width: 6, priority: 4 },
  { key: 'symbols', title: 'Symbols', width: 20, priority: 3 },
  { key: 'end', title: 'Trained to', width: 10, priority: 2 },
  { key: 'compat', title: 'Compatible', width: 10, priority: 1 },
  { key: 'score', title: 'Score', width: 6, align: 'right', priority: 1 },
];

function cells(m: ModelVersionView): Record<string, Cell> {
  const mark = m.pinned ? 'pinned' : m.selected ? 'serving' : '';
  return {
    version: { text: m.version },
    mark: { text: mark, color: m.pinned ? 'magenta' : 'green' },
    mode: { text: m.trainingMode === 'multi_symbol' ? 'multi' : 'single' },
    symbols: { text: m.trainedSymbols.join(',') },
    end: { text: fmtDate(m.trainingEnd) },
    compat: m.compatible ? { text: m.complete ? 'yes' : 'incomplete', color: m.complete ? 'green' : 'yellow' } : { text: 'no', color: 'red' },
    score: { text: m.score ? fmtNum(m.score.total, 3) : '-' },
  };
}

/** Why a version is not the one serving, in words: rejected, or outscored (by how much). */
export function whyNotSelected(m: ModelVersionView, winner: ModelVersionView | undefined): string {
  if (m.selected) return m.pinned ? 'serving (pinned by the operator)' : 'serving (highest score)';
  if (m.pinned) return 'pinned';
  if (!m.compatible) return `rejected: ${m.rejectReason ?? 'incompatible'}`;
  if (!m.complete) return `rejected: incomplete (${m.problems.join('; ') || 'missing files'})`;
  if (!winner) return 'not selected';
  if (winner.pinned) return `lost to ${winner.version} (pinned)`;
  const a = m.score?.total ?? null;
  const b = winner.score?.total ?? null;
  return `lost to ${winner.version}: score ${fmtNum(a, 3)} < ${fmtNum(b, 3)}`;
}

export interface ModelsProps {
  width: number;
  height: number;
  active: boolean;
  selectedSymbol: string | null;
  report: Report;
}

export function Models({ width, height, active, selectedSymbol, report }: ModelsProps): React.ReactElement {
  const engine = useEngine();
  const snap = useEngineSnapshot();
  const models = snap.models;
  const [sel, setSel] = useState(0);
  useInputCommitProbe();
  const index = Math.min(sel, Math.max(0, models.length - 1));
  useModelsInput({ engine, models, index, setIndex: setSel, selectedSymbol, report, active });
  const cur = models[index];
  const winner = models.find((m) => m.selected);
  const detail: string[] = [];
  if (cur) {
    detail.push(`${cur.version}: ${whyNotSelected(cur, winner)}`);
    if (cur.score) {
      const s = cur.score;
      detail.push(`score = symbols ${fmtNum(s.symbols, 3)} + recency ${fmtNum(s.recency, 3)} + version ${fmtNum(s.version, 3)} = ${fmtNum(s.total, 3)}`);
    }
    for (const w of cur.warnings) detail.push(`warning: ${w}`);
    for (const p of cur.problems) detail.push(`problem: ${p}`);
  }
  const pinLine = `serving ${snap.selectedVersion ?? 'none'}${snap.pinnedVersion ? ` (pinned ${snap.pinnedVersion})` : ''}; retrain target: ${selectedSymbol ?? '-'}`;
  const detailRoom = Math.max(1, Math.min(detail.length, Math.floor(height / 3)));
  const maxRows = Math.max(1, height - 2 - detailRoom);
  return (
    <Box flexDirection="column" width={width}>
      <Table columns={COLUMNS} rows={models.map(cells)} width={width} selected={index} maxRows={maxRows} empty="no model versions found in models/" />
      <St dim>{pinLine}</St>
      {detail.slice(0, detailRoom).map((d, i) => (
        <St key={i}>{d}</St>
      ))}
    </Box>
  );
}

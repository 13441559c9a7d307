import React, { useState } from 'react';
import { Box } from 'ink';
import type { ModelVersionView, SymbolRow } from '../../src/engine-api.js';
import { useEngine, useEngineSnapshot } from '../hooks/use-engine.js';
import { useModelsInput } from '../hooks/use-models-input.js';
import { useInputCommitProbe } from '../hooks/use-routed-input.js';
import type { Report } from '../hooks/use-report.js';
import { Table, type Cell, type Column } from '../components/table.js';
import { St } from '../components/styled.js';
import { fit, fmtDate, fmtScore } from '../format.js';
import { edgeSummary } from '../../src/engine/edge-gate.js';

const COLUMNS: Column[] = [
  { key: 'version', title: 'Version', width: 8, priority: 0 },
  { key: 'mark', title: 'Use', width: 9, priority: 0 },
  { key: 'mode', title: 'Mode', width: 6, priority: 4 },
  { key: 'symbols', title: 'Symbols', width: 20, priority: 3, grow: 3 },
  { key: 'end', title: 'Trained to', width: 10, priority: 2 },
  { key: 'compat', title: 'Compatible', width: 10, priority: 1 },
  { key: 'score', title: 'Score', width: 8, align: 'right', priority: 1 },
  { key: 'why', title: 'Why', width: 12, priority: 5, grow: 2 },
];

function cells(m: ModelVersionView): Record<string, Cell> {
  const mark = m.pinned ? 'pinned' : m.servingSymbols.length ? `serves ${m.servingSymbols.length}` : m.selected ? 'selected' : '';
  return {
    version: { text: m.version },
    mark: { text: mark, color: m.pinned ? 'magenta' : 'green' },
    mode: { text: m.trainingMode === 'multi_symbol' ? 'multi' : 'single' },
    symbols: { text: m.trainedSymbols.join(',') },
    end: { text: fmtDate(m.trainingEnd) },
    compat: m.compatible ? { text: m.complete ? 'yes' : 'incomplete', color: m.complete ? 'green' : 'yellow' } : { text: 'no', color: 'red' },
    score: { text: m.score ? fmtScore(m.score.total) : '-' },
    why: { text: m.verdict.reason, color: m.verdict.kind === 'serving' ? 'green' : 'gray' },
  };
}

/** "BTC/USDT 1.1" per symbol: the version serving each one (symbols are served by different versions). */
export function servingLines(rows: readonly SymbolRow[], width: number): string[] {
  // A version that does not trade its symbol (no edge) says so: `SOL/USDT 1.0 (no edge>TA)`.
  const items = rows.map((r) => `${r.symbol} ${r.modelVersion ?? 'none'}${r.edge && r.edge.kind !== 'model' ? ` (${r.edge.label})` : ''}`);
  const cell = Math.max(...items.map((i) => i.length), 1) + 2;
  const perLine = Math.max(1, Math.floor((width - 9) / cell));
  const out: string[] = [];
  for (let i = 0; i < items.length; i += perLine) out.push(`${i === 0 ? 'Serving: ' : '         '}${items.slice(i, i + perLine).map((x) => x.padEnd(cell)).join('').trimEnd()}`);
  return out.length ? out : ['Serving: (no symbols yet)'];
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
  const detail: string[] = [];
  if (cur) {
    detail.push(`${cur.version}: ${cur.verdict.reason}`);
    for (const d of cur.dataSources) detail.push(`trained on ${d}`);
    // The edge gate on each symbol this version serves: does it trade, and the figures.
    for (const r of snap.symbols) if (r.edge && r.modelVersion === cur.version) detail.push(`${r.symbol}: ${r.edge.label} - ${edgeSummary(r.edge)}`);
    // A challenger of this version's symbols (or this version itself) running in shadow.
    for (const r of snap.symbols) if (r.shadow && (r.shadow.champion === cur.version || r.shadow.challenger === cur.version)) detail.push(`${r.symbol}: ${r.shadow.label}`);
    if (cur.score) {
      const s = cur.score;
      detail.push(`score = symbols ${fmtScore(s.symbols)} + recency ${fmtScore(s.recency)} + version ${fmtScore(s.version)} = ${fmtScore(s.total)}`);
    }
    for (const w of cur.warnings) detail.push(`warning: ${w}`);
    for (const p of cur.problems) detail.push(`problem: ${p}`);
  }
  const serving = servingLines(snap.symbols, width);
  const servingRoom = Math.max(1, Math.min(serving.length, Math.floor(height / 4)));
  const pinLine = `selection ${snap.selectedVersion ?? 'none'}${snap.pinnedVersion ? ` (pinned ${snap.pinnedVersion})` : ''}; retrain / roll back: ${selectedSymbol ?? '-'}`;
  const detailRoom = Math.max(1, Math.min(detail.length, Math.floor(height / 3)));
  const maxRows = Math.max(1, height - 2 - detailRoom - servingRoom);
  return (
    <Box flexDirection="column" width={width}>
      <Table columns={COLUMNS} rows={models.map(cells)} width={width} selected={index} maxRows={maxRows} empty="no model versions found in models/" />
      {serving.slice(0, servingRoom).map((l, i) => (
        <St key={`s${i}`} color="green">
          {fit(l, width)}
        </St>
      ))}
      <St dim>{fit(pinLine, width)}</St>
      {detail.slice(0, detailRoom).map((d, i) => (
        <St key={i}>{fit(d, width)}</St>
      ))}
    </Box>
  );
}

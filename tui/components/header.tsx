import React from 'react';
import type { EngineSnapshot } from '../../src/engine-api.js';
import { St } from './styled.js';
import { fit, fmtDuration, fmtPct, fmtSignedPct } from '../format.js';

/** One line: data source, backend, uptime, portfolio value and PnL, win rate, jobs running. */
export function headerText(s: EngineSnapshot, width = Infinity): string {
  const up = s.startedAt === null ? '-' : fmtDuration(s.now - s.startedAt);
  const status = s.status === 'running' ? '' : ` [${s.status}]`;
  // pnlPct is in percent (2.5 means +2.5%), fmtSignedPct takes a fraction.
  const pnl = fmtSignedPct(s.portfolio.pnlPct / 100);
  const full = [
    `kilo${status}`,
    `src ${s.dataSource}`,
    `backend ${s.backend}`,
    `up ${up}`,
    `equity ${s.portfolio.equity.toFixed(2)} (${pnl})`,
    `win ${fmtPct(s.overallWinRate)}`,
    `jobs ${s.jobsRunning}`,
  ].join(' | ');
  if (full.length <= width) return full;
  // Narrow terminals: the money, win rate and jobs matter more than labels and the source name.
  return [
    `kilo${status}`,
    `eq ${s.portfolio.equity.toFixed(2)} ${pnl}`,
    `win ${fmtPct(s.overallWinRate)}`,
    `jobs ${s.jobsRunning}`,
    `up ${up}`,
    s.backend,
    s.dataSource,
  ].join(' | ');
}

export function Header({ snapshot, width }: { snapshot: EngineSnapshot; width: number }): React.ReactElement {
  const pnlColor = snapshot.portfolio.pnl > 0 ? 'green' : snapshot.portfolio.pnl < 0 ? 'red' : undefined;
  return (
    <St bold color={pnlColor}>
      {fit(headerText(snapshot, width), width)}
    </St>
  );
}

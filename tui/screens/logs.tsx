import React, { useState } from 'react';
import { Box } from 'ink';
import type { LogEntry, LogLevel } from '../../src/engine-api.js';
import { useLogsInput } from '../hooks/use-logs-input.js';
import { useInputCommitProbe } from '../hooks/use-routed-input.js';
import { TextInput } from '../components/text-input.js';
import { St } from '../components/styled.js';

export const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const LEVEL_COLOR: Record<LogLevel, string> = { debug: 'gray', info: 'white', warn: 'yellow', error: 'red' };

/** Pure: entries at or above `min` whose text contains `search` (case-insensitive). */
export function filterLogs(entries: readonly LogEntry[], min: LogLevel, search: string): LogEntry[] {
  const floor = LEVELS.indexOf(min);
  const q = search.toLowerCase();
  return entries.filter(
    (e) => LEVELS.indexOf(e.level) >= floor && (!q || e.message.toLowerCase().includes(q) || (e.symbol ?? '').toLowerCase().includes(q)),
  );
}

export const nextLevel = (l: LogLevel): LogLevel => LEVELS[(LEVELS.indexOf(l) + 1) % LEVELS.length];

export interface LogsProps {
  entries: readonly LogEntry[];
  width: number;
  height: number;
  active: boolean;
  /** Tells the app that typed keys belong to the search box (global keys must not fire). */
  onCapture: (capturing: boolean) => void;
}

export function Logs({ entries, width, height, active, onCapture }: LogsProps): React.ReactElement {
  const [level, setLevel] = useState<LogLevel>('debug');
  const [search, setSearch] = useState('');
  const [draft, setDraft] = useState<string | null>(null);
  const editing = draft !== null;
  useInputCommitProbe();
  useLogsInput({
    cycleLevel: () => setLevel(nextLevel),
    startSearch: () => {
      setDraft(search);
      onCapture(true);
    },
    clearSearch: () => setSearch(''),
    active: active && !editing,
  });
  const shown = filterLogs(entries, level, search);
  const tail = shown.slice(-Math.max(1, height - 2));
  const time = (at: number) => new Date(at).toISOString().slice(11, 19);
  return (
    <Box flexDirection="column" width={width}>
      <St dim>{`level >= ${level}  search: ${search ? `"${search}"` : '(none)'}  ${shown.length}/${entries.length} lines  (l level, / search, Esc clear)`}</St>
      {tail.length === 0 ? <St dim>(no log lines match)</St> : null}
      {tail.map((e) => (
        <St key={e.seq} color={LEVEL_COLOR[e.level]}>
          {`${time(e.at)} ${e.level.toUpperCase().padEnd(5)} ${e.symbol && !e.message.includes(e.symbol) ? `${e.symbol} ` : ''}${e.message}`}
        </St>
      ))}
      {editing ? (
        <TextInput
          prompt="/"
          value={draft}
          onChange={setDraft}
          onSubmit={(v) => {
            setSearch(v.trim());
            setDraft(null);
            onCapture(false);
          }}
          onCancel={() => {
            setSearch('');
            setDraft(null);
            onCapture(false);
          }}
          active={active}
        />
      ) : null}
    </Box>
  );
}

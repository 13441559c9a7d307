import React from 'react';
import { Box } from 'ink';
import { bindingsFor, keyLabel, KEYMAP, type Binding, type Scope } from '../keymap.js';
import { COMMAND_HELP } from '../commands.js';
import { St } from './styled.js';
import { fit } from '../format.js';

const PANEL_SCOPES: Scope[] = ['heartbeat', 'models', 'queue', 'logs', 'portfolio', 'coverage'];
const TITLES: Record<Scope, string> = {
  global: 'Everywhere',
  heartbeat: '1 Heartbeat',
  models: '2 Models',
  queue: '3 Queue',
  logs: '4 Logs',
  portfolio: '5 Positions & trades',
  coverage: '6 Coverage',
  help: 'This help',
};

/**
 * Lines of the help overlay, generated from the keymap registry and the command list: global keys,
 * the current panel's, every `:` command on its own line, then the other panels'.
 */
export function helpLines(current: Scope, keymap: readonly Binding[] = KEYMAP): string[] {
  const order: Scope[] = ['global', current, ...PANEL_SCOPES.filter((s) => s !== current), 'help'];
  const lines: string[] = [];
  const section = (scope: Scope): void => {
    const bs = bindingsFor(scope, keymap);
    if (bs.length === 0) return;
    lines.push(`${TITLES[scope]}:`);
    for (const b of bs) lines.push(`  ${keyLabel(b.key).padEnd(7)} ${b.label}`);
  };
  section(order[0]);
  section(order[1]);
  lines.push('Commands (:):');
  for (const [cmd, what] of COMMAND_HELP) lines.push(`  ${cmd.padEnd(26)} ${what}`);
  for (const s of order.slice(2)) section(s);
  return lines;
}

export interface HelpOverlayProps {
  scope: Scope;
  width: number;
  height: number;
  /** First line shown (↑/↓ scroll when the help is longer than the screen). */
  offset?: number;
}

/** Visible window of the help: two columns when wide, scrolled by `offset`; returns how far it may scroll. */
export function helpLayout(lines: readonly string[], width: number, height: number): { twoCols: boolean; perCol: number; rows: number; maxOffset: number } {
  const rows = Math.max(1, height - 1);
  // Two columns only where whole lines fit in each; otherwise one column that scrolls.
  const longest = Math.max(0, ...lines.map((l) => l.length));
  const twoCols = lines.length > rows && width >= 2 * (longest + 2);
  const perCol = twoCols ? Math.ceil(lines.length / 2) : lines.length;
  return { twoCols, perCol, rows, maxOffset: Math.max(0, perCol - rows + 1) };
}

export function HelpOverlay({ scope, width, height, offset = 0 }: HelpOverlayProps): React.ReactElement {
  const lines = helpLines(scope);
  const { twoCols, perCol, rows, maxOffset } = helpLayout(lines, width, height);
  const off = Math.min(offset, maxOffset);
  const colW = twoCols ? Math.floor((width - 1) / 2) : width;
  // The last row tells that more is below (nothing is cut without saying so).
  const more = off < maxOffset;
  const take = more ? rows - 1 : rows;
  const left = lines.slice(0, perCol).slice(off, off + take);
  const right = twoCols ? lines.slice(perCol).slice(off, off + take) : [];
  return (
    <Box flexDirection="column" width={width}>
      <St bold>{fit(`Keys (? or Esc closes${maxOffset ? ', ↑↓ scroll' : ''})`, width)}</St>
      <Box>
        <Box flexDirection="column" width={colW}>
          {left.map((l, i) => (
            <St key={i}>{fit(l, colW - 1)}</St>
          ))}
        </Box>
        {twoCols ? (
          <Box flexDirection="column" width={colW}>
            {right.map((l, i) => (
              <St key={i}>{fit(l, colW - 1)}</St>
            ))}
          </Box>
        ) : null}
      </Box>
      {more ? <St dim>{fit(`↓ ${maxOffset - off} more line(s)`, width)}</St> : null}
    </Box>
  );
}

import React from 'react';
import { Box } from 'ink';
import { bindingsFor, keyLabel, KEYMAP, type Binding, type Scope } from '../keymap.js';
import { St } from './styled.js';
import { fit } from '../format.js';

const TITLES: Record<Scope, string> = { global: 'Everywhere', heartbeat: '1 Heartbeat', models: '2 Models', queue: '3 Queue', logs: '4 Logs' };

/** Lines of the help overlay, generated from the keymap registry (current panel first after global). */
export function helpLines(current: Scope, keymap: readonly Binding[] = KEYMAP): string[] {
  const order: Scope[] = ['global', current, ...(['heartbeat', 'models', 'queue', 'logs'] as Scope[]).filter((s) => s !== current)];
  const lines: string[] = [];
  for (const scope of order) {
    const bs = bindingsFor(scope, keymap);
    if (bs.length === 0) continue;
    lines.push(`${TITLES[scope]}:`);
    for (const b of bs) lines.push(`  ${keyLabel(b.key).padEnd(7)} ${b.label}`);
  }
  return lines;
}

export function HelpOverlay({ scope, width, height }: { scope: Scope; width: number; height: number }): React.ReactElement {
  const lines = helpLines(scope);
  // Two columns when the terminal is wide enough, so the whole keymap fits at 80x24 as well.
  const twoCols = lines.length > height - 1 && width >= 80;
  const colW = twoCols ? Math.floor((width - 1) / 2) : width;
  const perCol = twoCols ? Math.ceil(lines.length / 2) : lines.length;
  const left = lines.slice(0, perCol).slice(0, height - 1);
  const right = twoCols ? lines.slice(perCol).slice(0, height - 1) : [];
  return (
    <Box flexDirection="column" width={width}>
      <St bold>{fit('Keys (? or Esc closes)', width)}</St>
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
    </Box>
  );
}

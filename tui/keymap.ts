/**
 * The one keymap registry. Key handling (hooks/use-keymap-input.ts) and the `?` help overlay
 * are both generated from this list, so a binding cannot exist without being documented.
 */
import type { Key } from 'ink';

export type Scope = 'global' | 'heartbeat' | 'models' | 'queue' | 'logs' | 'portfolio' | 'coverage' | 'help';

export type CommandId =
  | 'panel.heartbeat'
  | 'panel.models'
  | 'panel.queue'
  | 'panel.logs'
  | 'panel.portfolio'
  | 'panel.coverage'
  | 'help.scrollUp'
  | 'help.scrollDown'
  | 'panel.next'
  | 'help.toggle'
  | 'overlay.close'
  | 'cmdline.open'
  | 'app.quit'
  | 'app.interrupt'
  | 'row.up'
  | 'row.down'
  | 'model.pin'
  | 'model.unpin'
  | 'symbol.retrain'
  | 'symbol.rollback'
  | 'job.trainNow'
  | 'job.cancel'
  | 'job.priorityUp'
  | 'job.priorityDown'
  | 'symbol.block'
  | 'symbol.unblock'
  | 'logs.level'
  | 'logs.search'
  | 'logs.clear';

export interface Binding {
  /** A printable character, or one of: up down enter esc tab ctrl+c. */
  key: string;
  label: string;
  scope: Scope;
  command: CommandId;
}

export const KEYMAP: readonly Binding[] = [
  { key: '1', label: 'heartbeat panel', scope: 'global', command: 'panel.heartbeat' },
  { key: '2', label: 'models panel', scope: 'global', command: 'panel.models' },
  { key: '3', label: 'queue panel', scope: 'global', command: 'panel.queue' },
  { key: '4', label: 'logs panel', scope: 'global', command: 'panel.logs' },
  { key: '5', label: 'positions & trades panel', scope: 'global', command: 'panel.portfolio' },
  { key: '6', label: 'coverage panel (symbols x versions)', scope: 'global', command: 'panel.coverage' },
  { key: 'tab', label: 'next panel', scope: 'global', command: 'panel.next' },
  { key: '?', label: 'toggle this help', scope: 'global', command: 'help.toggle' },
  { key: 'esc', label: 'close the help; dismiss a message', scope: 'global', command: 'overlay.close' },
  { key: ':', label: 'command line (commands below; Tab completes, ↑↓ history)', scope: 'global', command: 'cmdline.open' },
  { key: 'q', label: 'quit (stops the engine; attached: detach)', scope: 'global', command: 'app.quit' },
  { key: 'ctrl+c', label: 'quit; press twice to force', scope: 'global', command: 'app.interrupt' },
  { key: 'up', label: 'previous symbol', scope: 'heartbeat', command: 'row.up' },
  { key: 'down', label: 'next symbol', scope: 'heartbeat', command: 'row.down' },
  { key: 'up', label: 'previous version', scope: 'models', command: 'row.up' },
  { key: 'down', label: 'next version', scope: 'models', command: 'row.down' },
  { key: 'enter', label: 'pin the highlighted version', scope: 'models', command: 'model.pin' },
  { key: 'p', label: 'unpin (back to the selection score)', scope: 'models', command: 'model.unpin' },
  { key: 'r', label: 'retrain the selected symbol', scope: 'models', command: 'symbol.retrain' },
  { key: 'R', label: 'roll the selected symbol back to its previous version', scope: 'models', command: 'symbol.rollback' },
  { key: 'up', label: 'previous job', scope: 'queue', command: 'row.up' },
  { key: 'down', label: 'next job', scope: 'queue', command: 'row.down' },
  { key: 't', label: 'train the highlighted symbol now', scope: 'queue', command: 'job.trainNow' },
  { key: 'x', label: 'cancel the highlighted job', scope: 'queue', command: 'job.cancel' },
  { key: '+', label: 'raise priority', scope: 'queue', command: 'job.priorityUp' },
  { key: '-', label: 'lower priority', scope: 'queue', command: 'job.priorityDown' },
  { key: 'b', label: 'block the highlighted symbol', scope: 'queue', command: 'symbol.block' },
  { key: 'u', label: 'unblock the highlighted symbol', scope: 'queue', command: 'symbol.unblock' },
  { key: 'up', label: 'previous trade', scope: 'portfolio', command: 'row.up' },
  { key: 'down', label: 'next trade', scope: 'portfolio', command: 'row.down' },
  { key: 'up', label: 'previous symbol', scope: 'coverage', command: 'row.up' },
  { key: 'down', label: 'next symbol', scope: 'coverage', command: 'row.down' },
  { key: 'up', label: 'scroll up', scope: 'help', command: 'help.scrollUp' },
  { key: 'down', label: 'scroll down', scope: 'help', command: 'help.scrollDown' },
  { key: 'l', label: 'cycle level filter (debug/info/warn/error)', scope: 'logs', command: 'logs.level' },
  { key: '/', label: 'search (type, Enter applies, Esc clears)', scope: 'logs', command: 'logs.search' },
  { key: 'esc', label: 'clear the search', scope: 'logs', command: 'logs.clear' },
];

/** Does this keypress match a binding's key spec? */
export function matchesKey(spec: string, input: string, key: Key): boolean {
  switch (spec) {
    case 'up':
      return key.upArrow;
    case 'down':
      return key.downArrow;
    case 'enter':
      return key.return;
    case 'esc':
      return key.escape;
    case 'tab':
      return key.tab && !key.shift;
    case 'ctrl+c':
      return key.ctrl && input === 'c';
    default:
      return !key.ctrl && !key.meta && input === spec;
  }
}

/** The command bound to a keypress within a scope, if any. */
export function resolveKey(scope: Scope, input: string, key: Key, keymap: readonly Binding[] = KEYMAP): CommandId | null {
  const b = keymap.find((k) => k.scope === scope && matchesKey(k.key, input, key));
  return b ? b.command : null;
}

export const bindingsFor = (scope: Scope, keymap: readonly Binding[] = KEYMAP): Binding[] => keymap.filter((b) => b.scope === scope);

/** Display form of a key spec for the help overlay. */
export const keyLabel = (spec: string): string =>
  ({ up: '↑', down: '↓', enter: 'Enter', esc: 'Esc', tab: 'Tab', 'ctrl+c': 'Ctrl+C' })[spec] ?? spec;

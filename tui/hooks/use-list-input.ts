import { useKeymapInput } from './use-keymap-input.js';
import type { Scope } from '../keymap.js';

/** ↑/↓ move a highlight over `count` rows of a panel (portfolio, coverage). */
export function useListInput(scope: Exclude<Scope, 'global'>, count: number, setIndex: (update: (i: number) => number) => void, active: boolean): void {
  useKeymapInput(
    scope,
    {
      'row.up': () => setIndex((i) => Math.max(0, Math.min(i, count - 1) - 1)),
      'row.down': () => setIndex((i) => Math.max(0, Math.min(count - 1, i + 1))),
    },
    active,
  );
}

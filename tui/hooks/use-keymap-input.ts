import { resolveKey, type CommandId, type Scope } from '../keymap.js';
import { useRoutedInput } from './use-routed-input.js';

export type Handlers = Partial<Record<CommandId, () => void>>;

/**
 * Routes keypresses in `scope` to handlers through the keymap registry. Only listens while
 * `active` and when the terminal supports raw mode (Ink's useInput throws without a TTY).
 */
export function useKeymapInput(scope: Scope, handlers: Handlers, active: boolean): void {
  useRoutedInput((input, key) => {
    const cmd = resolveKey(scope, input, key);
    if (cmd) handlers[cmd]?.();
  }, active);
}

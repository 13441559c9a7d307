import React, { createContext, useContext, useLayoutEffect, useMemo, useRef } from 'react';
import { useInput, useStdin, type Key } from 'ink';

export type InputHandler = (input: string, key: Key) => void;

interface Entry {
  ref: { current: InputHandler };
}

/** The set of listening handlers; keys go to each, in the order they started listening. */
export class InputRegistry {
  private entries = new Set<Entry>();
  add(e: Entry): void {
    this.entries.add(e);
  }
  delete(e: Entry): void {
    this.entries.delete(e);
  }
  dispatch(input: string, key: Key): void {
    for (const e of [...this.entries]) e.ref.current(input, key);
  }
  get size(): number {
    return this.entries.size;
  }
}

const InputRouterContext = createContext<InputRegistry | null>(null);

/**
 * One Ink useInput for the whole console. Ink subscribes each useInput in a passive effect, which
 * runs some time after the frame is on screen, so a key typed right after a panel or prompt appears
 * (fast typists, tmux send-keys, tests) was lost. Handlers registered here subscribe in a layout
 * effect instead: synchronously in the commit that draws them, before the next key can be read.
 */
export function InputRouter({ children }: { children?: React.ReactNode }): React.ReactElement {
  const registry = useMemo(() => new InputRegistry(), []);
  const { isRawModeSupported } = useStdin();
  useInput((input, key) => registry.dispatch(input, key), { isActive: isRawModeSupported });
  return <InputRouterContext.Provider value={registry}>{children}</InputRouterContext.Provider>;
}

/** Like Ink's useInput({isActive}), routed through the nearest InputRouter when there is one. */
export function useRoutedInput(handler: InputHandler, active: boolean): void {
  const registry = useContext(InputRouterContext);
  const { isRawModeSupported } = useStdin();
  const ref = useRef(handler);
  useLayoutEffect(() => {
    ref.current = handler;
  });
  useLayoutEffect(() => {
    if (!registry || !active) return;
    const entry: Entry = { ref };
    registry.add(entry);
    return () => registry.delete(entry);
  }, [registry, active]);
  useInput((input, key) => ref.current(input, key), { isActive: !registry && active && isRawModeSupported });
}

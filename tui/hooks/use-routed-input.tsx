import React, { createContext, useContext, useLayoutEffect, useMemo, useRef } from 'react';
import { useInput, useStdin, type Key } from 'ink';

export type InputHandler = (input: string, key: Key) => void;

interface Entry {
  ref: { current: InputHandler };
}

/**
 * How long a key may wait for the previous key's re-render before it is delivered anyway. A key
 * whose screen commits is released at once; this bound only matters when nothing re-renders, and
 * on a loaded machine a render takes well over 30 ms (keys typed after `:` then reached the panel).
 */
const HOLD_MS = 150;

/**
 * The set of listening handlers; keys go to each, in the order they started listening.
 * React renders a key's state change asynchronously (its scheduler can yield for several ms), and a
 * key that arrives in between would go to the handlers of the old screen (e.g. the text typed right
 * after `:` would miss the command line). So after each key the registry holds further keys until
 * the screen owner commits (useInputCommitProbe) or HOLD_MS passes.
 */
export class InputRegistry {
  private entries = new Set<Entry>();
  private queue: [string, Key][] = [];
  private holding = false;
  private timer: NodeJS.Timeout | undefined;

  add(e: Entry): void {
    this.entries.add(e);
  }
  delete(e: Entry): void {
    this.entries.delete(e);
  }
  get size(): number {
    return this.entries.size;
  }

  dispatch(input: string, key: Key): void {
    for (const [i, k] of splitChunk(input, key)) {
      if (this.holding) this.queue.push([i, k]);
      else this.deliver(i, k);
    }
  }

  /** The screen has re-rendered: deliver the next waiting key, if any. */
  release(): void {
    this.holding = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const next = this.queue.shift();
    if (next) this.deliver(next[0], next[1]);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.queue = [];
  }

  private deliver(input: string, key: Key): void {
    this.holding = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.release(), HOLD_MS);
    this.timer.unref?.();
    for (const e of [...this.entries]) e.ref.current(input, key);
  }
}

const NO_KEY: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};

/**
 * Ink hands over a chunk of several plain keys as one input ("/started", "3t", "text\r") when they
 * arrive together (tmux send-keys, pastes, a busy event loop). Split such chunks into single keys so
 * each is matched on its own (and each waits for the screen the previous one opened). Escape
 * sequences are left whole.
 */
export function splitChunk(input: string, key: Key): [string, Key][] {
  if (input.length <= 1 || input.includes('\u001B') || key.ctrl || key.meta) return [[input, key]];
  return [...input].map((ch): [string, Key] => {
    if (ch === '\r' || ch === '\n') return ['', { ...NO_KEY, return: true }];
    if (ch === '\t') return ['', { ...NO_KEY, tab: true }];
    if (ch === '\u007F' || ch === '\b') return ['', { ...NO_KEY, backspace: true }];
    if (ch < ' ') return [String.fromCharCode(ch.charCodeAt(0) + 96), { ...NO_KEY, ctrl: true }];
    return [ch, { ...NO_KEY, shift: ch !== ch.toLowerCase() }];
  });
}

const InputRouterContext = createContext<InputRegistry | null>(null);

/**
 * One Ink useInput for the whole console. Ink subscribes each useInput in a passive effect, which
 * runs some time after the frame is on screen, so a key typed right after a panel or prompt appears
 * (fast typists, tmux send-keys, tests) was lost. Handlers registered here subscribe in a layout
 * effect instead: synchronously in the commit that draws them.
 */
export function InputRouter({ children }: { children?: React.ReactNode }): React.ReactElement {
  const registry = useMemo(() => new InputRegistry(), []);
  const { isRawModeSupported } = useStdin();
  useInput((input, key) => registry.dispatch(input, key), { isActive: isRawModeSupported });
  useLayoutEffect(() => () => registry.dispose(), [registry]);
  return <InputRouterContext.Provider value={registry}>{children}</InputRouterContext.Provider>;
}

/**
 * Called by the component that owns which handlers listen (the app, the wizard): each of its
 * commits lets the next held key through, after every child has (re)registered.
 */
export function useInputCommitProbe(): void {
  const registry = useContext(InputRouterContext);
  useLayoutEffect(() => {
    if (registry) queueMicrotask(() => registry.release());
  });
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

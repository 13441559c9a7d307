/** Shared helpers for console tests: render against a FakeEngine and wait for frames (no sleeps). */
import React from 'react';
import { render } from 'ink-testing-library';
import { Providers } from '../../tui/providers.js';
import { App, type AppProps } from '../../tui/app.js';
import type { FakeEngine } from '../helpers/fake-engine.js';

export const KEYS = { up: '\u001B[A', down: '\u001B[B', enter: '\r', esc: '\u001B', tab: '\t', ctrlC: '\u0003', backspace: '\u007F' };

export type Rendered = ReturnType<typeof render>;

/** Poll lastFrame() until it satisfies `pred` (string: contains), or fail with the last frame. The
 * deadline is generous: the full suite renders many consoles at once on 2 loaded cores. */
export async function waitForFrame(r: Rendered, pred: string | ((f: string) => boolean), timeoutMs = 15_000): Promise<string> {
  const test = typeof pred === 'string' ? (f: string) => f.includes(pred) : pred;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const f = r.lastFrame() ?? '';
    if (test(f)) return f;
    if (Date.now() > deadline) throw new Error(`frame never matched ${String(pred)}; last frame:\n${f}`);
    await new Promise((res) => setTimeout(res, 10));
  }
}

/** Poll any condition with a deadline. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 10));
  }
}

const turn = () => new Promise((res) => setImmediate(res));

/**
 * Write keys one at a time, yielding to the event loop between them (a yield, not a timed sleep).
 * Panels subscribe to keys in the commit that draws them (tui/hooks/use-routed-input.tsx), so no
 * waiting for effects is needed; the yield only lets Ink's stdin reader run.
 */
export async function press(r: Rendered, ...keys: string[]): Promise<void> {
  for (const k of keys) {
    r.stdin.write(k);
    await turn();
  }
}

export function renderApp(engine: FakeEngine, props: AppProps = {}, noColor = false): Rendered {
  return render(
    <Providers engine={engine} theme={{ noColor }}>
      <App {...props} />
    </Providers>,
  );
}

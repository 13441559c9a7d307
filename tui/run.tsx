/**
 * The interactive entry: one Ink instance that shows the setup wizard (when asked or when there is
 * no config.yaml) and then the console over one engine. The CLI commands call runInteractive;
 * exiting the process is left to them.
 */
import React, { useEffect, useState } from 'react';
import { render } from 'ink';
import type { EngineApi } from '../src/engine-api.js';
import { Providers } from './providers.js';
import { EngineContext } from './hooks/use-engine.js';
import { App, type ExitReason } from './app.js';
import { Wizard, type WizardDeps, type WizardResult } from './screens/wizard/wizard.js';
import { startLaterText } from './screens/wizard/start-later.js';
import { St } from './components/styled.js';
import { themeFromEnv, type Theme } from './theme.js';

export interface InteractiveOptions {
  home: string;
  /** Run the wizard first (kilo setup, or no config.yaml yet). */
  wizard: WizardDeps | null;
  /** Build and start the engine from the config on disk. */
  startEngine: () => Promise<EngineApi>;
  theme?: Theme;
}

export interface InteractiveOutcome {
  exitCode: number;
  /** Printed after the UI is gone (start-later instructions, cancellation note). */
  message: string | null;
  forced: boolean;
}

type Mode = { kind: 'wizard' } | { kind: 'starting' } | { kind: 'console'; engine: EngineApi } | { kind: 'failed'; message: string };

function Root({ opts, finish, live }: { opts: InteractiveOptions; finish: (o: InteractiveOutcome, engine: EngineApi | null) => void; live: { engine: EngineApi | null } }) {
  const [mode, setMode] = useState<Mode>(() => (opts.wizard ? { kind: 'wizard' } : { kind: 'starting' }));
  const [started] = useState(() => ({ current: false }));

  const boot = (existing: EngineApi | null) => {
    if (started.current) return;
    started.current = true;
    if (existing) {
      live.engine = existing;
      return setMode({ kind: 'console', engine: existing });
    }
    setMode({ kind: 'starting' });
    opts.startEngine().then(
      (engine) => {
        live.engine = engine;
        setMode({ kind: 'console', engine });
      },
      (err: unknown) => {
        const message = `the engine did not start: ${err instanceof Error ? err.message : String(err)}`;
        setMode({ kind: 'failed', message });
        finish({ exitCode: 1, message, forced: false }, null);
      },
    );
  };
  useEffect(() => {
    if (!opts.wizard) boot(null);
    // Once, at mount: without a wizard the console starts straight away.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const onWizard = (r: WizardResult) => {
    if (r.kind === 'start') return boot(r.engine);
    if (r.kind === 'later') return finish({ exitCode: 0, message: startLaterText(opts.home), forced: false }, r.engine);
    finish(
      { exitCode: 130, message: r.saved ? 'setup interrupted after config.yaml was written' : 'setup cancelled: nothing was written', forced: false },
      r.engine,
    );
  };
  const onExit = (why: ExitReason) => {
    const attached = live.engine?.attachedTo;
    const message = why === 'gone' ? `the engine (pid ${attached}) stopped; console closed` : attached && why === 'quit' ? `detached; the engine (pid ${attached}) keeps running (kilo attach to come back, kilo stop to stop it)` : null;
    finish({ exitCode: why === 'force' ? 130 : 0, message, forced: why === 'force' }, null);
  };

  switch (mode.kind) {
    case 'wizard':
      return <Wizard deps={opts.wizard!} onDone={onWizard} />;
    case 'starting':
      return <St>Starting the engine…</St>;
    case 'failed':
      return <St color="red">{mode.message}</St>;
    case 'console':
      return (
        <EngineContext.Provider value={mode.engine}>
          <App onExit={onExit} />
        </EngineContext.Provider>
      );
  }
}

export async function runInteractive(opts: InteractiveOptions): Promise<InteractiveOutcome> {
  let outcome: InteractiveOutcome = { exitCode: 0, message: null, forced: false };
  let leftover: EngineApi | null = null;
  let instance: ReturnType<typeof render> | null = null;
  const finish = (o: InteractiveOutcome, engine: EngineApi | null) => {
    outcome = o;
    leftover = engine;
    // Let the last frame render before unmounting.
    setImmediate(() => instance?.unmount());
  };
  const live: { engine: EngineApi | null } = { engine: null };
  // SIGTERM / SIGINT (systemd, kill) stop the engine cleanly like q does, exit 0; SIGHUP (the
  // terminal closed) as well, with 129 so a wrapper can tell the terminal went away.
  const onSignal = (sig: NodeJS.Signals) => {
    const engine = live.engine;
    live.engine = null;
    outcome = { exitCode: sig === 'SIGHUP' ? 129 : 0, message: null, forced: false };
    void (engine ? engine.stop() : Promise.resolve()).finally(() => instance?.unmount());
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', onSignal);
  instance = render(
    <Providers theme={opts.theme ?? themeFromEnv()}>
      <Root opts={opts} finish={finish} live={live} />
    </Providers>,
    { exitOnCtrlC: false },
  );
  try {
    await instance.waitUntilExit();
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    process.off('SIGHUP', onSignal);
  }
  const engine = leftover as EngineApi | null;
  // An engine started for the initial training but not kept for the console is stopped cleanly.
  if (engine && !outcome.forced) await engine.stop();
  return outcome;
}

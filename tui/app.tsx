import React, { useCallback, useEffect, useRef, useState } from 'react';
import { Box, useApp } from 'ink';
import type { CommandResult } from '../src/engine-api.js';
import { useEngine, useEngineSnapshot } from './hooks/use-engine.js';
import { useKeymapInput } from './hooks/use-keymap-input.js';
import { useInputCommitProbe } from './hooks/use-routed-input.js';
import { useLogBuffer } from './hooks/use-log-buffer.js';
import { useRunCommand } from './hooks/use-report.js';
import { useTerminalSize, type TerminalSize } from './hooks/use-terminal-size.js';
import { Header } from './components/header.js';
import { HelpOverlay, helpLayout, helpLines } from './components/help-overlay.js';
import { CommandLine } from './components/command-line.js';
import { ErrorBoundary } from './components/error-boundary.js';
import { St } from './components/styled.js';
import { Heartbeat } from './screens/heartbeat.js';
import { Models } from './screens/models.js';
import { Queue } from './screens/queue.js';
import { Logs } from './screens/logs.js';
import { Portfolio } from './screens/portfolio.js';
import { Coverage } from './screens/coverage.js';
import { CommandLineError, commandCandidates, parseCommandLine, runCommand } from './commands.js';
import { fit } from './format.js';
import type { Scope } from './keymap.js';

export const PANELS: readonly { scope: Exclude<Scope, 'global' | 'help'>; title: string }[] = [
  { scope: 'heartbeat', title: 'Heartbeat' },
  { scope: 'models', title: 'Models' },
  { scope: 'queue', title: 'Queue' },
  { scope: 'logs', title: 'Logs' },
  { scope: 'portfolio', title: 'Trades' },
  { scope: 'coverage', title: 'Coverage' },
];

/** quit: q / Ctrl+C (an attached console detaches); force: a second Ctrl+C; gone: the engine stopped under us. */
/** The panel tabs and the main keys, shortened (other tabs to their number) until the line fits. */
export function tabLine(panel: number, width: number): string {
  const tab = (i: number, short: boolean): string => (i === panel ? `[${i + 1} ${PANELS[i].title}]` : short ? ` ${i + 1} ` : ` ${i + 1} ${PANELS[i].title} `);
  const full = `${PANELS.map((_, i) => tab(i, false)).join(' ')}  ? help  : cmd  q quit`;
  if (full.length <= width) return full;
  const noKeys = PANELS.map((_, i) => tab(i, false)).join(' ');
  if (noKeys.length <= width) return noKeys;
  return `${PANELS.map((_, i) => tab(i, true)).join('')}  ? help`;
}

export type ExitReason = 'quit' | 'force' | 'gone';

export interface AppProps {
  /** Called once the app is about to exit: after engine.stop() for 'quit', at once for 'force'. */
  onExit?: (reason: ExitReason) => void;
  /** Fixed size (tests); otherwise the terminal's, following resizes. */
  size?: TerminalSize;
  /** Test hook: replaces a panel's body, e.g. with one that throws. */
  panelOverride?: Partial<Record<Scope, React.ReactNode>>;
}

/** Layout and panel switching only; each panel owns its selectors and keys. */
export function App({ onExit, size, panelOverride }: AppProps): React.ReactElement {
  const engine = useEngine();
  const snap = useEngineSnapshot();
  const { exit } = useApp();
  const { columns, rows } = useTerminalSize(size);
  const [panel, setPanel] = useState(0);
  const [help, setHelp] = useState(false);
  const [helpOffset, setHelpOffset] = useState(0);
  const [cmdOpen, setCmdOpen] = useState(false);
  const [capturing, setCapturing] = useState(false);
  const [status, setStatus] = useState<CommandResult | null>(null);
  const [hbIndex, setHbIndex] = useState(0);
  const interrupts = useRef(0);
  const [quitting, setQuitting] = useState(false);
  const logs = useLogBuffer(engine, snap.logs);
  const report = useCallback((r: CommandResult) => setStatus(r), []);
  const run = useRunCommand(report);
  const selectedSymbol = snap.symbols[Math.min(hbIndex, snap.symbols.length - 1)]?.symbol ?? null;
  const scope = PANELS[panel].scope;
  useInputCommitProbe();

  const quit = useCallback(() => {
    if (quitting) return;
    setQuitting(true);
    // An attached console only detaches: the engine in the other process keeps trading.
    setStatus({ ok: true, message: engine.attachedTo ? `detaching; the engine (pid ${engine.attachedTo}) keeps running…` : 'stopping the engine… (Ctrl+C again forces)' });
    engine
      .stop()
      .catch((err: unknown) => setStatus({ ok: false, message: `stop failed: ${err instanceof Error ? err.message : String(err)}` }))
      .finally(() => {
        onExit?.('quit');
        exit();
      });
  }, [engine, exit, onExit, quitting]);

  // `stop` through the control API: this console hosts the engine, so it quits as q would.
  useEffect(() => engine.on('stopRequest', () => quit()), [engine, quit]);
  // An attached console whose engine went away has nothing left to show.
  useEffect(() => {
    if (engine.attachedTo && snap.status === 'stopped' && !quitting) {
      setQuitting(true);
      onExit?.('gone');
      exit();
    }
  }, [engine, snap.status, quitting, onExit, exit]);

  useKeymapInput(
    'global',
    {
      'panel.heartbeat': () => setPanel(0),
      'panel.models': () => setPanel(1),
      'panel.queue': () => setPanel(2),
      'panel.logs': () => setPanel(3),
      'panel.portfolio': () => setPanel(4),
      'panel.coverage': () => setPanel(5),
      'panel.next': () => setPanel((p) => (p + 1) % PANELS.length),
      'help.toggle': () => {
        setHelpOffset(0);
        setHelp((h) => !h);
      },
      // Esc closes the help, else dismisses the message on the status line.
      'overlay.close': () => (help ? setHelp(false) : setStatus(null)),
      'cmdline.open': () => setCmdOpen(true),
      'app.quit': quit,
      'app.interrupt': () => {
        interrupts.current += 1;
        if (interrupts.current >= 2) {
          onExit?.('force');
          exit();
          return;
        }
        quit();
      },
    },
    !cmdOpen && !capturing,
  );

  // Commands entered this session, oldest first: ↑/↓ on the command line walk them.
  const cmdHistory = useRef<string[]>([]);
  const candidates = useCallback(
    (index: number, words: readonly string[]) =>
      commandCandidates(index, words, {
        symbols: snap.symbols.map((r) => r.symbol),
        jobs: snap.jobs.filter((j) => j.state === 'queued' || j.state === 'running'),
        versions: snap.models.map((m) => m.version),
      }),
    [snap.symbols, snap.jobs, snap.models],
  );

  const submitCommand = (text: string) => {
    setCmdOpen(false);
    const entered = text.trim();
    if (entered && cmdHistory.current.at(-1) !== entered) cmdHistory.current = [...cmdHistory.current.slice(-99), entered];
    try {
      const cmd = parseCommandLine(text, { selectedSymbol, selectedJobId: null });
      if (cmd.kind === 'quit') return quit();
      if (cmd.kind === 'help') return setHelp(true);
      if (cmd.kind === 'stop') {
        if (!engine.stopEngine) return quit();
        return run(() => engine.stopEngine!(cmd.reason));
      }
      run(() => runCommand(engine, cmd));
    } catch (err) {
      if (err instanceof CommandLineError) setStatus({ ok: false, message: err.message });
      else throw err;
    }
  };

  // One line short of the terminal: Ink clears the whole screen on every frame that fills it.
  const bodyHeight = Math.max(3, rows - 4);
  const helpMax = helpLayout(helpLines(scope), columns, bodyHeight).maxOffset;
  useKeymapInput(
    'help',
    {
      'help.scrollUp': () => setHelpOffset((o) => Math.max(0, Math.min(o, helpMax) - 1)),
      'help.scrollDown': () => setHelpOffset((o) => Math.min(helpMax, o + 1)),
    },
    help && !cmdOpen,
  );
  const active = !help && !cmdOpen && !quitting;
  const tabs = tabLine(panel, columns);
  const body = (() => {
    if (help) return <HelpOverlay scope={scope} width={columns} height={bodyHeight} offset={helpOffset} />;
    const override = panelOverride?.[scope];
    if (override !== undefined) return override;
    switch (scope) {
      case 'heartbeat':
        return <Heartbeat width={columns} height={bodyHeight} active={active} selected={hbIndex} onSelect={setHbIndex} />;
      case 'models':
        return <Models width={columns} height={bodyHeight} active={active} selectedSymbol={selectedSymbol} report={report} />;
      case 'queue':
        return <Queue width={columns} height={bodyHeight} active={active} selectedSymbol={selectedSymbol} report={report} />;
      case 'logs':
        return <Logs entries={logs} width={columns} height={bodyHeight} active={active} onCapture={setCapturing} />;
      case 'portfolio':
        return <Portfolio width={columns} height={bodyHeight} active={active} />;
      case 'coverage':
        return <Coverage width={columns} height={bodyHeight} active={active} />;
    }
  })();

  return (
    <Box flexDirection="column" width={columns}>
      <Header snapshot={snap} width={columns} />
      <St color="cyan">{fit(tabs, columns)}</St>
      <Box flexDirection="column" height={bodyHeight} overflow="hidden">
        <ErrorBoundary key={scope} name={PANELS[panel].title}>
          {body}
        </ErrorBoundary>
      </Box>
      {cmdOpen ? (
        <CommandLine onSubmit={submitCommand} onCancel={() => setCmdOpen(false)} active={cmdOpen} history={cmdHistory.current} candidates={candidates} />
      ) : (
        <St color={status && !status.ok ? 'red' : 'gray'}>{fit(status ? `${status.ok ? '' : 'error: '}${status.message}` : `selected ${selectedSymbol ?? '-'}`, columns)}</St>
      )}
    </Box>
  );
}

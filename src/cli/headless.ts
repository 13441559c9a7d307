/**
 * `kilo run --headless`: the engine with no terminal UI. Text mode prints log lines (heartbeats
 * included); --json prints one JSON object per line for every engine event. It ends cleanly, with
 * exit 0, state flushed and the home lock released, on SIGINT or SIGTERM (a second signal forces
 * exit 130), after --iterations rounds, and when its stdout is closed (`| head -1`: EPIPE).
 */
import type { Config } from '../config/schema.js';
import { createEngine } from '../engine.js';
import { formatHeartbeatLine } from '../log/heartbeat.js';
import { guardProcess } from './process-guard.js';
import { toJsonText } from './json.js';

export interface HeadlessOptions {
  home: string;
  configPath: string;
  config: Config;
  note: string | null;
  iterations?: number;
  json: boolean;
  intervalS?: number;
  finishJobs: boolean;
}

export async function runHeadless(o: HeadlessOptions): Promise<void> {
  // Set when stdout's reader went away: nothing more is written there, and the engine stops.
  let stdoutGone = false;
  const write = (text: string): void => {
    if (!stdoutGone) process.stdout.write(text);
  };
  // JSON lines in the one convention (snake_case keys, src/cli/json.ts).
  const out = (obj: unknown): void => write(toJsonText(obj));
  let stopRequested: ((why: string) => void) | null = null;
  const guard = guardProcess({
    onStdoutClosed: () => {
      stdoutGone = true;
      process.stderr.write('kilo: stdout closed; stopping the engine\n');
      stopRequested?.('stdout closed');
    },
  });
  try {
    const engine = await createEngine({
      home: o.home,
      config: o.config,
      configPath: o.configPath,
      roundIntervalMs: o.intervalS === undefined ? undefined : o.intervalS * 1000,
      onLogLine: o.json ? undefined : (line) => write(`${line}\n`),
    });
    if (o.note) engine.logger.warn(o.note);
    if (o.json) {
      // Lines logged while the engine was built (state recovered from .bak, requeued jobs) came before this listener.
      for (const e of engine.logger.entries()) out({ type: 'log', ...e });
      engine.on('heartbeat', (e) => out({ type: 'heartbeat', ...e }));
      engine.on('signal', (e) => out({ type: 'signal', ...e }));
      engine.on('trade', (e) => out({ type: 'trade', ...e }));
      engine.on('promotion', (e) => out({ type: 'promotion', ...e }));
      engine.on('log', (e) => out({ type: 'log', ...e }));
      engine.on('job', (e) => out({ type: 'job', id: e.id, symbol: e.symbol, state: e.state, progress: e.progress }));
    }

    let stopping: Promise<void> | null = null;
    let finished!: () => void;
    const done = new Promise<void>((resolve) => (finished = resolve));
    const finish = (): void => {
      const snap = engine.getSnapshot();
      const overall = engine.outcomes.overall();
      const summary = {
        type: 'summary',
        rounds: snap.round,
        signals: overall.signals,
        winRate: overall.winRate,
        equity: snap.portfolio.equity,
        pnl: snap.portfolio.pnl,
        pnlPct: snap.portfolio.pnlPct,
        symbols: snap.symbols.map((s) => ({ symbol: s.symbol, state: s.state, modelVersion: s.modelVersion, signals: s.signals, winRate: s.winRate })),
      };
      if (o.json) out(summary);
      else {
        write(
          `${formatHeartbeatLine({ at: engine.marketNow(), symbols: snap.symbols, portfolio: snap.portfolio })}\n` +
            `summary: ${summary.rounds} rounds, ${summary.signals} scored signals, win rate ${summary.winRate === null ? 'n/a' : `${(summary.winRate * 100).toFixed(1)}%`}, equity ${summary.equity.toFixed(2)} (${summary.pnlPct >= 0 ? '+' : ''}${summary.pnlPct.toFixed(2)}%)\n`,
        );
      }
      finished();
    };
    const stop = (why: string): Promise<void> => {
      if (!stopping) {
        engine.logger.info(`stopping (${why})`);
        stopping = engine.stop({ finishJobs: o.finishJobs }).then(finish, (err: unknown) => {
          process.stderr.write(`kilo: stop failed: ${err instanceof Error ? err.message : String(err)}\n`);
          process.exitCode = 1;
          finished();
        });
      }
      return stopping;
    };
    stopRequested = (why) => void stop(why);
    // The control API's `stop` (kilo stop, :stop in an attached console) ends the process like a signal.
    engine.on('stopRequest', (why) => void stop(why));
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals): void => {
      signals++;
      if (signals > 1) {
        process.stderr.write(`kilo: ${sig} again: forcing exit\n`);
        process.exit(130);
      }
      void stop(sig);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // Node exits 13, silently, when the event loop drains while `done` still waits: a stop step
    // whose promise can never settle. Name the step instead (exit 1) so the hang can be found.
    const onBeforeExit = (): void => {
      if (!stopping) return;
      process.stderr.write(`kilo: the engine's stop never finished (stuck ${engine.stopStage() ?? 'after its last step'}); exiting\n`);
      process.exit(1);
    };
    process.on('beforeExit', onBeforeExit);
    try {
      if (o.iterations === undefined) {
        // Runs until a signal or a closed stdout stops it; `done` settles once state is flushed.
        await engine.start();
      } else {
        // Bounded run: rounds back to back (or paced with --interval), then a clean stop.
        await engine.start({ loop: false });
        for (let i = 0; i < o.iterations && !stopping; i++) {
          await engine.runRound();
          if (o.intervalS && !stopping) await new Promise((r) => setTimeout(r, o.intervalS! * 1000));
        }
        void stop(`${o.iterations} iterations done`);
      }
      await done;
    } finally {
      process.off('beforeExit', onBeforeExit);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  } finally {
    guard.dispose();
  }
}

/**
 * `kilo run --headless`: the engine with no terminal UI. Text mode prints log lines (heartbeats
 * included); --json prints one JSON object per line for every engine event. SIGINT/SIGTERM stop
 * the engine cleanly; a second signal forces the exit.
 */
import type { Config } from '../config/schema.js';
import { createEngine } from '../engine.js';
import { formatHeartbeatLine } from '../log/heartbeat.js';

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
  const out = (obj: unknown): void => {
    process.stdout.write(`${JSON.stringify(obj)}\n`);
  };
  const engine = await createEngine({
    home: o.home,
    config: o.config,
    configPath: o.configPath,
    roundIntervalMs: o.intervalS === undefined ? undefined : o.intervalS * 1000,
    onLogLine: o.json ? undefined : (line) => process.stdout.write(`${line}\n`),
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
  const stop = (why: string): Promise<void> => {
    if (!stopping) {
      engine.logger.info(`stopping (${why})`);
      stopping = engine.stop({ finishJobs: o.finishJobs });
    }
    return stopping;
  };
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`kilo: ${sig} again: forcing exit\n`);
      process.exit(130);
    }
    void stop(sig).then(() => finish());
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const finish = (): void => {
    const snap = engine.getSnapshot();
    const summary = {
      type: 'summary',
      rounds: snap.round,
      signals: engine.outcomes.overall().signals,
      winRate: engine.outcomes.overall().winRate,
      equity: snap.portfolio.equity,
      pnl: snap.portfolio.pnl,
      pnlPct: snap.portfolio.pnlPct,
      symbols: snap.symbols.map((s) => ({ symbol: s.symbol, state: s.state, modelVersion: s.modelVersion, signals: s.signals, winRate: s.winRate })),
    };
    if (o.json) out(summary);
    else {
      process.stdout.write(
        `${formatHeartbeatLine({ at: engine.marketNow(), symbols: snap.symbols, portfolio: snap.portfolio })}\n` +
          `summary: ${summary.rounds} rounds, ${summary.signals} scored signals, win rate ${summary.winRate === null ? 'n/a' : `${(summary.winRate * 100).toFixed(1)}%`}, equity ${summary.equity.toFixed(2)} (${summary.pnlPct >= 0 ? '+' : ''}${summary.pnlPct.toFixed(2)}%)\n`,
      );
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };

  if (o.iterations === undefined) {
    await engine.start();
    await new Promise<void>(() => undefined); // runs until a signal stops it (onSignal finishes)
    return;
  }
  // Bounded run: rounds back to back (or paced with --interval), then a clean stop.
  await engine.start({ loop: false });
  for (let i = 0; i < o.iterations && !stopping; i++) {
    await engine.runRound();
    if (o.intervalS) await new Promise((r) => setTimeout(r, o.intervalS! * 1000));
  }
  if (!stopping) {
    await stop(`${o.iterations} iterations done`);
    finish();
  } else await stopping;
}

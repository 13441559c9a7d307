import type { Command } from 'commander';
import { globalOptions } from '../context.js';
import { CliError } from '../errors.js';
import { loadConfigOrDefaults, positiveInt } from '../load-config.js';

interface RunOpts {
  headless?: boolean;
  iterations?: string;
  json?: boolean;
  interval?: string;
  finishJobs?: boolean;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the engine (paper trading); --headless runs it without the console')
    .option('--headless', 'no terminal UI: print heartbeats and log lines')
    .option('--iterations <n>', 'stop after N rounds (one round = one new candle per symbol)')
    .option('--json', 'with --headless: JSON lines (heartbeat, signal, trade, job, promotion, log, summary)')
    .option('--interval <seconds>', 'seconds between rounds on the simulator / CSV replay (default data.round_interval_s)')
    .option('--finish-jobs', 'at stop, let running trainings finish instead of cancelling them')
    .addHelpText(
      'after',
      '\nSIGINT/SIGTERM stop cleanly (exit 0): running trainings are cancelled (or finished with --finish-jobs), state is flushed, the home lock released.\nA closed stdout (`| head`) stops it the same way. Real orders are never placed: kilo paper trades.',
    )
    .action(async (opts: RunOpts, cmd: Command) => {
      const { home, configPath } = globalOptions(cmd);
      if (!opts.headless) {
        const { runConsoleCommand } = await import('./console.js');
        return runConsoleCommand(cmd);
      }
      const iterations = positiveInt('--iterations', opts.iterations);
      const interval = opts.interval === undefined ? undefined : Number(opts.interval);
      if (interval !== undefined && !(interval >= 0)) throw new CliError(`--interval: expected seconds >= 0, got "${opts.interval}"`, 2);
      const { config, note } = await loadConfigOrDefaults(configPath);
      const { runHeadless } = await import('../headless.js');
      await runHeadless({ home, configPath, config, note, iterations, json: Boolean(opts.json), intervalS: interval, finishJobs: Boolean(opts.finishJobs) });
    });
}

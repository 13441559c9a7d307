/**
 * `kilo` command line. Every console action exists here as a subcommand over the same engine.
 * Command modules register their options synchronously and import heavy code (tfjs, ccxt)
 * lazily inside their actions so `kilo --help` stays fast.
 */
import { Command } from 'commander';
import { registerConsole } from './commands/console.js';
import { registerRun } from './commands/run.js';
import { registerReplay } from './commands/replay.js';
import { registerTrain } from './commands/train.js';
import { registerEval } from './commands/eval.js';
import { registerModels } from './commands/models.js';
import { registerCoverage } from './commands/coverage.js';
import { registerQueue } from './commands/queue.js';
import { registerData } from './commands/data.js';
import { registerSetup } from './commands/setup.js';
import { registerDoctor } from './commands/doctor.js';
import { registerSignal } from './commands/signal.js';
import { registerWorker } from './commands/worker.js';
import { CliError } from './errors.js';

const program = new Command();
program
  .name('kilo')
  .description('Operator console for an ML-driven crypto trading bot (paper trading unless explicitly enabled).')
  .option('-c, --config <file>', 'config file', 'config.yaml')
  .option('--home <dir>', 'folder holding config.yaml, models/ and data/', process.cwd())
  .showHelpAfterError();

registerConsole(program);
registerRun(program);
registerReplay(program);
registerTrain(program);
registerEval(program);
registerModels(program);
registerCoverage(program);
registerQueue(program);
registerData(program);
registerSetup(program);
registerSignal(program);
registerDoctor(program);
registerWorker(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CliError) {
    process.stderr.write(`kilo: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else {
    const e = err instanceof Error ? err : new Error(String(err));
    process.stderr.write(`kilo: ${e.message}\n`);
    if (process.env.KILO_DEBUG) process.stderr.write(`${e.stack}\n`);
    process.exitCode = 1;
  }
}

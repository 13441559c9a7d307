/**
 * `kilo` command line. Every console action exists here as a subcommand over the same engine.
 * Command modules register their options synchronously and import heavy code (tfjs, ccxt)
 * lazily inside their actions so `kilo --help` stays fast.
 *
 * Exit codes (README "Exit codes"): 0 done / stopped cleanly; 1 the operation failed; 2 bad
 * input (arguments, config.yaml, no terminal); 3 `kilo signal` answered with an error; 4 another
 * engine runs on this home; 130 interrupted (a second Ctrl+C or signal).
 */
import { Command, CommanderError } from 'commander';
import { registerAttach, registerConsole } from './commands/console.js';
import { registerStatus } from './commands/status.js';
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
import { registerHistory } from './commands/history.js';
import { registerWorker } from './commands/worker.js';
import { registerEdge } from './commands/edge.js';
import { CliError } from './errors.js';
import { jsonError, wantsJson } from './json.js';
import { setOffline } from './load-config.js';
import { packageVersion } from '../util/package-version.js';

// `kilo --version` / `-V` (beside --home / -c / --offline at most). Not commander's .version(): a program
// option is recognised after the subcommand too, and would swallow `kilo train --version 1.2`.
function versionAsked(argv: readonly string[]): boolean {
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--home' || argv[i] === '-c' || argv[i] === '--config') i++;
    else if (!argv[i].startsWith('--home=') && !argv[i].startsWith('--config=') && argv[i] !== '--offline') rest.push(argv[i]);
  }
  return rest.length === 1 && (rest[0] === '--version' || rest[0] === '-V');
}
if (versionAsked(process.argv.slice(2))) {
  process.stdout.write(`${packageVersion()}\n`);
  process.exit(0);
}

// Under --json an error is JSON on stdout (README "JSON output"); commander's own usage errors
// are collected instead of printed, and become that JSON below.
const json = wantsJson(process.argv.slice(2));
let usageText = '';
const program = new Command();
program
  .name('kilo')
  .description('Operator console for an ML-driven crypto trading bot (paper trading unless explicitly enabled).\n`kilo --version` prints the version.')
  .option('-c, --config <file>', 'config file', 'config.yaml')
  .option('--home <dir>', 'folder holding config.yaml, models/ and data/', process.cwd())
  .option('--offline', 'use the simulator whatever data.source says (no network; said on every surface)')
  // Subcommand help lists these too: every subcommand takes them.
  .configureHelp({ showGlobalOptions: true })
  .showHelpAfterError('(add --help for usage)')
  .showSuggestionAfterError()
  .exitOverride();
if (json) {
  program.configureOutput({
    writeErr: (text) => {
      usageText += text;
      process.stderr.write(text);
    },
  });
}

program.hook('preAction', (root) => setOffline(Boolean(root.opts<{ offline?: boolean }>().offline)));

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
registerHistory(program);
registerWorker(program);
registerEdge(program);
registerStatus(program);
registerAttach(program);
// Only the root takes words it does not know, so `kilo trian` reaches the console action, which
// answers with commander's unknown-command error and its "did you mean" instead of "too many arguments".
program.allowExcessArguments(true);

function fail(message: string, code: number, stack?: string): void {
  process.exitCode = code;
  // Under --json the error is JSON on stdout for the script, and the line on stderr for the person.
  if (json) process.stdout.write(jsonError(message, code));
  process.stderr.write(`kilo: ${message}\n`);
  if (stack) process.stderr.write(`${stack}\n`);
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander printed its message (help, version, or the usage error with a suggestion); under
    // --json it was collected and is printed as JSON instead.
    process.exitCode = err.exitCode === 0 ? 0 : 2;
    if (json && err.exitCode !== 0) {
      const text = (usageText || err.message).trim().split('\n').filter((l) => !l.startsWith('(add --help')).join(' ');
      process.stdout.write(jsonError(text.replace(/^error: /, ''), 2));
    }
  } else if (err instanceof CliError) {
    fail(err.message, err.exitCode);
  } else if (err instanceof Error && err.name === 'EngineRunningError') {
    fail(err.message, 4);
  } else {
    const e = err instanceof Error ? err : new Error(String(err));
    fail(e.message, 1, process.env.KILO_DEBUG ? e.stack : undefined);
  }
}

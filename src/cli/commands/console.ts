/**
 * `kilo` with no subcommand (and `kilo run` without --headless): the Ink console. With no
 * config.yaml the setup wizard runs first. The UI lives in tui/ and is imported lazily so the
 * engine side never loads ink or react.
 */
import { access } from 'node:fs/promises';
import type { Command } from 'commander';
import { globalOptions } from '../context.js';
import { CliError } from '../errors.js';

export class NoTerminalError extends CliError {
  constructor() {
    super('the console needs an interactive terminal (stdin and stdout must be a TTY); run `kilo run --headless` instead', 2);
    this.name = 'NoTerminalError';
  }
}

export function assertTerminal(): void {
  if (!process.stdin.isTTY || !process.stdout.isTTY) throw new NoTerminalError();
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** The pid of the engine running on `home`, or null. */
async function runningEngine(home: string): Promise<number | null> {
  const { readEngineLock } = await import('../../engine/home-lock.js');
  const lock = await readEngineLock(home);
  return lock?.owner && lock.state === 'alive' ? lock.owner.pid : null;
}

async function askYes(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const a = (await rl.question(question)).trim().toLowerCase();
    return a === '' || a === 'y' || a === 'yes';
  } finally {
    rl.close();
  }
}

/** `kilo attach`: the console over the engine running on this home; q detaches and it keeps trading. */
export async function attachConsole(cmd: Command): Promise<void> {
  const { home } = globalOptions(cmd);
  assertTerminal();
  const { connectRemote } = await import('../../api/client.js');
  const remote = await connectRemote(home).catch((err: Error) => {
    throw new CliError(`no engine to attach to on ${home}: ${err.message} (start one with kilo, or kilo run --headless)`, 1);
  });
  const { runInteractive } = await import('../../../tui/run.js');
  const outcome = await runInteractive({ home, wizard: null, startEngine: async () => remote });
  if (outcome.message) process.stdout.write(`${outcome.message}\n`);
  if (outcome.forced) process.exit(130);
  process.exitCode = outcome.exitCode;
}

/** Shared by `kilo`, `kilo run` and `kilo setup`: optional wizard, then the console. */
export async function runInteractiveCommand(cmd: Command, opts: { forceWizard: boolean }): Promise<void> {
  const { home, configPath } = globalOptions(cmd);
  const { loadConfigOrDefaults } = await import('../load-config.js');
  const wizard = opts.forceWizard || !(await exists(configPath));
  // Validate an existing config first: a bad file is an error naming key and line, before any UI.
  // `kilo setup` keeps the operator's own keys it does not know: warned about, left in the file.
  const load = async () => {
    if (!opts.forceWizard || !(await exists(configPath))) return (await loadConfigOrDefaults(configPath)).config;
    const { loadConfigKeepingUnknown } = await import('../../config/edit.js');
    const { ConfigError } = await import('../../config/errors.js');
    try {
      const r = await loadConfigKeepingUnknown(configPath);
      for (const w of r.warnings) process.stderr.write(`kilo: warning: ${w}\n`);
      const { applyOffline } = await import('../load-config.js');
      applyOffline(r.config);
      return r.config;
    } catch (err) {
      if (err instanceof ConfigError) throw new CliError(err.message, 2);
      throw err;
    }
  };
  const base = await load();
  assertTerminal();
  // One engine per home: when it already runs (headless, another console), offer its console instead.
  const pid = opts.forceWizard ? null : await runningEngine(home);
  if (pid !== null) {
    if (await askYes(`An engine (pid ${pid}) is already running on ${home}. Attach to it? [Y/n] `)) return attachConsole(cmd);
    throw new CliError(`not attached; the engine (pid ${pid}) keeps running (kilo attach connects to it, kilo stop stops it)`, 4);
  }
  const startEngine = async () => {
    const config = await load();
    const { createEngine } = await import('../../engine.js');
    const engine = await createEngine({ home, config, configPath });
    await engine.start();
    return engine;
  };
  const [{ runInteractive }, { makeWizardDeps }] = await Promise.all([import('../../../tui/run.js'), import('../../../tui/wizard-deps.js')]);
  const outcome = await runInteractive({
    home,
    wizard: wizard ? makeWizardDeps({ home, configPath, base, startEngine }) : null,
    startEngine,
  });
  if (outcome.message) process.stdout.write(`${outcome.message}\n`);
  if (outcome.forced) process.exit(130);
  process.exitCode = outcome.exitCode;
}

export function runConsoleCommand(cmd: Command): Promise<void> {
  return runInteractiveCommand(cmd, { forceWizard: false });
}

export function registerAttach(program: Command): void {
  program
    .command('attach')
    .description('open the console on the engine already running on this home (headless or another console); q detaches, the engine keeps trading')
    .action(async (_opts: unknown, cmd: Command) => attachConsole(cmd));
}

export function registerConsole(program: Command): void {
  program.action(async (_opts: unknown, cmd: Command) => {
    // A word that is no subcommand (`kilo trian`): commander's own error, with its suggestion.
    if (cmd.args.length) return (cmd as unknown as { unknownCommand(): void }).unknownCommand();
    return runConsoleCommand(cmd);
  });
}

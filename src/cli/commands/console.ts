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

/** Shared by `kilo`, `kilo run` and `kilo setup`: optional wizard, then the console. */
export async function runInteractiveCommand(cmd: Command, opts: { forceWizard: boolean }): Promise<void> {
  const { home, configPath } = globalOptions(cmd);
  const { loadConfigOrDefaults } = await import('../load-config.js');
  const wizard = opts.forceWizard || !(await exists(configPath));
  // Validate an existing config first: a bad file is an error naming key and line, before any UI.
  const { config: base } = await loadConfigOrDefaults(configPath);
  assertTerminal();
  const startEngine = async () => {
    const { config } = await loadConfigOrDefaults(configPath);
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

export function registerConsole(program: Command): void {
  program.action(async (_opts: unknown, cmd: Command) => {
    // A word that is no subcommand (`kilo trian`): commander's own error, with its suggestion.
    if (cmd.args.length) return (cmd as unknown as { unknownCommand(): void }).unknownCommand();
    return runConsoleCommand(cmd);
  });
}

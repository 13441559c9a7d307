import type { Command } from 'commander';
import { CliError } from '../errors.js';

export function registerConsole(program: Command): void {
  program.action(() => {
    throw new CliError('the console is not built yet (issue 6); try `kilo --help`', 2);
  });
}

import type { Command } from 'commander';
import { CliError } from '../errors.js';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check the environment, config, exchange and state')
    .action(() => {
      throw new CliError('kilo doctor is not built yet (issue 8)', 2);
    });
}

import type { Command } from 'commander';
import { CliError } from '../errors.js';

export function registerSetup(program: Command): void {
  program
    .command('setup')
    .description('run the setup wizard (writes config.yaml)')
    .action(() => {
      throw new CliError('kilo setup is not built yet (issue 6)', 2);
    });
}

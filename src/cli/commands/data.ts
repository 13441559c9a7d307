import type { Command } from 'commander';
import { CliError } from '../errors.js';

export function registerData(program: Command): void {
  program
    .command('data')
    .description('fetch and check candles')
    .action(() => {
      throw new CliError('kilo data is not built yet (issue 2)', 2);
    });
}

import type { Command } from 'commander';
import { CliError } from '../errors.js';

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train models for a symbol on a worker thread')
    .action(() => {
      throw new CliError('kilo train is not built yet (issue 3)', 2);
    });
}

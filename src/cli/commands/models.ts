import type { Command } from 'commander';
import { CliError } from '../errors.js';

export function registerModels(program: Command): void {
  program
    .command('models')
    .description('list discovered model versions and the selection for the current config')
    .action(() => {
      throw new CliError('kilo models is not built yet (issue 4)', 2);
    });
}

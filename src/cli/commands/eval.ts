import type { Command } from 'commander';
import { CliError } from '../errors.js';

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('walk-forward evaluation of each model and the ensemble against naive baselines')
    .action(() => {
      throw new CliError('kilo eval is not built yet (issue 3)', 2);
    });
}

import type { Command } from 'commander';
import { CliError } from '../errors.js';

export function registerQueue(program: Command): void {
  program
    .command('queue')
    .description('inspect and manage the training queue')
    .action(() => {
      throw new CliError('kilo queue is not built yet (issue 4)', 2);
    });
}

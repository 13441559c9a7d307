import type { Command } from 'commander';
import { CliError } from '../errors.js';

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('drive the engine over historical CSV candles with a simulated clock')
    .action(() => {
      throw new CliError('kilo replay is not built yet (issue 5)', 2);
    });
}

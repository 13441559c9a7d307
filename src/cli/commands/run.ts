import type { Command } from 'commander';
import { CliError } from '../errors.js';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the engine (paper trading); --headless runs without the console')
    .action(() => {
      throw new CliError('kilo run is not built yet (issue 5)', 2);
    });
}

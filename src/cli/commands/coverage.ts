import type { Command } from 'commander';
import { CliError } from '../errors.js';

export function registerCoverage(program: Command): void {
  program
    .command('coverage')
    .description('trained, universe, untrained, queued and blocked symbols')
    .action(() => {
      throw new CliError('kilo coverage is not built yet (issue 4)', 2);
    });
}

import type { Command } from 'commander';
import { globalOptions } from '../context.js';
import { printJson } from '../json.js';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check the environment, config, exchange and state (exit 1 when a check fails)')
    .option('--json', 'print the checks as JSON')
    .option('--exchange', 'contact the exchange even when data.source is not exchange')
    .action(async (opts: { json?: boolean; exchange?: boolean }, cmd: Command) => {
      const { home, configPath } = globalOptions(cmd);
      const { runDoctor, formatReport } = await import('../../doctor/index.js');
      const { extraChecks } = await import('../../doctor/extra-checks.js');
      const report = await runDoctor({ home, configPath, checkExchange: !!opts.exchange, extraChecks: await extraChecks() });
      if (opts.json) printJson(report, { pretty: true });
      else process.stdout.write(`${formatReport(report.checks)}\n`);
      process.exitCode = report.ok ? 0 : 1;
    });
}

import type { Command } from 'commander';

export function registerSetup(program: Command): void {
  program
    .command('setup')
    .description('run the setup wizard: writes config.yaml (keeping its comments), optional initial training, then the console')
    .action(async (_opts: unknown, cmd: Command) => {
      const { runInteractiveCommand } = await import('./console.js');
      await runInteractiveCommand(cmd, { forceWizard: true });
    });
}

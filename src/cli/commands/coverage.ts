import type { Command } from 'commander';
import { join } from 'node:path';
import { globalOptions } from '../context.js';
import type { Config } from '../../config/schema.js';
import { loadCommandConfig } from './models.js';

/** The universe: the configured list, or the top symbols by 24h quote volume from the market source. */
async function universeOf(config: Config, home: string): Promise<{ symbols: string[]; note: string | null }> {
  if (config.universe.mode === 'list') return { symbols: config.universe.symbols, note: null };
  try {
    const { createMarketSource } = await import('../../market/index.js');
    const { systemClock } = await import('../../clock.js');
    const { source, notice } = await createMarketSource(config, { home, clock: systemClock });
    try {
      const listed = await source.listSymbols();
      const top = listed
        .filter((s) => s.quote === config.exchange.quote)
        .sort((a, b) => b.quoteVolume24h - a.quoteVolume24h)
        .slice(0, config.universe.top_n)
        .map((s) => s.symbol);
      return { symbols: [...new Set([...config.universe.core_symbols, ...top])], note: notice };
    } finally {
      await source.close?.();
    }
  } catch (err) {
    return { symbols: config.universe.symbols, note: `top_volume universe unavailable (${(err as Error).message}); using universe.symbols` };
  }
}

export function registerCoverage(program: Command): void {
  program
    .command('coverage')
    .description('trained, universe, untrained, queued and blocked symbols')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { home, configPath } = globalOptions(cmd);
      const { config, note } = await loadCommandConfig(configPath);
      const { ModelRegistry, registryPaths } = await import('../../registry/registry.js');
      const { TrainingQueue, QUEUE_FILE_NAME } = await import('../../training/queue.js');
      const { computeCoverage } = await import('../../assets/coverage.js');
      const { systemClock } = await import('../../clock.js');
      const reg = new ModelRegistry(registryPaths(home));
      await reg.refresh();
      const queue = await TrainingQueue.open({ file: join(home, 'data', QUEUE_FILE_NAME), clock: systemClock, maxAttempts: config.auto_training.max_attempts });
      const universe = await universeOf(config, home);
      const report = computeCoverage({ universe: universe.symbols, covered: reg.coveredSymbols(config), queue: queue.list(), config });
      const notes = [note, universe.note, ...queue.warnings].filter((n): n is string => !!n);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ universeMode: config.universe.mode, universe: universe.symbols, ...report, notes }, null, 2)}\n`);
        return;
      }
      const list = (xs: string[]): string => (xs.length ? xs.join(', ') : '-');
      const lines = [
        ...notes.map((n) => `note: ${n}`),
        `Universe (${config.universe.mode}, ${universe.symbols.length}): ${list(universe.symbols)}`,
        `Trained (${report.trained.length}): ${list(report.trained)}`,
        `Untrained (${report.untrained.length}): ${list(report.untrained)}`,
        `Queued (${report.queued.length}): ${list(report.queued)}`,
        `Training (${report.training.length}): ${list(report.training)}`,
        `Blocked (${report.blocked.length}):`,
        ...report.blocked.map((b) => `  ${b.symbol.padEnd(12)} ${b.reason}`),
        '',
        'Symbols:',
        ...report.rows.map((r) => `  ${r.symbol.padEnd(12)} ${r.state.padEnd(11)} ${r.tier.padEnd(11)} ${r.reason}`),
        '',
        `Config: ${report.configStatus.join('; ')}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}

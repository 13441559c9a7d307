import type { Command } from 'commander';
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
    .description('trained, universe, untrained, queued and blocked symbols, and which versions hold each')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { home, configPath } = globalOptions(cmd);
      const { config, note } = await loadCommandConfig(configPath);
      const { loadOfflineParts, offlineSnapshot } = await import('../../engine/offline.js');
      const parts = await loadOfflineParts(home, config);
      // A top_volume universe the engine never saved is asked of the market source, as the engine would.
      const universe = config.universe.mode === 'top_volume' && parts.state.universe.length === 0 ? await universeOf(config, home) : null;
      const snap = await offlineSnapshot(parts, universe ? { universe: universe.symbols } : {});
      const notes = [note, universe?.note, ...parts.notes].filter((n): n is string => !!n);
      const c = snap.coverage;
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ ...c, notes }, null, 2)}\n`);
        return;
      }
      const list = (xs: string[]): string => (xs.length ? xs.join(', ') : '-');
      const day = (t: number | null): string => (t === null ? '?' : new Date(t).toISOString().slice(0, 10));
      const lines = [
        ...notes.map((n) => `note: ${n}`),
        `Universe (${c.universeMode}, ${c.universe.length}): ${list(c.universe)}`,
        `Trained (${c.trained.length}): ${list(c.trained)}`,
        `Untrained (${c.untrained.length}): ${list(c.untrained)}`,
        `Queued (${c.queued.length}): ${list(c.queued)}`,
        `Training (${c.training.length}): ${list(c.training)}`,
        `Blocked (${c.blocked.length}):`,
        ...c.blocked.map((b) => `  ${b.symbol.padEnd(12)} ${b.reason}`),
        '',
        'Symbols:',
        ...c.rows.map((r) => `  ${r.symbol.padEnd(12)} ${r.state.padEnd(11)} ${r.tier.padEnd(11)} ${r.reason}`),
        '',
        'Versions per symbol (trained window, feature hash, state):',
        ...c.rows.flatMap((r) => [
          `  ${r.symbol}${r.job ? `  [job ${r.job.id} ${r.job.state}${r.job.etaS !== null ? `, eta ${Math.round(r.job.etaS)} s` : ''}]` : ''}`,
          ...(r.cells.length ? r.cells.map((x) => `    v${x.version.padEnd(6)} ${day(x.trainedFrom)}..${day(x.trainedTo)}  ${x.featureHash ?? '-'}  ${x.state}`) : ['    (no version holds it)']),
        ]),
        '',
        `Config: ${c.configStatus.join('; ')}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}

/**
 * `kilo coverage`: per symbol, the state the engine gives it and why. With an engine running, its
 * own coverage (through the control API); otherwise the files projected by the engine's own code,
 * with the universe and the unknown-asset judgements made by the engine's functions on the
 * configured market source (src/engine/coverage.ts: resolveUniverse, judgeHistory): core symbols
 * included, unlisted symbols skipped with their key, stablecoins and illiquid pairs unsupported,
 * short histories blocked.
 */
import type { Command } from 'commander';
import { globalOptions } from '../context.js';
import { printJson } from '../json.js';
import { loadCommandConfig } from './models.js';
import type { CoverageView, EngineSnapshot } from '../../engine-api.js';

export function registerCoverage(program: Command): void {
  program
    .command('coverage')
    .description('per symbol the state the engine gives it and why (core symbols included, unlisted ones skipped), and which versions hold each')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { home, configPath } = globalOptions(cmd);
      const { config, note } = await loadCommandConfig(configPath);
      const { locateEngine } = await import('../engine-access.js');
      const view = await locateEngine(home);
      let snap: EngineSnapshot;
      const notes: string[] = [note, view.note].filter((n): n is string => !!n);
      if (view.client) snap = await view.client.snapshot();
      else {
        const { loadOfflineParts, offlineSnapshot, assessOffline } = await import('../../engine/offline.js');
        const parts = await loadOfflineParts(home, config);
        const a = await assessOffline(parts);
        snap = await offlineSnapshot(parts, { universe: a.universe, judgements: a.judgements, skipped: a.skipped });
        notes.push(...a.notes, ...parts.notes);
      }
      const c = snap.coverage;
      if (opts.json) {
        printJson({ source: view.source, ...c, notes }, { pretty: true });
        return;
      }
      process.stdout.write(`${coverageText(c, notes)}\n`);
    });
}

function coverageText(c: CoverageView, notes: string[]): string {
  const list = (xs: string[]): string => (xs.length ? xs.join(', ') : '-');
  const day = (t: number | null): string => (t === null ? '?' : new Date(t).toISOString().slice(0, 10));
  return [
    ...notes.map((n) => `note: ${n}`),
    `Universe (${c.universeMode}, ${c.universe.length}): ${list(c.universe)}`,
    `Trained (${c.trained.length}): ${list(c.trained)}`,
    `Untrained (${c.untrained.length}): ${list(c.untrained)}`,
    `Queued (${c.queued.length}): ${list(c.queued)}`,
    `Training (${c.training.length}): ${list(c.training)}`,
    `Blocked (${c.blocked.length}):`,
    ...c.blocked.map((b) => `  ${b.symbol.padEnd(12)} ${b.reason}`),
    ...(c.skipped.length ? [`Skipped, not traded (${c.skipped.length}):`, ...c.skipped.map((x) => `  ${x.symbol.padEnd(12)} ${x.key}: ${x.reason}`)] : []),
    '',
    'Symbols (the state the engine gives each, and why):',
    ...c.rows.map((r) => `  ${r.symbol.padEnd(12)} ${r.state.padEnd(11)} ${r.tier.padEnd(11)} ${r.reason}`),
    '',
    'Versions per symbol (trained window, feature hash, state):',
    ...c.rows.flatMap((r) => [
      `  ${r.symbol}${r.job ? `  [job ${r.job.id} ${r.job.state}${r.job.etaS !== null ? `, eta ${Math.round(r.job.etaS)} s` : ''}]` : ''}`,
      ...(r.cells.length ? r.cells.map((x) => `    v${x.version.padEnd(6)} ${day(x.trainedFrom)}..${day(x.trainedTo)}  ${x.featureHash ?? '-'}  ${x.state}`) : ['    (no version holds it)']),
    ]),
    '',
    `Config: ${c.configStatus.join('; ')}`,
  ].join('\n');
}

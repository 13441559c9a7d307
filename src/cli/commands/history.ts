import type { Command } from 'commander';
import { globalOptions } from '../context.js';
import { CliError } from '../errors.js';
import { loadConfigOrDefaults } from '../load-config.js';
import { printJson } from '../json.js';
import { SYMBOL_RE } from '../../market/symbols.js';

const when = (t: number): string => new Date(t).toISOString().slice(0, 16).replace('T', ' ');
const score = (x: number | null): string => (x === null ? '' : x.toFixed(4));

export function registerHistory(program: Command): void {
  program
    .command('history <symbol>')
    .description('which model version served SYMBOL when, and why: promotions, kept champions, failed retrains, rollbacks, pins and fallbacks')
    .option('--json', 'print JSON')
    .action(async (raw: string, opts: { json?: boolean }, cmd: Command) => {
      const symbol = raw.toUpperCase();
      if (!SYMBOL_RE.test(symbol)) throw new CliError(`symbol: expected a pair like BTC/USDT, got "${raw}"`, 2);
      const { home, configPath } = globalOptions(cmd);
      const { config, note } = await loadConfigOrDefaults(configPath);
      const [{ loadOfflineParts, offlineSnapshot }, { projectHistory }] = await Promise.all([import('../../engine/offline.js'), import('../../engine/project.js')]);
      // The record is what the engine persisted: data/promotions.json and engine-state.json (pins, fallbacks).
      const parts = await loadOfflineParts(home, config);
      const snap = await offlineSnapshot(parts);
      const entries = projectHistory(symbol, parts.promotions, parts.state.servingEvents);
      const row = snap.symbols.find((s) => s.symbol === symbol) ?? null;
      const notes = [note, ...parts.notes].filter((n): n is string => !!n);
      if (opts.json) {
        printJson({ symbol, serving: row ? { version: row.modelVersion, via: row.servingVia } : null, shadow: row?.shadow ?? null, entries, notes }, { pretty: true });
        return;
      }
      const lines = notes.map((n) => `note: ${n}`);
      lines.push(row ? `${symbol}: served by ${row.modelVersion ? `v${row.modelVersion} (${row.servingVia})` : 'no model'} now` : `${symbol}: not in the universe`);
      if (row?.shadow) lines.push(`${symbol}: ${row.shadow.label} (beside v${row.shadow.champion}, not traded)`);
      if (!entries.length) lines.push('no recorded decisions, pins or fallbacks');
      for (const e of entries) {
        const change = e.from && e.from !== e.version ? `v${e.from} -> v${e.version}` : e.version ? `v${e.version}` : '-';
        const scores = e.championScore !== null || e.challengerScore !== null ? ` [champion ${score(e.championScore) || '-'}, challenger ${score(e.challengerScore) || '-'}]` : '';
        lines.push(`${when(e.at)}  ${e.kind.padEnd(12)} ${change.padEnd(14)} ${e.reason}${scores}`);
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}

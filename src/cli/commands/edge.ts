/**
 * `kilo edge`: the edge gate per symbol (does its model trade, or its fallback, and the figures
 * behind it), and the operator's override: `kilo edge SYMBOL on|off|auto`. Through the running
 * engine's control API when one runs, else on the state files (read by the next engine start),
 * like `kilo models --rollback`.
 */
import type { Command } from 'commander';
import { globalOptions } from '../context.js';
import { CliError } from '../errors.js';
import { loadConfigOrDefaults } from '../load-config.js';
import { printJson } from '../json.js';
import { SYMBOL_RE } from '../../market/symbols.js';

const MODES = ['on', 'off', 'auto'] as const;

export function registerEdge(program: Command): void {
  program
    .command('edge')
    .description('the edge gate per symbol: whether its model trades or it runs on the TA rule / holds, with the figures; SYMBOL on|off|auto sets the operator override')
    .argument('[symbol]', 'e.g. BTC/USDT (all symbols when left out)')
    .argument('[mode]', 'on: the model trades whatever its verdict; off: the gate applies (even over model.edge_overrides); auto: config.yaml decides')
    .option('--reason <text>', 'with a mode: why (logged and shown in kilo history)')
    .option('--json', 'print JSON (snake_case)')
    .action(async (rawSymbol: string | undefined, rawMode: string | undefined, o: { reason?: string; json?: boolean }, cmd: Command) => {
      const { home, configPath } = globalOptions(cmd);
      const symbol = rawSymbol?.toUpperCase();
      if (symbol !== undefined && !SYMBOL_RE.test(symbol)) throw new CliError(`edge: expected a symbol like BTC/USDT, got "${rawSymbol}"`, 2);
      if (rawMode !== undefined) {
        const mode = rawMode.toLowerCase();
        if (!(MODES as readonly string[]).includes(mode)) throw new CliError(`edge: mode must be on, off or auto, got "${rawMode}"`, 2);
        const { withEngineOrFiles } = await import('../engine-access.js');
        const on = mode === 'auto' ? null : mode === 'on';
        const r = await withEngineOrFiles(home, configPath, (api) => api.edgeOverride(symbol!, on, o.reason ?? `edge override ${mode} (kilo edge)`));
        if (o.json) printJson(r);
        else process.stdout.write(`${r.message}\n`);
        if (!r.ok) process.exitCode = 1;
        return;
      }
      const { config } = await loadConfigOrDefaults(configPath);
      const { locateEngine, snapshotOf } = await import('../engine-access.js');
      const view = await locateEngine(home);
      const { snap, notes } = await snapshotOf(home, config, view);
      const rows = snap.symbols.filter((r) => symbol === undefined || r.symbol === symbol);
      if (symbol !== undefined && rows.length === 0) throw new CliError(`edge: ${symbol} is not in the engine's universe`, 3);
      const { edgeJson, edgeSummary } = await import('../../engine/edge-gate.js');
      if (o.json) {
        printJson(rows.map((r) => ({ symbol: r.symbol, modelVersion: r.modelVersion, edge: r.edge ? edgeJson(r.edge) : null })));
        return;
      }
      for (const n of [view.note, ...notes]) if (n) process.stderr.write(`${n}\n`);
      for (const r of rows) {
        process.stdout.write(r.edge ? `${r.symbol} v${r.modelVersion ?? '-'}: ${r.edge.label} - ${edgeSummary(r.edge)}\n` : `${r.symbol}: no model serves it (${r.state})\n`);
      }
    });
}

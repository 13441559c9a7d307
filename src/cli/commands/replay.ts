import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { globalOptions } from '../context.js';
import { CliError } from '../errors.js';
import { loadConfigOrDefaults } from '../load-config.js';
import { printJson } from '../json.js';

interface ReplayCliOpts {
  csv?: string;
  from?: string;
  to?: string;
  speed: string;
  symbols?: string;
  state?: string;
  keepState?: boolean;
  json?: boolean;
  quiet?: boolean;
}

function parseDate(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v);
  if (!Number.isFinite(t)) throw new CliError(`${name}: expected a date like 2023-01-31 or 2023-01-31T12:00Z, got "${v}"`, 2);
  return t;
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('drive the engine over historical CSV candles with a simulated clock, then print a summary')
    .option('--csv <dir>', 'folder of BTC-USDT-1h.csv style files (default data.csv_dir)')
    .option('--from <date>', 'first simulated candle (default: first candle + min history + 30 days)')
    .option('--to <date>', 'end of the replay (default: last candle)')
    .option('--speed <n>', 'rounds (candles) per second; 0 = as fast as possible', '0')
    .option('--symbols <list>', 'comma-separated symbols (default: config universe found in the folder)')
    .option('--state <dir>', 'where the replay keeps its models/ and data/ (default <home>/replay)')
    .option('--keep-state', 'continue from the state folder instead of starting clean')
    .option('--json', 'print the summary (with every trade) as JSON')
    .option('--quiet', 'do not print log lines while replaying')
    .action(async (o: ReplayCliOpts, cmd: Command) => {
      const { home, configPath } = globalOptions(cmd);
      const speed = Number(o.speed);
      if (!(speed >= 0)) throw new CliError(`--speed: expected a number >= 0, got "${o.speed}"`, 2);
      const { config, note } = await loadConfigOrDefaults(configPath);
      if (note && !o.json) process.stdout.write(`${note}\n`);
      const symbols = o.symbols?.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
      const { SYMBOL_RE } = await import('../../market/symbols.js');
      const bad = symbols?.find((s) => !SYMBOL_RE.test(s));
      if (bad) throw new CliError(`--symbols: expected symbols like BTC/USDT, got "${bad}"`, 2);
      const { runReplay, formatReplaySummary } = await import('../replay.js');
      const summary = await runReplay({
        config,
        configPath,
        csvDir: resolve(home, o.csv ?? config.data.csv_dir),
        stateDir: resolve(home, o.state ?? join(home, 'replay')),
        from: parseDate('--from', o.from),
        to: parseDate('--to', o.to),
        speed,
        symbols,
        keepState: Boolean(o.keepState),
        onLine: o.quiet || o.json ? undefined : (line) => process.stdout.write(`${line}\n`),
      }).catch((err: Error) => {
        throw new CliError(err.message, 1);
      });
      if (o.json) printJson(summary);
      else process.stdout.write(`\n${formatReplaySummary(summary)}\n`);
    });
}

import type { Command } from 'commander';
import { stat } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { globalOptions } from '../context.js';
import { CliError } from '../errors.js';
import { loadConfigOrDefaults } from '../load-config.js';
import { printJson } from '../json.js';
import type { ReplayReport } from '../../evaluation/replay-report.js';

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
  report?: string;
  scorecard?: boolean;
}

/**
 * The report file is checked before hours of replay, not after: the folder must exist and the
 * name must end in .html or .svg (what gets written).
 */
export async function reportTarget(raw: string, cwd: string): Promise<{ file: string; kind: 'html' | 'svg' }> {
  const file = resolve(cwd, raw);
  const ext = extname(file).toLowerCase();
  const kind = ext === '.svg' ? 'svg' : ext === '.html' || ext === '.htm' ? 'html' : null;
  if (!kind) throw new CliError(`--report ${raw}: expected a file name ending in .html or .svg`, 2);
  const dir = await stat(dirname(file)).catch(() => null);
  if (!dir?.isDirectory()) throw new CliError(`--report ${raw}: folder ${dirname(file)} does not exist`, 2);
  const existing = await stat(file).catch(() => null);
  if (existing?.isDirectory()) throw new CliError(`--report ${raw}: ${file} is a folder`, 2);
  return { file, kind };
}

function parseDate(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v);
  if (!Number.isFinite(t)) throw new CliError(`${name}: expected a date like 2023-01-31 or 2023-01-31T12:00Z, got "${v}"`, 2);
  return t;
}

/** Written atomically (temp name, fsync, rename): an open browser tab never reads half a file. */
export async function writeReport(target: { file: string; kind: 'html' | 'svg' }, report: ReplayReport, raw = target.file): Promise<void> {
  const { reportHtml, reportSvg } = await import('../../evaluation/replay-chart.js');
  const { formatReplayReport } = await import('../../evaluation/replay-report.js');
  const { writeFileAtomic } = await import('../../util/atomic.js');
  const body = target.kind === 'svg' ? `${reportSvg(report)}\n` : reportHtml(report, formatReplayReport(report));
  await writeFileAtomic(target.file, body).catch((err: Error) => {
    throw new CliError(`--report ${raw}: ${err.message}`, 1);
  });
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
    .option('--report <file>', 'also write the report as a self-contained .html (chart, figures, scorecard) or .svg (chart) file')
    .option('--no-scorecard', 'skip scoring the gate\'s decisions on the days after them')
    .action(async (o: ReplayCliOpts, cmd: Command) => {
      const { home, configPath } = globalOptions(cmd);
      const speed = Number(o.speed);
      if (!(speed >= 0)) throw new CliError(`--speed: expected a number >= 0, got "${o.speed}"`, 2);
      const target = o.report !== undefined ? await reportTarget(o.report, process.cwd()) : null;
      const { config, note } = await loadConfigOrDefaults(configPath);
      if (note && !o.json) process.stdout.write(`${note}\n`);
      const symbols = o.symbols?.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
      const { SYMBOL_RE } = await import('../../market/symbols.js');
      const bad = symbols?.find((s) => !SYMBOL_RE.test(s));
      if (bad) throw new CliError(`--symbols: expected symbols like BTC/USDT, got "${bad}"`, 2);
      const { runReplay, formatReplaySummary, replayJson } = await import('../replay.js');
      // Ctrl-C (or a TERM) ends a long replay early with the report over the rounds done; a second one kills it.
      const stop = new AbortController();
      const onSignal = (): void => {
        if (stop.signal.aborted) process.exit(130);
        stop.abort();
        process.stderr.write('kilo replay: stopping after this round, then the report (again to abort)\n');
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const summary = await runReplay({
        signal: stop.signal,
        config,
        configPath,
        csvDir: resolve(home, o.csv ?? config.data.csv_dir),
        stateDir: resolve(home, o.state ?? join(home, 'replay')),
        from: parseDate('--from', o.from),
        to: parseDate('--to', o.to),
        speed,
        symbols,
        keepState: Boolean(o.keepState),
        scorecard: o.scorecard !== false,
        onLine: o.quiet || o.json ? undefined : (line) => process.stdout.write(`${line}\n`),
      }).catch((err: Error) => {
        throw new CliError(err.message, 1);
      });
      if (target) await writeReport(target, summary.report, o.report!);
      if (o.json) printJson(replayJson(summary));
      else {
        const width = Math.max(30, Math.min(160, (process.stdout.columns ?? 100) - 16));
        process.stdout.write(`\n${formatReplaySummary(summary, { color: Boolean(process.stdout.isTTY), chartWidth: width })}\n`);
        if (target) process.stdout.write(`report written to ${target.file}\n`);
      }
    });
}

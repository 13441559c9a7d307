import type { Command } from 'commander';
import { globalOptions } from '../context.js';
import { CliError } from '../errors.js';
import { loadConfigOrDefaults } from '../load-config.js';
import { printJson } from '../json.js';
import type { Config } from '../../config/schema.js';
import type { Timeframe } from '../../market/types.js';

const TIMEFRAMES = ['1m', '5m', '15m', '30m', '1h', '4h', '1d'];

const configFor = loadConfigOrDefaults;

const iso = (t: number | null) => (t === null ? '-' : new Date(t).toISOString().slice(0, 16).replace('T', ' '));

function parseTimeframe(tf: string): Timeframe {
  if (!TIMEFRAMES.includes(tf)) throw new CliError(`--timeframe: expected one of ${TIMEFRAMES.join(', ')}, got "${tf}"`, 2);
  return tf as Timeframe;
}

export function registerData(program: Command): void {
  const data = program.command('data').description('fetch and check candles');

  data
    .command('fetch')
    .description('fetch candles into the local store (incremental: only what is missing)')
    .requiredOption('--symbol <symbol>', 'pair, e.g. BTC/USDT')
    .option('--days <n>', 'days of history (default model.target_history_days)')
    .option('--timeframe <tf>', 'candle timeframe (default exchange.timeframe)')
    .action(async (opts: { symbol: string; days?: string; timeframe?: string }, cmd: Command) => {
      const { home, configPath } = globalOptions(cmd);
      const { config, note } = await configFor(configPath);
      if (note) process.stdout.write(`${note}\n`);
      const { checkSymbolSyntax, validateSymbol, marketListOf } = await import('../../market/symbols.js');
      const syntax = checkSymbolSyntax(opts.symbol);
      if (!syntax.ok) throw new CliError(`--symbol: ${syntax.reason}`, 2);
      const symbol = syntax.symbol;
      const days = opts.days === undefined ? config.model.target_history_days : Number(opts.days);
      if (!Number.isFinite(days) || days <= 0) throw new CliError(`--days: expected a positive number, got "${opts.days}"`, 2);
      const tf = parseTimeframe(opts.timeframe ?? config.exchange.timeframe);
      const { resolve } = await import('node:path');
      const { systemClock } = await import('../../clock.js');
      const { createMarketSource, CandleStore } = await import('../../market/index.js');
      const log = (level: string, msg: string) => process.stderr.write(`${level}: ${msg}\n`);
      const created = await createMarketSource(config, { home, clock: systemClock, log });
      // No simulator stands in for an unreachable exchange: say why and fail.
      if (created.waiting) {
        await created.source.close?.();
        throw new CliError(`data fetch ${symbol}: ${created.waiting}`, 1);
      }
      if (created.notice) process.stdout.write(`note: ${created.notice}\n`);
      const listed = validateSymbol(symbol, await marketListOf(created.source));
      if (!listed.ok) {
        await created.source.close?.();
        throw new CliError(`--symbol ${symbol}: ${listed.reason}`, 2);
      }
      process.stdout.write(`fetching ${symbol} ${tf}, ${days} days, from ${created.source.description}\n`);
      const store = new CandleStore(resolve(home, config.data.cache_dir), systemClock, { expiryMs: config.data.cache_expiry_h * 3_600_000 });
      try {
        const r = await store.update(created.source, created.storeName, symbol, tf, systemClock.now() - days * 86_400_000, (p) =>
          process.stdout.write(`  ${symbol} ${tf}: ${p.fetched} new candles, up to ${iso(Math.min(p.cursor, p.until))}\n`),
        );
        process.stdout.write(
          `stored ${r.total} candles (+${r.added}) in ${store.file(created.storeName, symbol, tf)}; ` +
            `${r.report.gaps.length} gap(s), ${r.report.missing} missing${r.rejected ? `, ${r.rejected} invalid candle(s) rejected` : ''}\n`,
        );
      } catch (err) {
        throw new CliError(`data fetch ${symbol}: ${(err as Error).message}`, 1);
      } finally {
        await created.source.close?.();
      }
    });

  data
    .command('check')
    .description('validation report of the candle store (and the csv folder when data.source is csv); exit 0 sound, 1 unusable candles, 4 holes or stale data')
    .option('--symbol <symbol>', 'only this pair')
    .option('--json', 'print the reports as JSON')
    .action(async (opts: { symbol?: string; json?: boolean }, cmd: Command) => {
      const { home, configPath } = globalOptions(cmd);
      const { config } = await configFor(configPath);
      let symbol: string | undefined;
      if (opts.symbol !== undefined) {
        const { checkSymbolSyntax } = await import('../../market/symbols.js');
        const syntax = checkSymbolSyntax(opts.symbol);
        if (!syntax.ok) throw new CliError(`--symbol: ${syntax.reason}`, 2);
        symbol = syntax.symbol;
      }
      const { checkCandleFolders, checkExitCode } = await import('../../market/check.js');
      const { resolve } = await import('node:path');
      const folders: { dir: string; origin: 'store' | 'csv' }[] = [{ dir: resolve(home, config.data.cache_dir), origin: 'store' }];
      if (config.data.source === 'csv') folders.push({ dir: resolve(home, config.data.csv_dir), origin: 'csv' });
      const reports = await checkCandleFolders(folders, {
        symbol,
        now: Date.now(),
        windowDays: config.model.target_history_days,
        maxStaleCandles: config.data.max_staleness_candles,
        minCoverage: config.model.min_history_coverage_pct,
        suspect: { factor: config.data.suspect_move_factor, minMove: config.data.suspect_min_move },
      });
      if (opts.json) printJson(reports, { pretty: true });
      else {
        if (!reports.length) process.stdout.write(`no candle files under ${folders.map((f) => f.dir).join(', ')}\n`);
        for (const r of reports) {
          const problems = [
            r.duplicates.length && `${r.duplicates.length} duplicate(s)`,
            r.outOfOrder.length && `${r.outOfOrder.length} out of order`,
            r.nonPositive.length && `${r.nonPositive.length} non-positive`,
            r.absurd.length && `${r.absurd.length} absurd`,
            r.inconsistentOhlc.length && `${r.inconsistentOhlc.length} inconsistent OHLC`,
            r.badRows.length && `${r.badRows.length} bad row(s): ${r.badRows.slice(0, 3).map((b) => `line ${b.line}: ${b.reason}`).join('; ')}`,
            ...r.problems.filter((p) => p !== 'unusable rows or candles'),
          ].filter(Boolean);
          const label = r.exitCode === 0 ? 'ok  ' : r.exitCode === 1 ? 'FAIL' : 'WARN';
          process.stdout.write(
            `${label} ${r.file}\n     ${r.candles} candles ${iso(r.first)} .. ${iso(r.last)}; ${r.gaps.length} gap(s), ${r.missing} missing` +
              `${r.confirmedGaps.length ? ` (${r.confirmedGaps.length} confirmed by the source)` : ''}; ` +
              `coverage ${(r.coveragePct * 100).toFixed(1)}% of the last ${config.model.target_history_days} days${r.stale ? '; stale' : ''}\n` +
              (problems.length ? `     ${problems.join('; ')}\n` : '') +
              r.gaps.slice(0, 5).map((g) => `     gap ${iso(g.from)} .. ${iso(g.to)} (${g.missing})${r.openGaps.includes(g) ? ' not confirmed' : ''}\n`).join('') +
              r.suspects.slice(0, 10).map((x) => `     suspicious ${iso(x.timestamp)} (${x.status}): ${x.reason}\n`).join(''),
          );
        }
      }
      process.exitCode = checkExitCode(reports);
    });
}

import type { Command } from 'commander';
import { globalOptions } from '../context.js';
import { CliError } from '../errors.js';
import { loadConfigOrDefaults } from '../load-config.js';
import { printJson } from '../json.js';
import type { SignalAnswer } from '../../engine/signal-request.js';

export function registerSignal(program: Command): void {
  program
    .command('signal')
    .description('ask for a signal on any symbol: a model signal, "Model not trained" (with a time estimate), "Asset not supported", or a flagged fallback')
    .requiredOption('-s, --symbol <symbol>', 'e.g. BTC/USDT')
    .option('--json', 'print the answer as JSON')
    .action(async (o: { symbol: string; json?: boolean }, cmd: Command) => {
      const { home } = globalOptions(cmd);
      const { checkSymbolSyntax, validateSymbol, marketListOf } = await import('../../market/symbols.js');
      const syntax = checkSymbolSyntax(o.symbol);
      if (!syntax.ok) throw new CliError(`--symbol: ${syntax.reason}`, 2);
      const symbol = syntax.symbol;
      const { config, note } = await loadConfigOrDefaults(globalOptions(cmd).configPath);
      if (note && !o.json) process.stderr.write(`${note}\n`);
      const [{ systemClock }, { createMarketSource, CsvMarketSource }, { ModelRegistry, registryPaths }, { requestSignal }] = await Promise.all([
        import('../../clock.js'),
        import('../../market/index.js'),
        import('../../registry/registry.js'),
        import('../../engine/signal-request.js'),
      ]);
      const market = await createMarketSource(config, { home, clock: systemClock });
      if (market.notice && !o.json) process.stderr.write(`${market.notice}\n`);
      // A symbol the source does not list is "Asset not supported" (exit 3), with why.
      const listed = validateSymbol(symbol, await marketListOf(market.source));
      const onWarn = (m: string): boolean => process.stderr.write(`warning: ${m}\n`);
      const registry = new ModelRegistry({ ...registryPaths(home), onWarn });
      await registry.refresh();
      // A CSV folder is "live" up to its last candle; the simulator and exchanges up to now.
      let now = systemClock.now();
      if (listed.ok && market.source instanceof CsvMarketSource) {
        const r = await market.source.range(symbol, config.exchange.timeframe).catch(() => null);
        if (r?.last != null) now = r.last + 2 * 3_600_000;
      }
      // The operator's edge override lives in the engine state (kilo edge, :edge); config.yaml's list is read by the gate itself.
      const { readStateFile } = await import('../../engine/state-file.js');
      const { join } = await import('node:path');
      const saved = await readStateFile(join(home, 'data', 'engine-state.json')).catch(() => null);
      const edgeOverride = saved?.data.edgeOverrides[symbol]?.on ?? null;
      const answer = await (listed.ok
        ? requestSignal({ config, source: market.source, registry, symbol, now, onWarn, edgeOverride })
        : Promise.resolve<SignalAnswer>({ kind: 'error', symbol, error: 'Asset not supported', reason: listed.reason }))
        .catch((err: Error) => {
          throw new CliError(`${symbol}: ${err.message}`, 1);
        })
        .finally(() => market.source.close?.());
      if (o.json) {
        printJson(answer);
      } else if (answer.kind === 'signal') {
        process.stdout.write(
          `${symbol}: ${answer.direction} (confidence ${answer.confidence.toFixed(2)}) from model ${answer.model_version}${answer.fallback ? ` [fallback: ${answer.reason}]` : ''}\n`,
        );
        // The edge gate: whether this model's call is what trades, with the figures.
        if (answer.edge) {
          const instead = answer.traded ? `; trades ${answer.traded.via === 'ta' ? `the TA rule: ${answer.traded.direction} (confidence ${answer.traded.confidence.toFixed(2)})` : 'nothing (hold)'}` : '';
          process.stdout.write(`${answer.edge.label}: ${answer.edge.reason}${instead}\n`);
        }
      } else {
        process.stdout.write(
          `${symbol}: ${answer.error}: ${answer.reason}${answer.can_train ? `; can train (estimated ${answer.estimated_time_s} s, ${answer.estimate_basis})` : ''}\n`,
        );
      }
      if (answer.kind === 'error') process.exitCode = 3;
    });
}

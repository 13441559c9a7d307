import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { globalOptions } from '../context.js';
import { loadConfigOrDefaults } from '../load-config.js';
import type { Config } from '../../config/schema.js';
import type { ClassMetrics, ModelKind } from '../../models/metadata.js';
import { TIMEFRAME_MS, type Candle, type DataSourceInfo, type Timeframe } from '../../market/types.js';
import type { JobProgress } from '../../engine-api.js';
import type { EdgeReport } from '../../evaluation/edge.js';

interface TrainOpts {
  symbol: string;
  model: string;
  quick?: boolean;
  forceTrain?: boolean;
  forceServe?: boolean;
  version?: string;
}

const KINDS: ModelKind[] = ['gru', 'gbdt', 'ppo'];

export function parseModels(v: string): ModelKind[] {
  if (v === 'all') return [...KINDS];
  const out = v.split(',').map((s) => s.trim());
  for (const m of out) if (!KINDS.includes(m as ModelKind)) throw new CliError(`--model: unknown model "${m}" (all, gru, gbdt, ppo)`, 2);
  return out as ModelKind[];
}

export function parseSymbol(v: string): string {
  const s = v.toUpperCase();
  if (!/^[A-Z0-9]+\/[A-Z0-9]+$/.test(s)) throw new CliError(`--symbol: expected a symbol like BTC/USDT, got "${v}"`, 2);
  return s;
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train models for a symbol on the engine\'s training path: history policy, walk-forward verdict, gate against the serving champion')
    .requiredOption('-s, --symbol <symbol>', 'symbol to train, e.g. BTC/USDT')
    .option('-m, --model <models>', 'all | gru | gbdt | ppo (comma list allowed)', 'all')
    .option('--quick', 'use the quick training profile')
    .option('--force-train', 'train even when the symbol is already covered')
    .option('--version <x.y>', 'artifact version to write (versions are immutable)')
    .option('--force-serve', 'serve the new version whatever the promotion gate says (recorded as forced)')
    .action(async (opts: TrainOpts, cmd: Command) => {
      const { home, configPath } = globalOptions(cmd);
      const symbol = parseSymbol(opts.symbol);
      await (await import('../listed.js')).assertListed(home, configPath, symbol, 'not trained');
      const models = parseModels(opts.model);
      await runTrain({ home, configPath, symbol, models, quick: !!opts.quick, force: !!opts.forceTrain || !!opts.forceServe, version: opts.version, forceServe: !!opts.forceServe });
    });
}

/** Config from the file, or the defaults (with a notice) when there is no config file yet. */
export async function loadConfigForCli(configPath: string, out: (s: string) => void): Promise<Config> {
  const { config, note } = await loadConfigOrDefaults(configPath);
  if (note) out(`${note}\n`);
  return config;
}

/** Candles for every symbol of the job through the configured market source. */
export async function fetchJobCandles(
  config: Config,
  home: string,
  symbols: string[],
  days: number,
  out: (s: string) => void,
  meta: { dataSource?: DataSourceInfo } = {},
): Promise<Record<string, Candle[]>> {
  const [{ createMarketSource }, { systemClock }, { fetchTrainingCandles }] = await Promise.all([
    import('../../market/index.js'),
    import('../../clock.js'),
    import('../../training/pipeline-spec.js'),
  ]);
  const { source, notice } = await createMarketSource(config, { home, clock: systemClock, log: (_l, m) => out(`${m}\n`) });
  if (notice) out(`${notice}\n`);
  try {
    const candles: Record<string, Candle[]> = {};
    for (const s of symbols) {
      candles[s] = await fetchTrainingCandles(source, s, config.exchange.timeframe, days);
      out(`fetched ${candles[s].length} ${config.exchange.timeframe} candles of ${s} from ${source.description}\n`);
    }
    meta.dataSource = await source.provenance?.(symbols, config.exchange.timeframe);
    return candles;
  } finally {
    await source.close?.();
  }
}

export function formatProgress(p: JobProgress): string {
  const pct = `${Math.round(p.fraction * 100)}%`.padStart(4);
  const parts = [`[${p.phase}]`.padEnd(11), pct];
  if (p.epochs > 0) parts.push(`${p.phase === 'gbdt' ? 'round' : p.phase === 'ppo' ? 'update' : p.phase === 'verdict' ? 'fold' : 'epoch'} ${p.epoch}/${p.epochs}`);
  if (p.loss !== null) parts.push(`loss ${p.loss.toFixed(4)}`);
  if (p.valMetric !== null) parts.push(`${p.phase === 'gru' ? 'val acc' : p.phase === 'ppo' ? 'reward' : 'val loss'} ${p.valMetric.toFixed(4)}`);
  if (p.etaS !== null) parts.push(`eta ${Math.round(p.etaS)}s`);
  return parts.join('  ');
}

/**
 * The walk-forward table per symbol, then one `verdict:` line per symbol (the last lines of
 * `kilo train` and `kilo eval`): the serving decision the edge gate makes with this config.
 */
export async function verdictReport(config: Config, edge: EdgeReport | undefined, symbols: string[]): Promise<string> {
  const [{ decideServing, formatVerdict }, { formatEdgeTable }] = await Promise.all([import('../../policy/edge.js'), import('../../evaluation/report.js')]);
  const tables = edge ? symbols.map((s) => `\n${formatEdgeTable(edge, s, config.model.edge_confidence)}\n`).join('') : '';
  const lines = symbols.map((s) => formatVerdict(decideServing(edge, config, { symbol: s }), s));
  return `${tables}\n${lines.join('\n')}\n`;
}

export function formatMetricsTable(rows: { name: string; validation?: ClassMetrics; test: ClassMetrics }[]): string {
  const pct = (x: number | undefined) => (x === undefined ? '-' : `${(x * 100).toFixed(1)}%`);
  const lines = ['model             val acc   test acc   test dir acc   test PnL after costs   samples'];
  for (const r of rows) {
    lines.push(
      `${r.name.padEnd(16)}  ${pct(r.validation?.accuracy).padStart(7)}   ${pct(r.test.accuracy).padStart(8)}   ${pct(r.test.directional_accuracy).padStart(12)}   ` +
        `${`${(r.test.pnl_pct ?? 0).toFixed(2)}%`.padStart(20)}   ${String(r.test.samples).padStart(7)}`,
    );
  }
  return lines.join('\n');
}

interface RunTrain {
  home: string;
  configPath: string;
  symbol: string;
  models: ModelKind[];
  quick: boolean;
  force: boolean;
  version?: string;
  forceServe?: boolean;
}

/**
 * `kilo train` runs the engine's own training path (src/engine/training-run.ts): the recipe, the
 * history policy, the same symbol set in multi_symbol mode, the walk-forward verdict and the gate
 * against the serving champion; the decision is applied as the engine applies it (promotions.json,
 * serving.json only when promoted, or with --force-serve, said so). With an engine running on the
 * home the training is queued on it instead (one writer of serving.json).
 */
export async function runTrain(o: RunTrain, out: (s: string) => void = (s) => void process.stdout.write(s)): Promise<void> {
  const config = await loadConfigForCli(o.configPath, out);
  if (o.version !== undefined && !/^\d+\.\d+$/.test(o.version)) throw new CliError(`--version: expected a version like 1.0, got "${o.version}"`, 2);
  const { lockHome, EngineRunningError } = await import('../../engine/home-lock.js');
  let lock;
  try {
    lock = await lockHome(o.home);
  } catch (err) {
    if (!(err instanceof EngineRunningError)) throw err;
    return queueOnEngine(o, err.pid, out);
  }
  const [{ resolve }, { Logger, loggerOptionsFromConfig }, { openHomeFiles }] = await Promise.all([
    import('node:path'),
    import('../../log/logger.js'),
    import('../engine-access.js'),
  ]);
  const logger = new Logger(loggerOptionsFromConfig(config.logging, o.home));
  const [{ WorkerPool, JobCancelledError }, { fetchTrainingCandles }, { artifactDir, artifactKey }, { existsSync }, { runTraining }, { createMarketSource }, { systemClock }, { offlineUniverse }, { emptyState }] =
    await Promise.all([
      import('../../training/pool.js'),
      import('../../training/pipeline-spec.js'),
      import('../../models/artifact.js'),
      import('node:fs'),
      import('../../engine/training-run.js'),
      import('../../market/index.js'),
      import('../../clock.js'),
      import('../../engine/offline.js'),
      import('../../engine/state-file.js'),
    ]);
  const modelsDir = resolve(o.home, 'models');
  const pool = new WorkerPool({ maxConcurrent: 1, timeoutMs: config.resources.training_timeout_s * 1000 });
  const ac = new AbortController();
  const onSigint = (): void => {
    out('\ncancelling (Ctrl-C again to force)...\n');
    ac.abort();
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', onSigint);
  let market: Awaited<ReturnType<typeof createMarketSource>> | null = null;
  try {
    const home = await openHomeFiles(o.home, config, logger);
    market = await createMarketSource(config, { home: o.home, clock: systemClock, log: (_l, m) => out(`${m}\n`) });
    if (market.notice) out(`${market.notice}\n`);
    const source = market.source;
    const tf = config.exchange.timeframe as Timeframe;
    // Market time is the asked symbol's last closed candle (a CSV folder is "live" up to its end).
    const last = await source.latestClosedCandle(o.symbol, tf);
    if (!last) throw new CliError(`${o.symbol}: no closed ${tf} candle from ${source.description}`, 1);
    const now = last.timestamp + TIMEFRAME_MS[tf];
    let lastKey = '';
    const outcome = await runTraining(
      {
        // The operator's pin (console, API) picks the champion the gate scores, as in the engine.
        config: home.state.effectiveConfig(),
        registry: home.registry,
        pool,
        modelsDir,
        marketNow: () => now,
        universe: offlineUniverse(config, { ...emptyState(), universe: [...home.state.universe()] }),
        fetchHistory: (s, days) => fetchTrainingCandles(source, s, tf, days),
        provenance: async (symbols) => source.provenance?.(symbols, tf),
      },
      {
        symbol: o.symbol,
        trigger: 'operator',
        // kilo train without --quick trains the designed (full) recipe, as it always has.
        quick: o.quick,
        models: o.models,
        force: o.force,
        version: o.version,
        forceServe: o.forceServe,
        signal: ac.signal,
        onPlan: (p) => {
          const target = artifactDir(modelsDir, p.version, artifactKey(p.symbols, config.model.training_mode));
          if (existsSync(target)) throw new CliError(`${target} already exists; versions are immutable (pass --version X.Y for a new one)`, 1);
          out(`training ${p.symbols.join(', ')} (${o.models.join(', ')}, ${p.recipe.reason}) as v${p.version}: ${p.reason}; champion ${p.champion ? `v${p.champion}` : 'none'}\n`);
        },
        onFetched: (candles) => {
          for (const [s, c] of Object.entries(candles)) out(`fetched ${c.length} ${tf} candles of ${s} from ${source.description}\n`);
        },
        onProgress: (p) => {
          // One line per epoch/update and every 10th boosting round: readable in a log file too.
          const key = `${p.phase}:${p.phase === 'gbdt' ? Math.floor(p.epoch / 10) : p.epoch}`;
          if (key === lastKey) return;
          lastKey = key;
          out(`${formatProgress(p)}\n`);
        },
        onLog: (level, m) => {
          if (level !== 'debug') out(`${level === 'info' ? '' : `${level}: `}${m}\n`);
        },
      },
    );
    if (outcome.kind === 'skipped') {
      // An explicit --version that exists is a refusal; a symbol already covered is a normal skip.
      if (o.version !== undefined) throw new CliError(outcome.reason, 1);
      out(`skipped: ${outcome.reason}\n`);
      return;
    }
    if (outcome.kind === 'short_history') throw new CliError(`${o.symbol}: not trained: ${outcome.history.reason} (the history policy; nothing was written)`, 1);
    const res = outcome.result;
    const m = res.metadata!;
    out(`\nartifact: ${res.artifactDir}\n`);
    out(`trained in ${res.durationS.toFixed(1)}s on ${m.backend} backend${m.rnn_kernel ? ` (recurrent kernel: ${m.rnn_kernel})` : ''}; ${m.training_days} days up to ${new Date(m.training_end_timestamp).toISOString()} (${outcome.recipe.name} recipe)\n\n`);
    const rows: { name: string; validation?: ClassMetrics; test: ClassMetrics }[] = (['gbdt', 'gru', 'ppo', 'ensemble'] as const)
      .filter((k) => m.performance[k])
      .map((k) => ({ name: k, ...m.performance[k]! }));
    for (const [name, b] of Object.entries(res.baselines ?? {})) rows.push({ name: `base:${name}`, ...b });
    out(`${formatMetricsTable(rows)}\n`);
    // The decision as the engine applies it: recorded, and serving.json changed only by a promotion.
    await home.decisions.apply(outcome.decision, res.notes);
    await home.state.flush();
    const d = outcome.decision;
    // What actually serves now (a pin still wins over a promotion), not what the decision hoped for.
    const actual = home.registry.servingArtifactFor(home.state.effectiveConfig(), o.symbol, now)?.artifact.version ?? null;
    const serving =
      actual === d.challengerVersion
        ? `v${actual} now serves ${o.symbol}`
        : `v${actual ?? 'none'} keeps serving ${o.symbol}${home.state.effectiveConfig().model.pinned_version === actual && actual ? ' (pinned)' : ''}; v${d.challengerVersion} is kept on disk`;
    out(`\ngate: ${d.kind}${d.forced ? ' (forced by --force-serve)' : ''} - ${d.reason}\n${serving}\n`);
    out(await verdictReport(config, m.edge, outcome.symbols));
  } catch (err) {
    if (err instanceof CliError) throw err;
    if (err instanceof JobCancelledError || ac.signal.aborted) throw new CliError('training cancelled; no artifact was written', 130);
    throw new CliError(`training failed: ${(err as Error).message}`, 1);
  } finally {
    process.removeListener('SIGINT', onSigint);
    await market?.source.close?.();
    await pool.close();
    logger.close();
    await lock.release();
  }
}

/** An engine runs on the home: the training goes to its queue and runs there, on the same path. */
async function queueOnEngine(o: RunTrain, pid: number, out: (s: string) => void): Promise<void> {
  if (o.forceServe) throw new CliError(`an engine (pid ${pid}) runs on this home: --force-serve needs it stopped (or pin the version: :pin X.Y)`, 2);
  const { ApiClient } = await import('../../api/client.js');
  const client = new ApiClient(o.home);
  try {
    await client.health();
  } catch (e) {
    throw new CliError(`an engine (pid ${pid}) runs on this home but its control API does not answer (${(e as Error).message}); stop it first`, 4);
  }
  const r = await client.command('train', { symbol: o.symbol, models: o.models, quick: o.quick, force: o.force, ...(o.version ? { version: o.version } : {}), reason: 'kilo train' });
  out(`${r.message} (on the running engine, pid ${pid}: same recipe, verdict and gate; follow it with kilo queue / kilo history)\n`);
  if (!r.ok) process.exitCode = 1;
}

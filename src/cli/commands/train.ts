import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { globalOptions } from '../context.js';
import { loadConfigOrDefaults } from '../load-config.js';
import type { Config } from '../../config/schema.js';
import type { ClassMetrics, ModelKind } from '../../models/metadata.js';
import type { Candle, DataSourceInfo } from '../../market/types.js';
import type { JobProgress } from '../../engine-api.js';
import type { EdgeReport } from '../../evaluation/edge.js';

interface TrainOpts {
  symbol: string;
  model: string;
  quick?: boolean;
  forceTrain?: boolean;
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

/**
 * Which version a training writes, from the registry: skip when a compatible model already covers
 * the request (unless --force-train), auto-increment over an existing one (1.0 -> 1.1), or honour
 * --version (never an existing folder: versions are immutable).
 */
export async function resolveTrainVersion(
  config: Config,
  home: string,
  req: { symbol: string; force: boolean; version?: string },
): Promise<{ skip: boolean; reason: string; version: string }> {
  if (req.version !== undefined && !/^\d+\.\d+$/.test(req.version)) throw new CliError(`--version: expected a version like 1.0, got "${req.version}"`, 2);
  const { ModelRegistry, registryPaths } = await import('../../registry/registry.js');
  const registry = new ModelRegistry(registryPaths(home));
  await registry.refresh();
  return registry.resolveTrainVersion(config, { symbol: req.symbol, force: req.force, version: req.version });
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train models for a symbol on a worker thread')
    .requiredOption('-s, --symbol <symbol>', 'symbol to train, e.g. BTC/USDT')
    .option('-m, --model <models>', 'all | gru | gbdt | ppo (comma list allowed)', 'all')
    .option('--quick', 'use the quick training profile')
    .option('--force-train', 'train even when the symbol is already covered')
    .option('--version <x.y>', 'artifact version to write (versions are immutable)')
    .action(async (opts: TrainOpts, cmd: Command) => {
      const { home, configPath } = globalOptions(cmd);
      const symbol = parseSymbol(opts.symbol);
      await (await import('../listed.js')).assertListed(home, configPath, symbol, 'not trained');
      const models = parseModels(opts.model);
      await runTrain({ home, configPath, symbol, models, quick: !!opts.quick, force: !!opts.forceTrain, version: opts.version });
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
}

async function runTrain(o: RunTrain): Promise<void> {
  const out = (s: string): void => void process.stdout.write(s);
  const config = await loadConfigForCli(o.configPath, out);
  const decision = await resolveTrainVersion(config, o.home, { symbol: o.symbol, force: o.force, version: o.version });
  if (decision.skip) {
    // An explicit --version that exists is a refusal; a symbol already covered is a normal skip.
    if (o.version !== undefined) throw new CliError(decision.reason, 1);
    out(`skipped: ${decision.reason}\n`);
    return;
  }
  const { resolve } = await import('node:path');
  const [{ WorkerPool }, { buildJobSpec, jobSymbolsFor }, { artifactDir, artifactKey }, { existsSync }] = await Promise.all([
    import('../../training/pool.js'),
    import('../../training/pipeline-spec.js'),
    import('../../models/artifact.js'),
    import('node:fs'),
  ]);
  const modelsDir = resolve(o.home, 'models');
  const symbols = jobSymbolsFor(config, o.symbol);
  const target = artifactDir(modelsDir, decision.version, artifactKey(symbols, config.model.training_mode));
  if (existsSync(target)) throw new CliError(`${target} already exists; versions are immutable (pass --version X.Y for a new one)`, 1);
  const profile = config.training[o.quick ? 'quick' : 'full'];
  out(`training ${symbols.join(', ')} (${o.models.join(', ')}, ${o.quick ? 'quick' : 'full'} profile, ${profile.data_days} days) as v${decision.version}: ${decision.reason}\n`);
  const meta: { dataSource?: DataSourceInfo } = {};
  const candles = await fetchJobCandles(config, o.home, symbols, profile.data_days, out, meta);
  const spec = buildJobSpec(config, { symbols, candles, dataSource: meta.dataSource, models: o.models, quick: o.quick, version: decision.version, modelsDir });
  const pool = new WorkerPool({ maxConcurrent: 1, timeoutMs: config.resources.training_timeout_s * 1000 });
  const ac = new AbortController();
  const onSigint = (): void => {
    out('\ncancelling (Ctrl-C again to force)...\n');
    ac.abort();
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', onSigint);
  let lastLine = '';
  let lastKey = '';
  try {
    const res = await pool.run(spec, {
      signal: ac.signal,
      onProgress: (p) => {
        // One line per epoch/update and every 10th boosting round: readable in a log file too.
        const key = `${p.phase}:${p.phase === 'gbdt' ? Math.floor(p.epoch / 10) : p.epoch}`;
        if (key === lastKey) return;
        lastKey = key;
        const line = formatProgress(p);
        if (line !== lastLine) out(`${line}\n`);
        lastLine = line;
      },
      onLog: (level, m) => {
        if (level !== 'debug') out(`${level === 'info' ? '' : `${level}: `}${m}\n`);
      },
    });
    const m = res.metadata!;
    out(`\nartifact: ${res.artifactDir}\n`);
    out(`trained in ${res.durationS.toFixed(1)}s on ${m.backend} backend${m.rnn_kernel ? ` (recurrent kernel: ${m.rnn_kernel})` : ''}; ${m.training_days} days up to ${new Date(m.training_end_timestamp).toISOString()}\n\n`);
    const rows: { name: string; validation?: ClassMetrics; test: ClassMetrics }[] = (['gbdt', 'gru', 'ppo', 'ensemble'] as const)
      .filter((k) => m.performance[k])
      .map((k) => ({ name: k, ...m.performance[k]! }));
    for (const [name, b] of Object.entries(res.baselines ?? {})) rows.push({ name: `base:${name}`, ...b });
    out(`${formatMetricsTable(rows)}\n`);
    out(await verdictReport(config, m.edge, symbols));
  } catch (err) {
    const { JobCancelledError } = await import('../../training/pool.js');
    if (err instanceof JobCancelledError) throw new CliError('training cancelled; no artifact was written', 130);
    throw new CliError(`training failed: ${(err as Error).message}`, 1);
  } finally {
    process.removeListener('SIGINT', onSigint);
    await pool.close();
  }
}

import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { globalOptions } from '../context.js';
import { parseModels, parseSymbol, loadConfigForCli, fetchJobCandles, formatMetricsTable, verdictReport } from './train.js';
import type { Config } from '../../config/schema.js';
import type { Candle } from '../../market/types.js';
import type { ModelKind } from '../../models/metadata.js';
import type { EvalRow } from '../../training/pipeline-eval.js';

interface EvalOpts {
  symbol: string;
  version?: string;
  folds: string;
  model: string;
  full?: boolean;
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('walk-forward judgement (PnL after costs per fold) of each model and the ensemble beside the baselines, ending with the verdict')
    .requiredOption('-s, --symbol <symbol>', 'symbol to evaluate, e.g. BTC/USDT')
    .option('--version <x.y>', 'score this saved artifact on candles after its training end (otherwise: retrain per fold)')
    .option('--folds <n>', 'number of walk-forward test folds', '4')
    .option('-m, --model <models>', 'models to retrain per fold: all | gru | gbdt | ppo (comma list)', 'all')
    .option('--full', 'retrain folds with the full profile (default: quick)')
    .action(async (opts: EvalOpts, cmd: Command) => {
      const { home, configPath } = globalOptions(cmd);
      const symbol = parseSymbol(opts.symbol);
      const folds = Number(opts.folds);
      if (!Number.isInteger(folds) || folds < 1 || folds > 20) throw new CliError(`--folds: expected an integer 1..20, got "${opts.folds}"`, 2);
      const out = (s: string): void => void process.stdout.write(s);
      const config = await loadConfigForCli(configPath, out);
      if (opts.version !== undefined) await evalSaved(config, home, symbol, opts.version, folds, out);
      else await evalWalkForward(config, home, symbol, folds, parseModels(opts.model), !opts.full, out);
    });
}

/** Retrain per fold (one job: N-1 fold models on expanding windows + the final model on its test slice) and judge. */
async function evalWalkForward(config: Config, home: string, symbol: string, folds: number, models: ModelKind[], quick: boolean, out: (s: string) => void): Promise<void> {
  if (config.model.training_mode === 'multi_symbol') out('note: walk-forward eval retrains this symbol alone (single_symbol)\n');
  const cfg: Config = { ...config, model: { ...config.model, training_mode: 'single_symbol' } };
  const [{ mkdtemp, rm }, { tmpdir }, { join }, { WorkerPool }, { buildJobSpec }] = await Promise.all([
    import('node:fs/promises'),
    import('node:os'),
    import('node:path'),
    import('../../training/pool.js'),
    import('../../training/pipeline-spec.js'),
  ]);
  const profile = cfg.training[quick ? 'quick' : 'full'];
  const candles = (await fetchJobCandles(cfg, home, [symbol], profile.data_days, out))[symbol];
  const tmp = await mkdtemp(join(tmpdir(), 'kilo-eval-'));
  const pool = new WorkerPool({ maxConcurrent: 1, timeoutMs: cfg.resources.training_timeout_s * 1000 * (folds + 1) });
  const ac = new AbortController();
  const onSigint = (): void => ac.abort();
  process.once('SIGINT', onSigint);
  try {
    const spec = { ...buildJobSpec(cfg, { symbols: [symbol], candles: { [symbol]: candles }, models, quick, version: '0.1', modelsDir: tmp }), walkForwardFolds: folds, foldRecipe: 'profile' as const };
    out(`training ${folds} walk-forward fold(s) of ${symbol} (${models.join(', ')}, ${quick ? 'quick' : 'full'} profile) on ${candles.length} candles...\n`);
    let lastFold = -1;
    const res = await pool.run(spec, {
      signal: ac.signal,
      onProgress: (p) => {
        if (p.phase !== 'verdict' || p.epoch === lastFold) return;
        lastFold = p.epoch;
        out(`fold ${p.epoch}/${p.epochs}...\n`);
      },
    });
    const m = res.metadata!;
    const rows: EvalRow[] = (['gbdt', 'gru', 'ppo', 'ensemble'] as const).filter((x) => m.performance[x]).map((x) => ({ name: x, test: m.performance[x]!.test }));
    for (const [name, b] of Object.entries(res.baselines ?? {})) rows.push({ name: `base:${name}`, test: b.test });
    out(`\nlast fold (the final model's test slice)\n${formatMetricsTable(rows)}\n`);
    out(await verdictReport(cfg, m.edge, [symbol]));
  } catch (err) {
    const { JobCancelledError } = await import('../../training/pool.js');
    if (err instanceof JobCancelledError) throw new CliError('evaluation cancelled', 130);
    if (err instanceof CliError) throw err;
    throw new CliError(`evaluation failed: ${(err as Error).message}`, 1);
  } finally {
    process.removeListener('SIGINT', onSigint);
    await pool.close();
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Judge a saved artifact on the candles after its training end, split into folds, with its verdict on them. */
async function evalSaved(config: Config, home: string, symbol: string, version: string, folds: number, out: (s: string) => void): Promise<void> {
  if (!/^\d+\.\d+$/.test(version)) throw new CliError(`--version: expected a version like 1.0, got "${version}"`, 2);
  const [{ join, resolve }, { existsSync }, { artifactDir, artifactKey }, { loadArtifact }, { SymbolPredictor }, { evaluateArtifact }, { buildEdgeReport }, { blockLengthFor }, { TIMEFRAME_MS }] = await Promise.all([
    import('node:path'),
    import('node:fs'),
    import('../../models/artifact.js'),
    import('../../models/artifact-load.js'),
    import('../../models/predictor.js'),
    import('../../training/pipeline-eval.js'),
    import('../../evaluation/edge.js'),
    import('../../evaluation/bootstrap.js'),
    import('../../market/types.js'),
  ]);
  const modelsDir = resolve(home, 'models');
  let dir = artifactDir(modelsDir, version, artifactKey([symbol], 'single_symbol'));
  if (!existsSync(dir)) dir = join(modelsDir, `v${version}`, 'multi');
  if (!existsSync(dir)) throw new CliError(`no artifact for ${symbol} in ${join(modelsDir, `v${version}`)}`, 1);
  const loaded = await loadArtifact(dir);
  try {
    const predictor = new SymbolPredictor(loaded);
    const m = loaded.metadata;
    const days = config.training.full.data_days + 365;
    const all: Candle[] = (await fetchJobCandles(config, home, [symbol], days, out))[symbol];
    const firstAfter = all.findIndex((c) => c.timestamp > m.training_end_timestamp);
    if (firstAfter < 0 || all.length - firstAfter < folds * 10) {
      throw new CliError(`${symbol}: only ${firstAfter < 0 ? 0 : all.length - firstAfter} candles after v${version}'s training end (${new Date(m.training_end_timestamp).toISOString()}); nothing out of sample to score`, 1);
    }
    const from = Math.max(firstAfter, predictor.minCandles);
    const len = Math.floor((all.length - from) / folds);
    const costs = { feeRate: config.paper_trading.fee_rate, slippageBps: config.paper_trading.slippage_bps, entryThreshold: config.paper_trading.entry_threshold };
    const judged = [];
    for (let k = 0; k < folds; k++) {
      judged.push(evaluateArtifact(predictor, symbol, all, from + k * len, from + (k + 1) * len, { horizon: m.horizon, threshold: m.label_threshold, costs }));
    }
    out(`v${version} (${dir}) judged on ${all.length - from} candles after its training end\n`);
    judged.forEach((j, k) => out(`\nfold ${k + 1}/${folds}\n${formatMetricsTable(j.rows)}\n`));
    const tfMs = TIMEFRAME_MS[config.exchange.timeframe];
    const report = buildEdgeReport({
      folds: { [symbol]: judged.map((j) => j.fold) },
      // The predictor's own signal is what trades, whatever models the artifact holds.
      subject: 'ensemble',
      costs,
      candlesPer30d: (30 * 86_400_000) / tfMs,
      blockLength: blockLengthFor(tfMs),
      confidence: config.model.edge_confidence,
      marginPct: config.model.edge_margin_pct,
      recipe: { folds, light: {}, final: m.profile ?? 'saved', note: `v${version} as saved, ${folds} consecutive fold(s) after its training end` },
      durationS: 0,
    });
    out(await verdictReport(config, report, [symbol]));
  } finally {
    loaded.dispose();
  }
}

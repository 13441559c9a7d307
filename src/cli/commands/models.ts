import type { Command } from 'commander';
import { globalOptions } from '../context.js';
import { CliError } from '../errors.js';
import { loadConfigOrDefaults } from '../load-config.js';
import { printJson } from '../json.js';
import { SYMBOL_RE } from '../../market/symbols.js';

/** Config for the file-based commands (models, coverage, queue): defaults when there is no file yet. */
export const loadCommandConfig = loadConfigOrDefaults;

interface ModelsOpts {
  json?: boolean;
  verify?: boolean;
  cleanup?: boolean;
  dryRun?: boolean;
  rollback?: string;
  reason?: string;
  scorecard?: boolean;
}

export function registerModels(program: Command): void {
  program
    .command('models')
    .description('list discovered model versions, the selection and the version serving each symbol')
    .option('--json', 'print JSON')
    .option('--verify', 'check every file against its manifest sha256 (the default)')
    .option('--no-verify', 'check file sizes only (faster on very large models)')
    .option('--cleanup', 'remove versions older than resources.cleanup_max_age_days beyond the newest cleanup_keep_top_n (never serving, pinned or selected)')
    .option('--dry-run', 'with --cleanup: only report what would be removed')
    .option('--rollback <symbol>', 'return SYMBOL to the version that served it before the current one, at once')
    .option('--reason <text>', 'with --rollback: why (logged and kept in data/promotions.json)')
    .option('--no-scorecard', 'skip the gate scorecard (it predicts the days after each decision with both versions)')
    .action(async (opts: ModelsOpts, cmd: Command) => {
      const { home, configPath } = globalOptions(cmd);
      const { config, note } = await loadCommandConfig(configPath);
      if (opts.rollback !== undefined) return rollback(home, configPath, opts.rollback, opts.reason, Boolean(opts.json));
      const { loadOfflineParts, offlineSnapshot } = await import('../../engine/offline.js');
      // Verified by default: a flipped byte in a promoted model must not read "files complete".
      const parts = await loadOfflineParts(home, config, { verifyChecksums: opts.verify !== false });
      const { registryPaths } = await import('../../registry/registry.js');
      const modelsDir = registryPaths(home).modelsDir;
      const notes = [note, ...parts.notes].filter((n): n is string => !!n);
      if (opts.cleanup) {
        const { cleanupModels, protectedVersions } = await import('../../registry/cleanup.js');
        const r = config.resources;
        const now = Date.now();
        const report = await cleanupModels({
          modelsDir,
          versions: parts.registry.list(),
          // The engine persists its prediction counts: "most used" is the engine's own figure.
          usage: { ...parts.state.usage },
          protect: protectedVersions(parts.registry.servingMap(), config.model.pinned_version, parts.registry.selection(config, now).winner),
          maxAgeDays: r.cleanup_max_age_days,
          keepTopN: r.cleanup_keep_top_n,
          now,
          dryRun: opts.dryRun ?? false,
        });
        if (opts.json) {
          printJson({ dryRun: opts.dryRun ?? false, ...report }, { pretty: true });
          return;
        }
        const verb = opts.dryRun ? 'would remove' : 'removed';
        const lines = [
          ...report.removed.map((x) => `${verb} v${x.version} (${(x.bytes / 1024).toFixed(0)} KiB): ${x.reason}`),
          ...report.kept.map((x) => `kept v${x.version}: ${x.reason}`),
          `${verb} ${report.removed.length} version(s), ${(report.freedBytes / 1024 / 1024).toFixed(2)} MB`,
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
        return;
      }
      const snap = await offlineSnapshot(parts);
      const scorecard = opts.scorecard === false ? null : await gateScorecard(home, config, parts);
      const serving = Object.fromEntries(snap.symbols.map((s) => [s.symbol, s.modelVersion]));
      // Per symbol, from the same projection the console reads: the version, how it was chosen and why.
      const servingRows = snap.symbols.map((s) => ({ symbol: s.symbol, version: s.modelVersion, via: s.servingVia, reason: s.servingReason ?? `no model covers ${s.symbol}`, fallback: s.servingVia === 'fallback' || (s.modelVersion === null && s.servingReason !== null), problem: s.modelVersion === null ? s.servingReason : null }));
      if (opts.json) {
        const out = {
          modelsDir,
          config: { training_mode: config.model.training_mode, symbol_encoding: config.model.symbol_encoding, pinned_version: snap.pinnedVersion },
          selected: snap.selection.winner,
          reason: snap.selection.reason,
          pin: snap.selection.pin,
          versions: snap.models,
          serving,
          servingVia: Object.fromEntries(snap.symbols.map((s) => [s.symbol, s.servingVia])),
          // data: what trained each artifact (kind, exchange/CSV files/seed, candle range and hash).
          data_sources: Object.fromEntries(parts.registry.list().flatMap((v) => v.artifacts.map((a) => [`${v.version}/${a.key}`, a.metadata?.data_source ?? null]))),
          serving_by_symbol: servingRows,
          quarantine: parts.registry.quarantineList(),
          scorecard,
          notes,
        };
        printJson(out, { pretty: true });
        return;
      }
      const { formatModelsReport } = await import('../../registry/report.js');
      for (const n of notes) process.stdout.write(`note: ${n}\n`);
      const effective = { ...config, model: { ...config.model, pinned_version: snap.pinnedVersion } };
      process.stdout.write(formatModelsReport(modelsDir, parts.registry.list(), parts.registry.selection(effective, Date.now()), effective, { serving: servingRows, quarantine: parts.registry.quarantineList() }));
      const { describeProvenance } = await import('../../market/provenance.js');
      const trained = parts.registry.list().flatMap((v) => v.artifacts.map((a) => `  v${v.version} ${a.key}: ${describeProvenance(a.metadata?.data_source)}`));
      if (trained.length) process.stdout.write(`data sources:\n${trained.join('\n')}\n`);
      if (scorecard) process.stdout.write(`${(await import('../../evaluation/scorecard.js')).formatScorecard(scorecard, { maxRows: 20 })}\n`);
    });
}

/** The gate's scorecard over data/promotions.json, on the candles the home already has. */
async function gateScorecard(home: string, config: import('../../config/schema.js').Config, parts: Awaited<ReturnType<typeof import('../../engine/offline.js').loadOfflineParts>>) {
  const { runScorecard, homeCandles } = await import('../../evaluation/scorecard-run.js');
  const symbols = [...new Set(parts.promotions.map((d) => d.symbol))];
  const now = parts.state.marketTime ?? Date.now();
  return runScorecard({ decisions: parts.promotions, config, versions: parts.registry.list(), ...(await homeCandles(home, config, symbols, now)) });
}

async function rollback(home: string, configPath: string, raw: string, reason: string | undefined, json: boolean): Promise<void> {
  const symbol = raw.toUpperCase();
  if (!SYMBOL_RE.test(symbol)) throw new CliError(`--rollback: expected a symbol like BTC/USDT, got "${raw}"`, 2);
  const { withEngineOrFiles } = await import('../engine-access.js');
  const r = await withEngineOrFiles(home, configPath, (api) => api.rollback(symbol, reason ?? 'rolled back by the operator (kilo models --rollback)'));
  if (json) printJson(r.ok ? r : { error: r.message, ...r });
  else process.stdout.write(`${r.message}\n`);
  if (!r.ok) process.exitCode = 1;
}

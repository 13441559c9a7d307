import type { Command } from 'commander';
import { globalOptions } from '../context.js';
import { CliError } from '../errors.js';
import type { Config } from '../../config/schema.js';

/** Config for the file-based commands (models, coverage, queue): defaults when there is no file yet. */
import { loadConfigOrDefaults } from '../load-config.js';

export const loadCommandConfig = loadConfigOrDefaults;

export function registerModels(program: Command): void {
  program
    .command('models')
    .description('list discovered model versions and the selection for the current config')
    .option('--json', 'print JSON')
    .option('--verify', 'check every file against its manifest sha256 (the default)')
    .option('--no-verify', 'check file sizes only (faster on very large models)')
    .option('--cleanup', 'remove versions older than resources.cleanup_max_age_days beyond the newest cleanup_keep_top_n (never serving, pinned or selected)')
    .option('--dry-run', 'with --cleanup: only report what would be removed')
    .action(async (opts: { json?: boolean; verify?: boolean; cleanup?: boolean; dryRun?: boolean }, cmd: Command) => {
      const { home, configPath } = globalOptions(cmd);
      const { config, note } = await loadCommandConfig(configPath);
      const { ModelRegistry, registryPaths } = await import('../../registry/registry.js');
      const { toModelVersionViews } = await import('../../registry/views.js');
      const { formatModelsReport } = await import('../../registry/report.js');
      const paths = registryPaths(home);
      const warnings: string[] = [];
      // Verified by default: a flipped byte in a promoted model must not read "files complete".
      const reg = new ModelRegistry({ ...paths, verifyChecksums: opts.verify !== false, onWarn: (w) => warnings.push(w) });
      await reg.refresh();
      const now = Date.now();
      const selection = reg.selection(config, now);
      const u = config.universe;
      const symbols = [
        ...new Set([...(u.mode === 'list' ? u.symbols : []), ...u.core_symbols, ...Object.keys(reg.servingMap()), ...reg.list().flatMap((v) => v.artifacts.flatMap((a) => a.servesSymbols))]),
      ].sort();
      const serving = symbols.map((s) => reg.servingFor(config, s, now));
      if (opts.cleanup) {
        const { cleanupModels, protectedVersions } = await import('../../registry/cleanup.js');
        const r = config.resources;
        // Prediction counts live in the engine; from the files alone "most used" falls back to newest.
        const report = await cleanupModels({
          modelsDir: paths.modelsDir,
          versions: reg.list(),
          usage: {},
          protect: protectedVersions(reg.servingMap(), config.model.pinned_version, selection.winner),
          maxAgeDays: r.cleanup_max_age_days,
          keepTopN: r.cleanup_keep_top_n,
          now,
          dryRun: opts.dryRun ?? false,
        });
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ dryRun: opts.dryRun ?? false, ...report }, null, 2)}\n`);
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
      if (opts.json) {
        const out = {
          modelsDir: paths.modelsDir,
          config: { training_mode: config.model.training_mode, symbol_encoding: config.model.symbol_encoding, pinned_version: config.model.pinned_version },
          selected: selection.winner,
          reason: selection.reason,
          pin: selection.pin,
          versions: toModelVersionViews(reg.list(), selection, config),
          candidates: selection.candidates,
          serving: reg.servingMap(),
          // data: what trained each artifact (kind, exchange/CSV files/seed, candle range and hash).
          data_sources: Object.fromEntries(reg.list().flatMap((v) => v.artifacts.map((a) => [`${v.version}/${a.key}`, a.metadata?.data_source ?? null]))),
          serving_by_symbol: serving,
          quarantine: reg.quarantineList(),
          notes: [...(note ? [note] : []), ...warnings],
        };
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        return;
      }
      if (note) process.stdout.write(`note: ${note}\n`);
      for (const w of warnings) process.stdout.write(`warning: ${w}\n`);
      process.stdout.write(formatModelsReport(paths.modelsDir, reg.list(), selection, config, { serving, quarantine: reg.quarantineList() }));
      const { describeProvenance } = await import('../../market/provenance.js');
      const trained = reg.list().flatMap((v) => v.artifacts.map((a) => `  v${v.version} ${a.key}: ${describeProvenance(a.metadata?.data_source)}`));
      if (trained.length) process.stdout.write(`data sources:\n${trained.join('\n')}\n`);
    });
}

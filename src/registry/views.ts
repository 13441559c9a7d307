/** Discovery + selection -> the console's ModelVersionView rows (engine-api contract). */
import type { Config } from '../config/schema.js';
import type { ModelVersionView } from '../engine-api.js';
import type { SelectionResult } from '../policy/selection.js';
import type { DiscoveredVersion } from './discover.js';

export function toModelVersionViews(versions: readonly DiscoveredVersion[], selection: SelectionResult, config: Config): ModelVersionView[] {
  const byVersion = new Map(selection.candidates.map((c) => [c.version, c]));
  return versions.map((v) => {
    const c = byVersion.get(v.version);
    const meta = v.artifacts.find((a) => a.complete && a.metadata)?.metadata ?? v.artifacts.find((a) => a.metadata)?.metadata ?? null;
    const trained = c?.trainedSymbols.length ? c.trainedSymbols : [...new Set(v.artifacts.flatMap((a) => a.metadata?.trained_symbols ?? []))].sort();
    return {
      version: v.version,
      complete: v.artifacts.length > 0 && v.artifacts.every((a) => a.complete),
      problems: v.artifacts.flatMap((a) => a.problems.map((p) => `${a.key}: ${p}`)),
      trainingMode: meta?.training_mode ?? 'single_symbol',
      encoding: meta?.symbol_encoding_type ?? 'one_hot',
      trainedSymbols: trained,
      trainingDays: Math.max(0, ...v.artifacts.map((a) => a.metadata?.training_days ?? 0)),
      trainingEnd: c?.trainingEnd ?? meta?.training_end_timestamp ?? null,
      compatible: c?.compatible ?? false,
      rejectReason: c?.rejectReason ?? null,
      score: c?.score ?? null,
      selected: selection.winner === v.version,
      pinned: config.model.pinned_version === v.version,
      warnings: [...new Set(v.artifacts.flatMap((a) => a.warnings.map((w) => `${a.key}: ${w}`)))],
    };
  });
}

/** Pure builders of the console-facing views (src/engine-api.ts) from the engine's parts. */
import type { Config } from '../config/schema.js';
import type { ModelVersionView, PortfolioView } from '../engine-api.js';
import type { DiscoveredVersion } from '../registry/discover.js';
import type { SelectionResult } from '../policy/selection.js';

export function modelViews(versions: readonly DiscoveredVersion[], sel: SelectionResult, config: Config): ModelVersionView[] {
  return versions.map((v) => {
    const c = sel.candidates.find((x) => x.version === v.version);
    const metas = v.artifacts.map((a) => a.metadata).filter((m) => m !== null);
    const problems = v.artifacts.flatMap((a) => a.problems.map((p) => `${a.key}: ${p}`));
    return {
      version: v.version,
      complete: v.artifacts.length > 0 && v.artifacts.every((a) => a.complete),
      problems,
      trainingMode: c?.trainingMode ?? metas[0]?.training_mode ?? 'single_symbol',
      encoding: c?.encoding ?? metas[0]?.symbol_encoding_type ?? 'one_hot',
      trainedSymbols: c?.trainedSymbols ?? [...new Set(v.artifacts.flatMap((a) => a.servesSymbols))],
      trainingDays: Math.max(0, ...metas.map((m) => m.training_days ?? 0)),
      trainingEnd: c?.trainingEnd ?? null,
      compatible: c?.compatible ?? false,
      rejectReason: c?.rejectReason ?? c?.lostBecause ?? null,
      score: c?.score ?? null,
      selected: sel.winner === v.version,
      pinned: config.model.pinned_version === v.version,
      warnings: v.artifacts.flatMap((a) => a.warnings.map((w) => `${a.key}: ${w}`)),
    };
  });
}

export const emptyPortfolio = (cash: number): PortfolioView => ({ cash, equity: cash, pnl: 0, pnlPct: 0, exposure: 0, equityCurve: [] });

/**
 * The models part of the projection (see project.ts): one row per discovered version with the
 * symbols it serves right now, its score breakdown and, in words, where it stands and why the
 * others lost; and the coverage matrix, symbols x versions.
 */
import type { Config } from '../config/schema.js';
import type { CoverageCell, CoverageRowView, JobView, ModelVerdict, ModelVersionView } from '../engine-api.js';
import type { CoverageReport } from '../assets/coverage.js';
import type { DiscoveredArtifact, DiscoveredVersion } from '../registry/discover.js';
import type { ServingArtifact } from '../registry/registry.js';
import { artifactMismatch, type SelectionCandidate, type SelectionResult } from '../policy/selection.js';
import { describeProvenance } from '../market/provenance.js';

const DAY_MS = 86_400_000;

export type ServingMap = ReadonlyMap<string, ServingArtifact | null>;

const createdAtOf = (a: DiscoveredArtifact): number | null => {
  const t = a.metadata?.created_at ? Date.parse(a.metadata.created_at) : Number.NaN;
  return Number.isFinite(t) ? t : null;
};

const trainingStartOf = (a: DiscoveredArtifact): number | null => {
  const m = a.metadata;
  return m && m.training_end_timestamp !== null && m.training_days > 0 ? m.training_end_timestamp - m.training_days * DAY_MS : null;
};

function verdictFor(v: DiscoveredVersion, c: SelectionCandidate | undefined, sel: SelectionResult, servingSymbols: string[], serving: ServingMap, pinned: string | null): ModelVerdict {
  const complete = v.artifacts.length > 0 && v.artifacts.every((a) => a.complete);
  if (!c?.compatible) {
    if (!complete) {
      const problems = v.artifacts.flatMap((a) => a.problems.map((p) => `${a.key}: ${p}`));
      return { kind: 'incomplete', reason: `rejected: incomplete (${problems.join('; ') || 'no artifact'})` };
    }
    return { kind: 'rejected', reason: `rejected: ${c?.rejectReason ?? 'incompatible'}` };
  }
  if (servingSymbols.length) {
    const why = pinned === v.version ? 'pinned by the operator' : sel.winner === v.version ? 'highest score' : 'promoted for them';
    return { kind: 'serving', reason: `serves ${servingSymbols.join(', ')} (${why})` };
  }
  if (pinned === v.version) return { kind: 'pinned', reason: `pinned, but serves no symbol of the universe` };
  if (sel.winner === v.version) return { kind: 'selected', reason: 'highest score; every symbol it covers is served by a promoted version' };
  const covered = c.trainedSymbols.filter((s) => serving.has(s));
  const others = covered.map((s) => `${s} is served by ${serving.get(s)?.artifact.version ?? 'none'}`);
  const lost = c.lostBecause ?? (sel.winner ? `lost to ${sel.winner}` : 'not selected');
  return { kind: sel.winner ? 'outscored' : 'unscored', reason: [`lost to ${sel.winner ?? '-'}: ${lost}`, ...others].join('; ') };
}

export function projectModels(versions: readonly DiscoveredVersion[], sel: SelectionResult, config: Config, serving: ServingMap): ModelVersionView[] {
  const byVersion = new Map(sel.candidates.map((c) => [c.version, c]));
  const servedBy = new Map<string, string[]>();
  for (const [symbol, s] of serving) if (s) servedBy.set(s.artifact.version, [...(servedBy.get(s.artifact.version) ?? []), symbol]);
  const pinned = config.model.pinned_version;
  return versions.map((v) => {
    const c = byVersion.get(v.version);
    const metas = v.artifacts.map((a) => a.metadata).filter((m) => m !== null);
    const meta = v.artifacts.find((a) => a.complete && a.metadata)?.metadata ?? metas[0] ?? null;
    const servingSymbols = (servedBy.get(v.version) ?? []).sort();
    const starts = v.artifacts.map(trainingStartOf).filter((t): t is number => t !== null);
    const created = v.artifacts.map(createdAtOf).filter((t): t is number => t !== null);
    return {
      version: v.version,
      complete: v.artifacts.length > 0 && v.artifacts.every((a) => a.complete),
      problems: v.artifacts.flatMap((a) => a.problems.map((p) => `${a.key}: ${p}`)),
      trainingMode: c?.trainingMode ?? meta?.training_mode ?? 'single_symbol',
      encoding: c?.encoding ?? meta?.symbol_encoding_type ?? 'one_hot',
      trainedSymbols: c?.trainedSymbols.length ? c.trainedSymbols : [...new Set(v.artifacts.flatMap((a) => a.servesSymbols))].sort(),
      trainingDays: Math.max(0, ...metas.map((m) => m.training_days ?? 0)),
      trainingEnd: c?.trainingEnd ?? meta?.training_end_timestamp ?? null,
      compatible: c?.compatible ?? false,
      rejectReason: c?.rejectReason ?? null,
      score: c?.score ?? null,
      selected: sel.winner === v.version,
      pinned: pinned === v.version,
      warnings: [...new Set(v.artifacts.flatMap((a) => a.warnings.map((w) => `${a.key}: ${w}`)))],
      servingSymbols,
      verdict: verdictFor(v, c, sel, servingSymbols, serving, pinned),
      featureHash: meta?.feature_schema_hash ?? null,
      trainingStart: starts.length ? Math.min(...starts) : null,
      createdAt: created.length ? Math.max(...created) : null,
      // What data made each artifact (issue 13: every model says what it was trained on).
      dataSources: [...new Set(v.artifacts.map((a) => describeProvenance(a.metadata?.data_source)))],
    };
  });
}

export function projectCoverage(
  versions: readonly DiscoveredVersion[],
  report: CoverageReport | null,
  config: Config,
  serving: ServingMap,
  jobs: readonly JobView[],
): CoverageRowView[] {
  return (report?.rows ?? []).map((row) => {
    const servingVersion = serving.get(row.symbol)?.artifact.version ?? null;
    const cells: CoverageCell[] = [];
    for (const v of versions) {
      for (const a of v.artifacts) {
        if (!a.servesSymbols.includes(row.symbol)) continue;
        const mismatch = a.complete ? artifactMismatch(config, a) : null;
        const state: CoverageCell['state'] = !a.complete ? 'incomplete' : mismatch ? 'incompatible' : v.version === servingVersion ? 'serving' : 'available';
        cells.push({
          version: v.version,
          state,
          trainedFrom: trainingStartOf(a),
          trainedTo: a.metadata?.training_end_timestamp ?? null,
          featureHash: a.metadata?.feature_schema_hash?.slice(0, 12) ?? null,
          createdAt: createdAtOf(a),
          note: !a.complete ? a.problems.slice(0, 2).join('; ') : (mismatch ?? a.key),
        });
      }
    }
    const job = jobs.find((j) => j.symbol === row.symbol && (j.state === 'queued' || j.state === 'running'));
    return {
      symbol: row.symbol,
      tier: row.tier,
      state: row.state,
      reason: row.reason,
      servingVersion,
      cells,
      job: job ? { id: job.id, state: job.state, etaS: job.etaS } : null,
    };
  });
}

/**
 * Which model version serves the current config. Pure: (config, discovered models, now) -> decision.
 *
 * Compatible = complete and trained the way the config asks (same training_mode; in multi_symbol
 * mode also the same symbol encoding, since inputs are shaped by it; every model kind that
 * model.models lists). Among compatible versions:
 *   score = 10 x trained symbols + recency (max(0, 365 - age in whole days), newer is more)
 *           + version (major x 100 + minor)
 * highest total wins, ties go to the higher version. A pinned version overrides the score when it
 * exists and is compatible; otherwise the pin is reported as ignored and the score decides.
 */
import type { Config } from '../config/schema.js';
import type { DiscoveredArtifact, DiscoveredVersion } from '../registry/discover.js';
import type { SymbolEncoding, TrainingMode } from '../models/metadata.js';
import { compareVersions, parseVersion } from '../registry/version.js';
import { modelKindsOf } from '../models/artifact-files.js';

export const DAY_MS = 86_400_000;

const SOURCE_WORDS: Record<string, string> = { sim: 'simulator', csv: 'CSV', exchange: 'exchange' };

export interface ScoreParts {
  symbols: number;
  recency: number;
  version: number;
  total: number;
}

export interface SelectionCandidate {
  version: string;
  compatible: boolean;
  rejectReason: string | null;
  /** Null for incompatible versions (they are not scored). */
  score: ScoreParts | null;
  trainingMode: TrainingMode | null;
  encoding: SymbolEncoding | null;
  trainedSymbols: string[];
  /** Newest training end among the compatible artifacts (ms), null when unknown. */
  trainingEnd: number | null;
  /** Why this version did not win (null for the winner). */
  lostBecause: string | null;
}

export interface PinOutcome {
  version: string;
  honoured: boolean;
  reason: string;
}

export interface SelectionResult {
  winner: string | null;
  reason: string;
  pin: PinOutcome | null;
  candidates: SelectionCandidate[];
}

/** Complete artifacts of a version that match the config's mode (and encoding in multi mode). */
export function compatibleArtifacts(config: Config, v: DiscoveredVersion): DiscoveredArtifact[] {
  return v.artifacts.filter((a) => a.complete && a.metadata && artifactMismatch(config, a) === null);
}

/** Why an artifact does not fit the config, or null when it does (completeness not judged here). */
export function artifactMismatch(config: Config, a: DiscoveredArtifact): string | null {
  const m = a.metadata;
  if (!m) return 'no readable metadata';
  if (m.training_mode !== config.model.training_mode) return `training mode ${m.training_mode}, config wants ${config.model.training_mode}`;
  if (config.model.training_mode === 'multi_symbol' && m.symbol_encoding_type !== config.model.symbol_encoding) {
    return `symbol encoding ${m.symbol_encoding_type}, config wants ${config.model.symbol_encoding}`;
  }
  // data: a model trained on another kind of source never serves these prices (unknown = older artifact: allowed).
  const trainedOn = m.data_source?.kind;
  if (trainedOn && trainedOn !== config.data.source && !config.model.allow_foreign_source) {
    return `trained on ${SOURCE_WORDS[trainedOn] ?? trainedOn} data, the engine reads ${SOURCE_WORDS[config.data.source]} prices (model.allow_foreign_source: false)`;
  }
  // A partial artifact (e.g. `kilo train --model ppo`) would serve an ensemble the operator did not ask for.
  const has = modelKindsOf(m.files);
  const missing = config.model.models.filter((k) => !has.includes(k));
  if (missing.length) return `holds ${has.join(', ') || 'no model'}; model.models asks for ${config.model.models.join(', ')} (missing ${missing.join(', ')})`;
  return null;
}

export function recencyPoints(end: number | null, now: number): number {
  if (end === null) return 0;
  const ageDays = Math.floor((now - end) / DAY_MS);
  return Math.min(365, Math.max(0, 365 - ageDays));
}

export function versionPoints(version: string): number {
  const p = parseVersion(version);
  return p ? p.major * 100 + p.minor : 0;
}

function candidateFor(config: Config, v: DiscoveredVersion, now: number): SelectionCandidate {
  const first = v.artifacts.find((a) => a.complete && a.metadata) ?? v.artifacts.find((a) => a.metadata);
  const base = {
    version: v.version,
    trainingMode: first?.metadata?.training_mode ?? null,
    encoding: first?.metadata?.symbol_encoding_type ?? null,
    lostBecause: null,
  };
  const complete = v.artifacts.filter((a) => a.complete);
  if (complete.length === 0) {
    const problems = v.artifacts.flatMap((a) => a.problems.map((p) => `${a.key}/${p}`));
    const reason = v.artifacts.length === 0 ? 'empty version folder' : `incomplete: ${problems.slice(0, 3).join('; ')}`;
    return { ...base, compatible: false, rejectReason: reason, score: null, trainedSymbols: [], trainingEnd: null };
  }
  const fit = compatibleArtifacts(config, v);
  if (fit.length === 0) {
    const why = artifactMismatch(config, complete[0]) ?? 'not compatible';
    return { ...base, compatible: false, rejectReason: why, score: null, trainedSymbols: [], trainingEnd: null };
  }
  const trained = [...new Set(fit.flatMap((a) => a.metadata?.trained_symbols ?? []))].sort();
  const ends = fit.map((a) => a.metadata?.training_end_timestamp ?? null).filter((e): e is number => e !== null);
  const trainingEnd = ends.length ? Math.max(...ends) : null;
  const symbols = 10 * trained.length;
  const recency = recencyPoints(trainingEnd, now);
  const version = versionPoints(v.version);
  return {
    ...base,
    trainingMode: fit[0].metadata?.training_mode ?? base.trainingMode,
    encoding: fit[0].metadata?.symbol_encoding_type ?? base.encoding,
    compatible: true,
    rejectReason: null,
    score: { symbols, recency, version, total: symbols + recency + version },
    trainedSymbols: trained,
    trainingEnd,
  };
}

const byScore = (a: SelectionCandidate, b: SelectionCandidate): number =>
  (b.score?.total ?? -1) - (a.score?.total ?? -1) || compareVersions(b.version, a.version);

export function selectBestModel(config: Config, models: readonly DiscoveredVersion[], now: number): SelectionResult {
  const candidates = models.map((v) => candidateFor(config, v, now));
  const ranked = candidates.filter((c) => c.compatible).sort(byScore);
  const best = ranked[0] ?? null;

  let pin: PinOutcome | null = null;
  let winner = best;
  let reason = best ? `v${best.version} has the highest score (${best.score?.total})` : 'no compatible complete model';
  const pinned = config.model.pinned_version;
  if (pinned) {
    const c = candidates.find((x) => x.version === pinned);
    if (!c) pin = { version: pinned, honoured: false, reason: `pinned v${pinned} not found; falling back to the score` };
    else if (!c.compatible) pin = { version: pinned, honoured: false, reason: `pinned v${pinned} is not usable (${c.rejectReason}); falling back to the score` };
    else {
      pin = { version: pinned, honoured: true, reason: `v${pinned} is pinned in config (model.pinned_version)` };
      winner = c;
      reason = pin.reason;
    }
  }

  for (const c of candidates) {
    if (c === winner) continue;
    if (!c.compatible) c.lostBecause = c.rejectReason;
    else if (pin?.honoured) c.lostBecause = `v${pin.version} is pinned`;
    else if (winner && c.score && winner.score) {
      c.lostBecause =
        c.score.total < winner.score.total
          ? `score ${c.score.total} < ${winner.score.total}`
          : `tied at ${c.score.total}; the higher version v${winner.version} wins`;
    }
  }
  return { winner: winner?.version ?? null, reason, pin, candidates };
}

/**
 * Text for `kilo models`: per version what is on disk (verified against the manifest), the config's
 * needs and the selection, then what serves each symbol and how it was chosen, then the quarantine.
 */
import type { Config } from '../config/schema.js';
import { artifactMismatch, type SelectionResult } from '../policy/selection.js';
import type { DiscoveredArtifact, DiscoveredVersion } from './discover.js';
import type { QuarantineNote } from './quarantine.js';
import type { SymbolServing } from './registry.js';

const day = (t: number | null | undefined): string => (t === null || t === undefined ? 'unknown' : new Date(t).toISOString().slice(0, 10));

export interface ModelsReportExtra {
  /** One row per symbol (registry.servingFor). */
  serving?: readonly SymbolServing[];
  quarantine?: readonly QuarantineNote[];
}

function versionState(v: DiscoveredVersion): string {
  if (v.artifacts.length === 0) return 'EMPTY';
  if (v.artifacts.some((a) => a.corrupt)) return 'CORRUPT';
  if (v.artifacts.some((a) => !a.complete)) return 'INCOMPLETE';
  return v.artifacts.every((a) => a.verified) ? 'files complete (sha256 verified)' : 'files complete (sizes checked)';
}

function artifactState(a: DiscoveredArtifact, config: Config): string {
  const base = a.corrupt ? 'CORRUPT' : !a.complete ? 'incomplete' : a.verified ? 'files verified' : 'files exist';
  const mismatch = a.complete ? artifactMismatch(config, a) : null;
  return mismatch ? `${base}, not used: ${mismatch}` : base;
}

export function formatModelsReport(modelsDir: string, versions: readonly DiscoveredVersion[], selection: SelectionResult, config: Config, extra: ModelsReportExtra = {}): string {
  const out: string[] = [];
  out.push(`Models in ${modelsDir}: ${versions.length === 0 ? 'none found' : `${versions.length} version${versions.length === 1 ? '' : 's'}`}`);
  for (const v of versions) {
    out.push('');
    out.push(`v${v.version}  ${versionState(v)}  (${(v.sizeBytes / 1024).toFixed(0)} KiB)`);
    for (const a of v.artifacts) {
      const m = a.metadata;
      out.push(`  ${a.key}: ${artifactState(a, config)}`);
      if (m) {
        out.push(`    training mode: ${m.training_mode}   encoding: ${m.symbol_encoding_type}   models: ${[...new Set(m.files.map((f) => f.type))].filter((t) => t === 'gru' || t === 'gbdt' || t === 'ppo').join(', ') || 'none'}`);
        out.push(`    trained symbols: ${m.trained_symbols.length ? m.trained_symbols.join(', ') : '(none recorded)'}`);
        out.push(`    training days: ${m.training_days}   training end: ${day(m.training_end_timestamp)}`);
      }
      for (const p of a.problems) out.push(`    problem: ${p}`);
      for (const w of a.warnings) out.push(`    note: ${w}`);
    }
  }
  const m = config.model;
  out.push('');
  out.push(
    `Config requires: training_mode ${m.training_mode}${m.training_mode === 'multi_symbol' ? `, symbol encoding ${m.symbol_encoding}` : ''}` +
      `, models ${m.models.join(', ')}${m.pinned_version ? `, pinned v${m.pinned_version}` : ''}`,
  );
  const win = selection.candidates.find((c) => c.version === selection.winner);
  if (!win) out.push('Selected: none (no compatible complete model)');
  else {
    const s = win.score;
    out.push(`Selected: v${win.version}${s ? `  score ${s.total} = symbols ${s.symbols} + recency ${s.recency} + version ${s.version}` : ''}`);
    out.push(`  why: ${selection.reason}`);
  }
  if (selection.pin && !selection.pin.honoured) out.push(`  pin: ${selection.pin.reason}`);
  for (const c of selection.candidates) {
    if (c.version === selection.winner) continue;
    const s = c.score ? ` (score ${c.score.total} = ${c.score.symbols} + ${c.score.recency} + ${c.score.version})` : '';
    out.push(`  v${c.version} ${c.compatible ? 'lost' : 'rejected'}: ${c.lostBecause ?? c.rejectReason ?? ''}${s}`);
  }
  if (extra.serving?.length) {
    out.push('');
    out.push('Serving per symbol (pinned > promoted > selected > newest; fallback when the chosen one cannot serve):');
    const w = Math.max(...extra.serving.map((r) => r.symbol.length));
    for (const r of extra.serving) {
      out.push(`  ${r.symbol.padEnd(w)}  ${(r.version ? `v${r.version}` : '-').padEnd(6)}  ${(r.via ?? (r.fallback ? 'fallback' : 'none')).padEnd(8)}  ${r.reason}`);
    }
  }
  if (extra.quarantine?.length) {
    out.push('');
    out.push('Quarantined (moved aside for inspection, never deleted):');
    for (const q of extra.quarantine) out.push(`  v${q.version}/${q.key} at ${q.at} -> ${q.movedTo}: ${q.reason}`);
  }
  return `${out.join('\n')}\n`;
}

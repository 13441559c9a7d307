/** Text for `kilo models`: per version what is on disk, then the config's needs and the selection. */
import type { Config } from '../config/schema.js';
import type { SelectionResult } from '../policy/selection.js';
import type { DiscoveredVersion } from './discover.js';

const day = (t: number | null | undefined): string => (t === null || t === undefined ? 'unknown' : new Date(t).toISOString().slice(0, 10));

export function formatModelsReport(modelsDir: string, versions: readonly DiscoveredVersion[], selection: SelectionResult, config: Config): string {
  const out: string[] = [];
  out.push(`Models in ${modelsDir}: ${versions.length === 0 ? 'none found' : `${versions.length} version${versions.length === 1 ? '' : 's'}`}`);
  for (const v of versions) {
    const complete = v.artifacts.length > 0 && v.artifacts.every((a) => a.complete);
    out.push('');
    out.push(`v${v.version}  ${complete ? 'files complete' : v.artifacts.length === 0 ? 'EMPTY' : 'INCOMPLETE'}  (${(v.sizeBytes / 1024).toFixed(0)} KiB)`);
    for (const a of v.artifacts) {
      const m = a.metadata;
      out.push(`  ${a.key}: ${a.complete ? 'files exist' : 'incomplete'}`);
      if (m) {
        out.push(`    training mode: ${m.training_mode}   encoding: ${m.symbol_encoding_type}`);
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
      `${m.pinned_version ? `, pinned v${m.pinned_version}` : ''}`,
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
  return `${out.join('\n')}\n`;
}

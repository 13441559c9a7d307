import type { DataProvenance } from '../models/metadata.js';

const day = (t: number | null): string => (t === null ? '-' : new Date(t).toISOString().slice(0, 16).replace('T', ' '));

/** One line for `kilo models` and the models panel: what data trained an artifact. */
export function describeProvenance(p: DataProvenance | undefined): string {
  if (!p) return 'data source not recorded (trained before provenance was kept)';
  const where =
    p.kind === 'exchange'
      ? `exchange ${p.exchange}${p.sandbox ? ' (sandbox)' : ''} via ${p.api_host}`
      : p.kind === 'csv'
        ? `CSV ${p.dir}${Object.keys(p.files).length ? ` (${Object.entries(p.files).map(([f, h]) => `${f} sha256 ${h.slice(0, 12)}`).join(', ')})` : ''}`
        : `simulator seed ${p.seed}`;
  const c = p.candles;
  return `${where}; ${c.count} candles ${day(c.from)} .. ${day(c.to)}, sha256 ${c.sha256.slice(0, 12)}`;
}

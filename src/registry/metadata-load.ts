/**
 * Reading metadata.json written by any past version of the trainer. Fields that older trainers did
 * not write get documented defaults, each noted as a warning so `kilo models` can show it:
 *
 * | missing field            | default            | effect                                   |
 * |--------------------------|--------------------|------------------------------------------|
 * | training_mode            | single_symbol      | the seed's original mode                 |
 * | symbol_encoding_type     | one_hot            | the seed's original encoding             |
 * | trained_symbols          | []                 | scores 0 symbol points: never preferred  |
 * | training_days            | 0                  |                                          |
 * | training_end_timestamp   | created_at, else null (no recency points)                     |
 * | version                  | the folder's version                                          |
 * | files                    | inferred from the file names (manifest, else the folder)      |
 * | timeframe/window/horizon | 1h / 48 / 1        | the seed's defaults                      |
 */
import type { ModelFileEntry, ModelMetadata, SymbolEncoding, TrainingMode } from '../models/metadata.js';
import { inferFileEntries, modelKindsOf } from '../models/artifact-files.js';
import { parseEdgeReport } from '../evaluation/edge.js';

export interface NormalizedMetadata extends Omit<ModelMetadata, 'training_end_timestamp'> {
  /** null when neither the field nor created_at says when training ended. */
  training_end_timestamp: number | null;
}

export interface MetadataLoadResult {
  metadata: NormalizedMetadata;
  warnings: string[];
}

export class MetadataShapeError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'MetadataShapeError';
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Normalise parsed metadata JSON. Throws MetadataShapeError only when the value is not an object
 * or a present field has the wrong type (a wrong type is a broken file, not an old one).
 */
export function normalizeMetadata(raw: unknown, file: string, folderVersion: string, manifestFiles: string[]): MetadataLoadResult {
  if (!isObj(raw)) throw new MetadataShapeError(file, 'expected a JSON object');
  const warnings: string[] = [];
  const bad = (key: string, expected: string): never => {
    throw new MetadataShapeError(file, `"${key}" should be ${expected}, got ${JSON.stringify(raw[key])}`);
  };
  const defaulted = (key: string, shown: string): void => {
    warnings.push(`${key} missing, assumed ${shown}`);
  };

  let trainingMode: TrainingMode = 'single_symbol';
  if (raw.training_mode === undefined) defaulted('training_mode', 'single_symbol');
  else if (raw.training_mode === 'single_symbol' || raw.training_mode === 'multi_symbol') trainingMode = raw.training_mode;
  else bad('training_mode', '"single_symbol" or "multi_symbol"');

  let encoding: SymbolEncoding = 'one_hot';
  if (raw.symbol_encoding_type === undefined) defaulted('symbol_encoding_type', 'one_hot');
  else if (raw.symbol_encoding_type === 'one_hot' || raw.symbol_encoding_type === 'index') encoding = raw.symbol_encoding_type;
  else bad('symbol_encoding_type', '"one_hot" or "index"');

  let trained: string[] = [];
  if (raw.trained_symbols === undefined) defaulted('trained_symbols', '[] (never preferred)');
  else if (Array.isArray(raw.trained_symbols) && raw.trained_symbols.every((s) => typeof s === 'string')) trained = raw.trained_symbols as string[];
  else bad('trained_symbols', 'a list of symbols');

  const num = (key: string, fallback: number, note = true): number => {
    const v = raw[key];
    if (v === undefined) {
      if (note) defaulted(key, String(fallback));
      return fallback;
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) return bad(key, 'a number');
    return v;
  };
  const str = (key: string, fallback: string): string => {
    const v = raw[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'string') return bad(key, 'a string');
    return v;
  };

  const createdAt = str('created_at', '');
  let end: number | null = null;
  if (raw.training_end_timestamp === undefined) {
    const parsed = createdAt ? Date.parse(createdAt) : NaN;
    end = Number.isFinite(parsed) ? parsed : null;
    defaulted('training_end_timestamp', end === null ? 'unknown (no recency points)' : `created_at ${createdAt}`);
  } else end = num('training_end_timestamp', 0);

  const version = folderVersion;
  if (raw.version === undefined) defaulted('version', `${folderVersion} (from the folder)`);
  else if (typeof raw.version !== 'string') bad('version', 'a string like "1.0"');
  else if (raw.version !== folderVersion) warnings.push(`metadata says version ${raw.version} but the folder is v${folderVersion}; the folder wins`);

  let files: ModelFileEntry[];
  if (raw.files === undefined) {
    files = inferFileEntries(manifestFiles);
    warnings.push(`files missing (an older artifact): inferred from the file names (${modelKindsOf(files).join(', ') || 'no model files'})`);
  } else if (Array.isArray(raw.files) && raw.files.every((f) => isObj(f) && typeof f.file === 'string')) {
    files = raw.files as ModelFileEntry[];
  } else return bad('files', 'a list of {type, file}');

  const metadata: NormalizedMetadata = {
    version,
    trained_symbols: trained,
    training_days: num('training_days', 0),
    training_end_timestamp: end,
    min_history_days_per_symbol: num('min_history_days_per_symbol', 0, false),
    training_mode: trainingMode,
    symbol_encoding_type: encoding,
    symbol_encoding_map: isObj(raw.symbol_encoding_map) ? (raw.symbol_encoding_map as Record<string, number>) : {},
    timeframe: str('timeframe', '1h'),
    window: num('window', 48, false),
    horizon: num('horizon', 1, false),
    label_threshold: num('label_threshold', 0.002, false),
    performance: isObj(raw.performance) ? (raw.performance as ModelMetadata['performance']) : {},
    feature_schema_hash: str('feature_schema_hash', ''),
    backend: str('backend', 'unknown'),
    created_at: createdAt,
    files,
  };
  if (typeof raw.training_duration_s === 'number') metadata.training_duration_s = raw.training_duration_s;
  if (raw.profile === 'full' || raw.profile === 'quick' || raw.profile === 'retrain') metadata.profile = raw.profile;
  if (typeof raw.rnn_kernel === 'string') metadata.rnn_kernel = raw.rnn_kernel;
  if (isObj(raw.data_source) && typeof raw.data_source.kind === 'string') metadata.data_source = raw.data_source as unknown as ModelMetadata['data_source'];
  // The walk-forward verdict the edge gate reads; a malformed one is no verdict (the gate holds), said once.
  if (raw.edge !== undefined) {
    const e = parseEdgeReport(raw.edge);
    if ('edge' in e) metadata.edge = e.edge;
    else warnings.push(`${e.error}; the walk-forward verdict is ignored (no edge known)`);
  }
  return { metadata, warnings };
}

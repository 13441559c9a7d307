/**
 * Which model a file of an artifact folder belongs to, read from its name (the seed convention
 * `{model_type}_model_{key}_{timestamp}.{ext}`, `preprocessor_*`, `feature_metadata_*`). Older
 * trainers wrote metadata.json without a `files` list, and some folders have no manifest.json:
 * the list is then inferred from the names. Kept free of tfjs so discovery stays light.
 */
import { METADATA_FILE, MANIFEST_FILE, type ModelFileEntry, type ModelKind } from './metadata.js';

const PREFIXES: [string, ModelFileEntry['type']][] = [
  ['gru_model_', 'gru'],
  // The seed's recurrent model was an LSTM; kilo files both cells under the 'gru' kind.
  ['lstm_model_', 'gru'],
  ['gbdt_model_', 'gbdt'],
  ['ppo_model_', 'ppo'],
  ['preprocessor_', 'preprocessor'],
  ['feature_metadata_', 'feature_metadata'],
];

/** The kind of a file by its name, or null for a name that is not a model file. */
export function fileKindFromName(name: string): ModelFileEntry['type'] | null {
  for (const [prefix, type] of PREFIXES) if (name.startsWith(prefix)) return type;
  return null;
}

/** metadata.files rebuilt from the names in a folder (or a manifest); other names are left out. */
export function inferFileEntries(names: readonly string[]): ModelFileEntry[] {
  return [...names]
    .filter((n) => n !== METADATA_FILE && n !== MANIFEST_FILE && !n.startsWith('.'))
    .sort()
    .flatMap((file) => {
      const type = fileKindFromName(file);
      return type ? [{ type, file }] : [];
    });
}

/** Model kinds (gru, gbdt, ppo) an artifact holds, from its file list. */
export function modelKindsOf(files: readonly ModelFileEntry[]): ModelKind[] {
  const kinds = new Set(files.map((f) => f.type));
  return (['gru', 'gbdt', 'ppo'] as const).filter((k) => kinds.has(k));
}

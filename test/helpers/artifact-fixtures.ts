/**
 * Fixture artifact folders shaped like the trainer's output:
 * models/v<version>/<key>/{metadata.json, manifest.json, model files}. Dummy model bytes are
 * enough for the registry, which never loads a model.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const DAY = 86_400_000;

export interface FixtureSpec {
  version: string;
  /** Folder name; default "multi" for multi_symbol, else the first symbol's stem. */
  key?: string;
  mode?: 'single_symbol' | 'multi_symbol';
  encoding?: 'one_hot' | 'index';
  symbols?: string[];
  /** Training end (ms). */
  trainingEnd?: number;
  trainingDays?: number;
  durationS?: number;
  profile?: 'full' | 'quick';
  /** Metadata keys to leave out (to imitate old trainers). */
  omit?: string[];
  /** Model files: name -> size in bytes (the kind is read from the name, as the registry does). */
  files?: Record<string, number>;
  /** Raw metadata.json text instead of the generated one. */
  rawMetadata?: string;
  /** Skip writing this model file after listing it in the manifest. */
  dropFile?: string;
}

export async function tempHome(prefix = 'kilo-h4-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function writeArtifact(modelsDir: string, spec: FixtureSpec): Promise<string> {
  const mode = spec.mode ?? 'single_symbol';
  const symbols = spec.symbols ?? ['BTC/USDT'];
  const key = spec.key ?? (mode === 'multi_symbol' ? 'multi' : symbols[0].replace('/', '-'));
  const dir = join(modelsDir, `v${spec.version}`, key);
  await mkdir(dir, { recursive: true });
  // One file per model kind by default: a partial artifact never serves a config asking for all three.
  const files = spec.files ?? {
    [`gru_model_${key}.json`]: 64,
    [`gru_model_${key}.bin`]: 256,
    [`gbdt_model_${key}.json`]: 96,
    [`ppo_model_${key}.json`]: 48,
    [`ppo_model_${key}.bin`]: 128,
  };
  const manifest: Record<string, { sha256: string; size: number }> = {};
  for (const [name, size] of Object.entries(files)) {
    const bytes = Buffer.alloc(size, name.length % 251);
    manifest[name] = { sha256: createHash('sha256').update(bytes).digest('hex'), size };
    if (name !== spec.dropFile) await writeFile(join(dir, name), bytes);
  }
  const meta: Record<string, unknown> = {
    version: spec.version,
    trained_symbols: symbols,
    training_days: spec.trainingDays ?? 365,
    training_end_timestamp: spec.trainingEnd ?? Date.UTC(2026, 0, 1),
    min_history_days_per_symbol: 90,
    training_mode: mode,
    symbol_encoding_type: spec.encoding ?? 'one_hot',
    symbol_encoding_map: Object.fromEntries(symbols.map((s, i) => [s, i])),
    timeframe: '1h',
    window: 48,
    horizon: 1,
    label_threshold: 0.002,
    performance: {},
    feature_schema_hash: 'fixture',
    backend: 'wasm',
    created_at: new Date(spec.trainingEnd ?? Date.UTC(2026, 0, 1)).toISOString(),
    files: Object.keys(files).map((file) => ({ type: /^(gru|gbdt|ppo)_model_/.exec(file)?.[1] ?? 'gru', file })),
    training_duration_s: spec.durationS ?? 120,
    profile: spec.profile ?? 'full',
  };
  for (const k of spec.omit ?? []) delete meta[k];
  // Like src/models/artifact.ts, the manifest covers metadata.json too.
  const metaText = spec.rawMetadata ?? JSON.stringify(meta, null, 2);
  await writeFile(join(dir, 'metadata.json'), metaText);
  manifest['metadata.json'] = { sha256: createHash('sha256').update(metaText).digest('hex'), size: Buffer.byteLength(metaText) };
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return dir;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `bin/kilo.js --home <home> ...args` in a child process (the real CLI, from source via tsx). */
export function runKilo(home: string, args: string[]): Promise<CliResult> {
  const bin = fileURLToPath(new URL('../../bin/kilo.js', import.meta.url));
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, '--home', home, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { readFile, writeFile, cp, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { defaultConfig, type Config } from '../../src/config/schema.js';

export const DATA = resolve(__dirname, '../../../shared/data/ohlcv');
export const hasData = existsSync(DATA);

/** A small, fast engine config: trees only, short quick profile, everything under `home`. */
export function testConfig(over: (c: Config) => void = () => undefined): Config {
  const c = defaultConfig();
  c.data.source = 'csv';
  c.data.csv_dir = DATA;
  c.universe.symbols = ['BTC/USDT'];
  c.universe.core_symbols = [];
  c.assets.pre_trained = [];
  c.assets.quick_train = ['BTC/USDT', 'ETH/USDT'];
  c.model.models = ['gbdt'];
  c.model.window = 16;
  c.training.quick = { epochs: 2, patience: 1, trees: 15, data_days: 120, batch_size: 256, ppo_steps: 256 };
  // Every training quick (the designed full/retrain recipes are tested on their own, with tiny profiles).
  c.training.auto_profile = 'quick';
  // The engine's plumbing on tiny models: their trades go through the broker whatever their
  // walk-forward verdict (the edge gate is on by default and tested with it on in edge-serving.test.ts).
  c.model.require_edge = false;
  c.resources.max_concurrent_trainings = 1;
  c.resources.training_timeout_s = 120;
  c.logging.file = 'data/trading.log';
  over(c);
  return c;
}

/** Poll `fn` until it returns a truthy value or the deadline passes (no fixed sleeps). */
export async function waitFor<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 60_000, everyMs = 20): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Rewrite one file of an artifact and fix its manifest, so the change is "valid" on disk. */
export async function rewriteArtifactFile(dir: string, match: (f: string) => boolean, edit: (text: string) => string): Promise<string> {
  const file = (await readdir(dir)).find(match);
  if (!file) throw new Error(`no file matches in ${dir}`);
  const text = edit(await readFile(join(dir, file), 'utf8'));
  await writeFile(join(dir, file), text);
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
  const buf = Buffer.from(text);
  manifest[file] = { sha256: createHash('sha256').update(buf).digest('hex'), size: buf.length };
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return file;
}

export const copyDir = (from: string, to: string) => cp(from, to, { recursive: true });

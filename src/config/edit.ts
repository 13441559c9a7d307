import { readFile } from 'node:fs/promises';
import YAML, { LineCounter, isScalar } from 'yaml';
import { configSchema } from './schema.js';
import { ConfigError, formatProblem, type ConfigProblem } from './errors.js';
import { issuesToProblems, parseConfigText, readConfigText } from './load.js';
import type { Config } from './schema.js';
import { CONFIG_TEMPLATE } from './template.js';
import { writeFileAtomic } from '../util/atomic.js';

/**
 * Set dotted keys (`{"model.window": 64}`) through the yaml Document API so comments and keys we do
 * not know survive. The result is validated before anything is written; on error the file is untouched.
 */
export async function updateConfigFile(path: string, patch: Record<string, unknown>, opts: { keepUnknown?: boolean } = {}): Promise<void> {
  const text = await readConfigText(path);
  // Refuse to edit a file that is already broken: the operator should see its own errors first.
  // With keepUnknown (the setup wizard) the operator's own keys kilo does not know are left as they are.
  const kept = opts.keepUnknown ? new Set(parseKeepingUnknown(text, path).unknown.map((p) => p.path)) : new Set<string>();
  const doc = opts.keepUnknown ? YAML.parseDocument(text, { uniqueKeys: true }) : parseConfigText(text, path).doc;
  for (const [dotted, value] of Object.entries(patch)) {
    const keys = dotted.split('.');
    if (keys.some((k) => k === '')) throw new ConfigError(path, [{ path: dotted, line: null, message: 'empty key segment' }]);
    const existing = doc.getIn(keys, true);
    if (isScalar(existing) && (value === null || typeof value !== 'object')) {
      // Keep the node (and its inline comment), change only its value.
      existing.value = value;
    } else {
      try {
        doc.setIn(keys, doc.createNode(value));
      } catch {
        // yaml refuses to descend into a scalar ("exchange.id.x"): say which key, touch nothing.
        throw new ConfigError(path, [{ path: dotted, line: null, message: 'cannot set a key inside a value that is not a map' }]);
      }
    }
  }
  const next = doc.toString();
  const lc = new LineCounter();
  const reparsed = YAML.parseDocument(next, { lineCounter: lc });
  const raw: unknown = reparsed.toJS() ?? {};
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    // Only keys that were in the file before the patch may stay unknown: a patch never adds one.
    const problems = issuesToProblems(result.error.issues, reparsed, lc, raw).filter((p) => !(p.message === UNKNOWN && kept.has(p.path)));
    if (problems.length) throw new ConfigError(path, problems);
  }
  await writeFileAtomic(path, next);
}

/** Write the shipped, commented default config. Refuses to overwrite unless asked. */
export async function writeDefaultConfig(path: string, opts: { overwrite?: boolean } = {}): Promise<void> {
  if (!opts.overwrite) {
    const exists = await readFile(path).then(
      () => true,
      () => false,
    );
    if (exists) throw new ConfigExistsError(path);
  }
  await writeFileAtomic(path, CONFIG_TEMPLATE);
}

export class ConfigExistsError extends Error {
  constructor(readonly file: string) {
    super(`config file already exists: ${file}`);
    this.name = 'ConfigExistsError';
  }
}

const UNKNOWN = 'unknown key';

export interface LenientConfig {
  config: Config;
  /** Keys kilo does not know, with their lines: kept in the file, not used. */
  unknown: ConfigProblem[];
  /** One line per unknown key for the operator. */
  warnings: string[];
}

/**
 * The setup wizard's view of an existing config.yaml: every problem is an error as usual, except
 * keys kilo does not know (an operator's own notes or settings), which are warned about and left in
 * the file instead of stopping the wizard (README: "keeping comments and your other keys").
 */
export function parseKeepingUnknown(text: string, file: string): LenientConfig {
  try {
    return { config: parseConfigText(text, file).config, unknown: [], warnings: [] };
  } catch (err) {
    if (!(err instanceof ConfigError) || err.problems.some((p) => p.message !== UNKNOWN)) throw err;
    const raw = (YAML.parse(text) ?? {}) as Record<string, unknown>;
    for (const p of err.problems) {
      const keys = p.path.split('.');
      let node: unknown = raw;
      for (const k of keys.slice(0, -1)) node = node && typeof node === 'object' ? (node as Record<string, unknown>)[k] : undefined;
      if (node && typeof node === 'object') delete (node as Record<string, unknown>)[keys[keys.length - 1]];
    }
    const result = configSchema.safeParse(raw);
    if (!result.success) throw err;
    const unknown = [...err.problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    return {
      config: result.data,
      unknown,
      warnings: unknown.map((p) => `${formatProblem(file, p)} - kept in the file, not used by kilo`),
    };
  }
}

/** parseKeepingUnknown() of a file. */
export async function loadConfigKeepingUnknown(path: string): Promise<LenientConfig> {
  return parseKeepingUnknown(await readConfigText(path), path);
}

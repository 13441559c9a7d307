import { readFile } from 'node:fs/promises';
import YAML, { LineCounter, isScalar } from 'yaml';
import { configSchema } from './schema.js';
import { ConfigError } from './errors.js';
import { issuesToProblems, parseConfigText, readConfigText } from './load.js';
import { CONFIG_TEMPLATE } from './template.js';
import { writeFileAtomic } from '../util/atomic.js';

/**
 * Set dotted keys (`{"model.window": 64}`) through the yaml Document API so comments and keys we do
 * not know survive. The result is validated before anything is written; on error the file is untouched.
 */
export async function updateConfigFile(path: string, patch: Record<string, unknown>): Promise<void> {
  const text = await readConfigText(path);
  // Refuse to edit a file that is already broken: the operator should see its own errors first.
  const { doc } = parseConfigText(text, path);
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
  if (!result.success) throw new ConfigError(path, issuesToProblems(result.error.issues, reparsed, lc, raw));
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

import { CliError } from './errors.js';
import type { Config } from '../config/schema.js';

/**
 * The config for a subcommand: config.yaml when it exists (a bad one is a CliError listing every
 * problem with its key and line, exit 2, nothing written), else the shipped defaults with a note.
 */
export async function loadConfigOrDefaults(configPath: string): Promise<{ config: Config; note: string | null }> {
  const { loadConfig, ConfigNotFoundError, ConfigError } = await import('../config/load.js');
  try {
    return { config: (await loadConfig(configPath)).config, note: null };
  } catch (err) {
    if (err instanceof ConfigNotFoundError) {
      const { defaultConfig } = await import('../config/schema.js');
      return { config: defaultConfig(), note: `${configPath} not found: using the defaults (kilo setup writes one)` };
    }
    if (err instanceof ConfigError) throw new CliError(err.message, 2);
    throw err;
  }
}

export function positiveInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`${name}: expected a positive integer, got "${v}"`, 2);
  return n;
}

import { CliError } from './errors.js';
import type { Config } from '../config/schema.js';

/**
 * The config for a subcommand: config.yaml when it exists (a bad one is a CliError listing every
 * problem with its key and line, exit 2, nothing written), else the shipped defaults with a note.
 */
export async function loadConfigOrDefaults(configPath: string): Promise<{ config: Config; note: string | null }> {
  const { loadConfig, ConfigNotFoundError, ConfigError } = await import('../config/load.js');
  try {
    const { config } = await loadConfig(configPath);
    return { config, note: applyOffline(config) };
  } catch (err) {
    if (err instanceof ConfigNotFoundError) {
      const { defaultConfig } = await import('../config/schema.js');
      const config = defaultConfig();
      const notes = [`${configPath} not found: using the defaults (kilo setup writes one)`, applyOffline(config)].filter(Boolean);
      return { config, note: notes.join('; ') };
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

let offline = false;

/** `kilo --offline` (set once by main.ts before any command runs). */
export function setOffline(on: boolean): void {
  offline = on;
}

/**
 * Under `--offline` the simulator stands in for data.source, explicitly and for everything that
 * reads the config (market source, market clock, provenance, model selection), never as a silent
 * fallback. Returns the note saying so, or null.
 */
export function applyOffline(config: Config): string | null {
  if (!offline || config.data.source === 'sim') return null;
  const was = config.data.source;
  config.data.source = 'sim';
  return `--offline: the simulator (seed ${config.data.sim_seed}) instead of data.source ${was}`;
}

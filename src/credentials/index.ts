import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import YAML from 'yaml';
import type { Config } from '../config/schema.js';

/** API credentials; only ever held in memory, never logged or written by kilo. */
export interface Credentials {
  apiKey?: string;
  secret?: string;
  source: 'env' | 'file' | 'none';
  /** The file they came from, when source is 'file'. */
  file?: string;
}

export class CredentialsError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'CredentialsError';
  }
}

export const PUBLIC_ONLY = 'no API key configured: public market data only';

/**
 * Environment variables win over the file, so a deployment can override without editing disk.
 * The file must be readable by its owner only (0600): a key readable by others is refused.
 */
export async function loadCredentials(config: Config, env: NodeJS.ProcessEnv, home: string): Promise<Credentials> {
  const apiKey = env[config.exchange.api_key_env];
  const secret = env[config.exchange.api_secret_env];
  if (apiKey && secret) return { apiKey, secret, source: 'env' };
  if (apiKey || secret) {
    const missing = apiKey ? config.exchange.api_secret_env : config.exchange.api_key_env;
    throw new CredentialsError(`only one of ${config.exchange.api_key_env}/${config.exchange.api_secret_env} is set: set ${missing} too`, '(environment)');
  }
  if (!config.exchange.credentials_file) return { source: 'none' };
  const file = resolve(home, config.exchange.credentials_file);
  let mode: number;
  try {
    mode = (await stat(file)).mode & 0o777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new CredentialsError(`credentials file not found: ${file}`, file);
    throw err;
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new CredentialsError(
      `credentials file ${file} is readable by others (mode ${mode.toString(8).padStart(4, '0')}): run \`chmod 600 ${file}\``,
      file,
    );
  }
  let parsed: unknown;
  try {
    parsed = YAML.parse(await readFile(file, 'utf8')); // YAML is a superset of JSON
  } catch {
    // Never echo the parser message: it may quote the secret.
    throw new CredentialsError(`credentials file ${file} is not valid YAML/JSON (expected apiKey and secret)`, file);
  }
  const o = (parsed ?? {}) as Record<string, unknown>;
  if (typeof o.apiKey !== 'string' || typeof o.secret !== 'string' || !o.apiKey || !o.secret) {
    throw new CredentialsError(`credentials file ${file} must contain string keys apiKey and secret`, file);
  }
  return { apiKey: o.apiKey, secret: o.secret, source: 'file', file };
}

/** Replace every occurrence of the key or secret (and their URL-encoded forms) with a marker. */
export function scrubSecrets(text: string, creds: Pick<Credentials, 'apiKey' | 'secret'> | undefined): string {
  if (!creds) return text;
  let out = text;
  for (const [value, label] of [
    [creds.secret, '***secret***'],
    [creds.apiKey, '***apiKey***'],
  ] as const) {
    if (!value || value.length < 4) continue;
    for (const form of new Set([value, encodeURIComponent(value)])) out = out.split(form).join(label);
  }
  return out;
}

export const describeCredentials = (c: Credentials): string =>
  c.source === 'none' ? PUBLIC_ONLY : c.source === 'env' ? 'API key from environment (not shown)' : `API key from ${c.file} (not shown)`;

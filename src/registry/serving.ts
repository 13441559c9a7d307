/**
 * data/serving.json {symbol: version}: which version the promotion gate put in service per symbol.
 * Written atomically; a missing file is an empty map, a broken one is an error naming the file.
 */
import { readFile } from 'node:fs/promises';
import { writeJsonAtomic } from '../util/atomic.js';
import { parseVersion } from './version.js';

export type ServingMap = Record<string, string>;

export class ServingFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'ServingFileError';
  }
}

export async function readServingMap(file: string): Promise<ServingMap> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ServingFileError(file, `malformed JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ServingFileError(file, 'expected an object {symbol: version}');
  const out: ServingMap = {};
  for (const [symbol, v] of Object.entries(raw)) {
    if (typeof v !== 'string' || !parseVersion(v)) throw new ServingFileError(file, `"${symbol}" should map to a version like "1.0", got ${JSON.stringify(v)}`);
    out[symbol] = v;
  }
  return out;
}

export async function writeServingMap(file: string, map: ServingMap): Promise<void> {
  const sorted = Object.fromEntries(Object.entries(map).sort(([a], [b]) => a.localeCompare(b)));
  await writeJsonAtomic(file, sorted);
}

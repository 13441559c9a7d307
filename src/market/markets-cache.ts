import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../util/atomic.js';

/** Markets of one exchange as ccxt returned them, with the time they were fetched. */
export interface MarketsCache {
  exchange: string;
  savedAt: number;
  markets: Record<string, unknown>;
}

export const marketsCachePath = (home: string, exchangeId: string): string => join(home, 'data', `markets-${exchangeId}.json`);

export async function readMarketsCache(file: string): Promise<MarketsCache | null> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as MarketsCache;
    if (typeof parsed.savedAt !== 'number' || typeof parsed.markets !== 'object' || parsed.markets === null) return null;
    return parsed;
  } catch {
    // Missing or corrupt: treated as no cache; a fresh loadMarkets rewrites it.
    return null;
  }
}

export const writeMarketsCache = (file: string, cache: MarketsCache): Promise<void> => writeJsonAtomic(file, cache);

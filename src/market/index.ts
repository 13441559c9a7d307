import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Clock } from '../clock.js';
import type { Config } from '../config/schema.js';
import { describeCredentials, loadCredentials, type Credentials } from '../credentials/index.js';
import type { MarketDataSource } from './types.js';
import { CsvMarketSource } from './csv-source.js';
import { SimMarketSource } from './sim-source.js';
import type { CcxtSourceOptions } from './ccxt-source.js';

export * from './types.js';
export { CsvMarketSource, UnknownSymbolError } from './csv-source.js';
export { SimMarketSource, SIM_SYMBOLS, SIM_UNIVERSE } from './sim-source.js';
export { CandleStore, mergeCandles, storeSourceName } from './candle-store.js';
export { validateCandles, historyStats, cleanCandles, type ValidationReport, type Gap, type HistoryStats } from './validate.js';
export { parseCandleCsv, formatCandleCsv, readCandleCsv, CsvFormatError } from './csv.js';

export type MarketLog = (level: 'info' | 'warn', msg: string) => void;

export interface MarketSourceDeps {
  home: string;
  clock: Clock;
  log?: MarketLog;
  /** Environment for credentials; default process.env. */
  env?: NodeJS.ProcessEnv;
  credentials?: Credentials;
  /** Extra options for the ccxt source (tests inject sleep/random). */
  ccxt?: Partial<CcxtSourceOptions>;
}

export interface CreatedMarketSource {
  source: MarketDataSource;
  /** What the operator should know (fallback to the simulator, stale markets, public data only). */
  notice: string | null;
  /** Name of the candle-store folder for this source. */
  storeName: string;
}

export class CsvDirError extends Error {
  constructor(readonly dir: string) {
    super(`data.csv_dir: folder not found: ${dir}`);
    this.name = 'CsvDirError';
  }
}

/**
 * Build the configured market source. `exchange` is tried first (markets from cache or one
 * request); when it cannot be reached the simulator takes over and the notice says why.
 */
export async function createMarketSource(config: Config, deps: MarketSourceDeps): Promise<CreatedMarketSource> {
  const sim = () => new SimMarketSource(config.data.sim_seed, deps.clock, { extraSymbols: config.data.sim_extra_symbols });
  const simName = `sim-${config.data.sim_seed}`;
  if (config.data.source === 'sim') return { source: sim(), notice: null, storeName: simName };
  if (config.data.source === 'csv') {
    const dir = resolve(deps.home, config.data.csv_dir);
    const ok = await stat(dir).then((s) => s.isDirectory(), () => false);
    if (!ok) throw new CsvDirError(dir);
    return { source: new CsvMarketSource(dir, deps.clock), notice: null, storeName: 'csv' };
  }
  const creds = deps.credentials ?? (await loadCredentials(config, deps.env ?? process.env, deps.home));
  // ccxt is heavy: only loaded when the exchange is actually used.
  const { CcxtMarketSource, ExchangeUnreachableError } = await import('./ccxt-source.js');
  const source = new CcxtMarketSource(config, { home: deps.home, clock: deps.clock, credentials: creds, log: deps.log, ...deps.ccxt });
  const notes: string[] = [];
  if (creds.source === 'none') notes.push(describeCredentials(creds));
  try {
    // Quick: one retry at most, so an offline start falls back to the simulator in about a second.
    await source.ensureMarkets({ maxRetries: Math.min(1, config.exchange.max_retries) });
    if (source.marketsNotice) notes.unshift(source.marketsNotice);
    return { source, notice: notes.length ? notes.join('; ') : null, storeName: config.exchange.id };
  } catch (err) {
    if (!(err instanceof ExchangeUnreachableError)) throw err;
    await source.close().catch(() => undefined);
    const notice = `${err.message}; falling back to the simulator (seed ${config.data.sim_seed})`;
    deps.log?.('warn', notice);
    return { source: sim(), notice, storeName: simName };
  }
}

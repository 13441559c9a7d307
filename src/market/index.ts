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
export { CsvMarketSource, UnknownSymbolError, UnsafeSymbolError } from './csv-source.js';
export * from './symbols.js';
export { findSuspects, DEFAULT_SUSPECT, type SuspectCandle, type SuspectOptions } from './suspicious.js';
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
  /** Use the simulator whatever data.source says (an explicit `--offline`). */
  offline?: boolean;
}

export interface CreatedMarketSource {
  source: MarketDataSource;
  /** What the operator should know (stale cached markets, public data only, offline). */
  notice: string | null;
  /** Name of the candle-store folder for this source. */
  storeName: string;
  /**
   * Set when the exchange could not be reached and no markets were cached: the source is up but
   * has nothing to serve until the exchange answers (it retries with backoff). Never a simulator.
   */
  waiting?: string | null;
}

export class CsvDirError extends Error {
  constructor(readonly dir: string) {
    super(`data.csv_dir: folder not found: ${dir}`);
    this.name = 'CsvDirError';
  }
}

/**
 * Build the configured market source. The simulator runs only when data.source is `sim` (or
 * `offline` is asked): an unreachable exchange never turns into synthetic prices. It starts from
 * cached markets when it has them (the notice says how old), else it is returned `waiting`.
 */
export async function createMarketSource(config: Config, deps: MarketSourceDeps): Promise<CreatedMarketSource> {
  const sim = () => new SimMarketSource(config.data.sim_seed, deps.clock, { extraSymbols: config.data.sim_extra_symbols });
  const simName = `sim-${config.data.sim_seed}`;
  if (deps.offline && config.data.source !== 'sim') {
    return { source: sim(), notice: `offline: the simulator (seed ${config.data.sim_seed}) instead of data.source ${config.data.source}`, storeName: simName, waiting: null };
  }
  if (config.data.source === 'sim') return { source: sim(), notice: null, storeName: simName, waiting: null };
  if (config.data.source === 'csv') {
    const dir = resolve(deps.home, config.data.csv_dir);
    const ok = await stat(dir).then((s) => s.isDirectory(), () => false);
    if (!ok) throw new CsvDirError(dir);
    return { source: new CsvMarketSource(dir, deps.clock, { timeframe: config.exchange.timeframe }), notice: null, storeName: 'csv', waiting: null };
  }
  const creds = deps.credentials ?? (await loadCredentials(config, deps.env ?? process.env, deps.home));
  // ccxt is heavy: only loaded when the exchange is actually used.
  const { CcxtMarketSource, ExchangeUnreachableError } = await import('./ccxt-source.js');
  // The key only scrubs messages: market data is public and the ccxt client never holds it.
  const source = new CcxtMarketSource(config, { home: deps.home, clock: deps.clock, credentials: creds, log: deps.log, ...deps.ccxt });
  const notes: string[] = [];
  if (creds.source === 'none') notes.push(describeCredentials(creds));
  try {
    // Quick: one retry at most, so an offline start says so in about a second.
    await source.ensureMarkets({ maxRetries: Math.min(1, config.exchange.max_retries) });
    if (source.marketsNotice) notes.unshift(source.marketsNotice);
    return { source, notice: notes.length ? notes.join('; ') : null, storeName: config.exchange.id, waiting: null };
  } catch (err) {
    if (!(err instanceof ExchangeUnreachableError)) throw err;
    const waiting = `${source.waitingMessage()}; no cached markets, so nothing is traded until it answers`;
    deps.log?.('warn', waiting);
    return { source, notice: waiting, storeName: config.exchange.id, waiting };
  }
}

/** Main-thread side of a training job: fetch the candles and build the job spec from config. */
import type { Config } from '../config/schema.js';
import { createHash } from 'node:crypto';
import type { Candle, DataSourceInfo, MarketDataSource, Timeframe } from '../market/types.js';
import { TIMEFRAME_MS } from '../market/types.js';
import type { ModelKind } from '../models/metadata.js';
import { candlesToColumns } from './pipeline-data.js';
import { absurdCandle } from '../market/validate.js';
import type { CandleColumns, PipelineJobSpec } from './protocol.js';
import type { DataProvenance } from '../models/metadata.js';

export class NoCandlesError extends Error {
  constructor(readonly symbol: string, detail: string) {
    super(`${symbol}: ${detail}`);
    this.name = 'NoCandlesError';
  }
}

/** The last `days` of closed candles up to the source's latest closed candle. */
export async function fetchTrainingCandles(source: MarketDataSource, symbol: string, timeframe: Timeframe, days: number): Promise<Candle[]> {
  const last = await source.latestClosedCandle(symbol, timeframe);
  if (!last) throw new NoCandlesError(symbol, `no closed ${timeframe} candle from ${source.description}`);
  const step = TIMEFRAME_MS[timeframe];
  const until = last.timestamp + step;
  return source.fetchCandles(symbol, timeframe, until - days * 86_400_000, until);
}

export interface JobSpecInput {
  symbols: string[];
  candles: Record<string, Candle[]>;
  /** Where the candles came from (source.provenance()); default: what the config says. */
  dataSource?: DataSourceInfo;
  models?: ModelKind[];
  /** Profile by name when the caller has no recipe of its own (the engine passes the recipe's profile instead). */
  quick?: boolean;
  version: string;
  modelsDir: string;
}

/** What the config alone says about the source (when the caller has no source to ask). */
export function configDataSource(config: Config): DataSourceInfo {
  const d = config.data;
  if (d.source === 'sim') return { kind: 'sim', seed: d.sim_seed };
  if (d.source === 'csv') return { kind: 'csv', dir: d.csv_dir, files: {} };
  const x = config.exchange;
  let host = 'default';
  try {
    if (x.api_base_url) host = new URL(x.api_base_url).host;
  } catch {
    // keep 'default'
  }
  return { kind: 'exchange', exchange: x.id, sandbox: x.sandbox, api_host: host };
}

/**
 * The source plus the range and a sha256 of exactly the candles sent to training (symbol, then
 * the six columns' bytes, in job order): two artifacts with the same hash saw the same data.
 */
export function dataProvenance(source: DataSourceInfo, columns: readonly CandleColumns[]): DataProvenance {
  const h = createHash('sha256');
  let from = Infinity;
  let to = -Infinity;
  let count = 0;
  for (const c of columns) {
    h.update(c.symbol);
    for (const col of [c.timestamp, c.open, c.high, c.low, c.close, c.volume]) h.update(new Uint8Array(col.buffer, col.byteOffset, col.byteLength));
    if (c.timestamp.length) {
      from = Math.min(from, c.timestamp[0]);
      to = Math.max(to, c.timestamp[c.timestamp.length - 1]);
    }
    count += c.timestamp.length;
  }
  return { ...source, candles: { from: count ? from : null, to: count ? to : null, count, sha256: h.digest('hex') } };
}

export function buildJobSpec(config: Config, i: JobSpecInput): PipelineJobSpec {
  const name = i.quick ? 'quick' : 'full';
  const candles = i.symbols.map((s) => {
    const c = i.candles[s];
    if (!c) throw new NoCandlesError(s, 'no candles fetched');
    // Absurd or invalid candles never reach a model (they are also refused at the source).
    const bad = c.find((x) => absurdCandle(x) !== null);
    if (bad) throw new NoCandlesError(s, `candle ${new Date(bad.timestamp).toISOString()} is absurd (${absurdCandle(bad)}): refusing to train on it`);
    return candlesToColumns(s, c);
  });
  return {
    kind: 'train',
    symbols: i.symbols,
    trainingMode: config.model.training_mode,
    symbolEncoding: config.model.symbol_encoding,
    models: i.models ?? config.model.models,
    profile: { ...config.training[name], name },
    version: i.version,
    modelsDir: i.modelsDir,
    candles,
    // Hashed here, before the buffers are transferred to the worker.
    dataSource: dataProvenance(i.dataSource ?? configDataSource(config), candles),
    timeframe: config.exchange.timeframe,
    window: config.model.window,
    horizon: config.model.horizon,
    labelThreshold: config.model.label_threshold,
    valFraction: config.training.validation_fraction,
    testFraction: config.training.test_fraction,
    rnnCell: config.model.rnn_cell,
    feeRate: config.paper_trading.fee_rate,
    slippageBps: config.paper_trading.slippage_bps,
    entryThreshold: config.paper_trading.entry_threshold,
    walkForwardFolds: config.training.walk_forward_folds,
    edgeConfidence: config.model.edge_confidence,
    edgeMarginPct: config.model.edge_margin_pct,
    gateDays: config.auto_training.gate_days,
  };
}

/**
 * Symbols one job trains, `symbol` first (the gate scores it): the symbol alone, or in
 * multi_symbol mode model.multi_symbol_symbols, or when that list is empty the universe the
 * engine trades. The engine and `kilo train` both call this, so they train the same set.
 */
export function jobSymbolsFor(config: Config, symbol: string, universe: readonly string[] = []): string[] {
  if (config.model.training_mode !== 'multi_symbol') return [symbol];
  const set = config.model.multi_symbol_symbols.length ? config.model.multi_symbol_symbols : universe;
  return [symbol, ...new Set(set.filter((s) => s !== symbol))];
}

/** A metric that is not a finite number (NaN%, Infinity), named with its path; null when all are finite. */
export function nonFiniteMetric(performance: Record<string, unknown>): string | null {
  const walk = (v: unknown, path: string): string | null => {
    if (typeof v === 'number') return Number.isFinite(v) ? null : `${path} = ${v}`;
    if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        const hit = walk(x, path ? `${path}.${k}` : k);
        if (hit) return hit;
      }
    }
    return null;
  };
  return walk(performance, '');
}

export class NonFiniteMetricsError extends Error {
  constructor(readonly symbols: readonly string[], readonly metric: string) {
    super(`${symbols.join(', ')}: training produced a non-finite metric (${metric}); not publishing this model (check the candles with kilo data check)`);
    this.name = 'NonFiniteMetricsError';
  }
}

/** The guard before an artifact is written: a model whose metrics are not finite is never published. */
export function assertFiniteMetrics(symbols: readonly string[], performance: Record<string, unknown>): void {
  const bad = nonFiniteMetric(performance);
  if (bad) throw new NonFiniteMetricsError(symbols, bad);
}

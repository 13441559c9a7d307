/** Main-thread side of a training job: fetch the candles and build the job spec from config. */
import type { Config } from '../config/schema.js';
import type { Candle, MarketDataSource, Timeframe } from '../market/types.js';
import { TIMEFRAME_MS } from '../market/types.js';
import type { ModelKind } from '../models/metadata.js';
import { candlesToColumns } from './pipeline-data.js';
import type { PipelineJobSpec } from './protocol.js';

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
  models?: ModelKind[];
  quick?: boolean;
  version: string;
  modelsDir: string;
}

export function buildJobSpec(config: Config, i: JobSpecInput): PipelineJobSpec {
  const name = i.quick ? 'quick' : 'full';
  return {
    kind: 'train',
    symbols: i.symbols,
    trainingMode: config.model.training_mode,
    symbolEncoding: config.model.symbol_encoding,
    models: i.models ?? config.model.models,
    profile: { ...config.training[name], name },
    version: i.version,
    modelsDir: i.modelsDir,
    candles: i.symbols.map((s) => {
      const c = i.candles[s];
      if (!c) throw new NoCandlesError(s, 'no candles fetched');
      return candlesToColumns(s, c);
    }),
    timeframe: config.exchange.timeframe,
    window: config.model.window,
    horizon: config.model.horizon,
    labelThreshold: config.model.label_threshold,
    valFraction: config.training.validation_fraction,
    testFraction: config.training.test_fraction,
    rnnCell: config.model.rnn_cell,
    feeRate: config.paper_trading.fee_rate,
  };
}

/** Symbols one job trains: the symbol alone, or the configured multi-symbol set plus it. */
export function jobSymbolsFor(config: Config, symbol: string): string[] {
  if (config.model.training_mode !== 'multi_symbol') return [symbol];
  const set = config.model.multi_symbol_symbols.length ? [...config.model.multi_symbol_symbols] : [];
  if (!set.includes(symbol)) set.push(symbol);
  return set;
}

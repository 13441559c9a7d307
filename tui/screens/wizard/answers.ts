/**
 * The wizard's answers, their defaults (from a Config) and the pure mapping to a dotted-key patch
 * for updateConfigFile (which keeps comments and unknown keys of an existing config.yaml).
 */
import type { Config } from '../../../src/config/schema.js';

export type SourceKind = 'sim' | 'exchange' | 'csv';

export interface WizardAnswers {
  source: SourceKind;
  exchangeId: string;
  csvDir: string;
  symbols: string[];
  coreSymbols: string[];
  trainingMode: 'single_symbol' | 'multi_symbol';
  encoding: 'one_hot' | 'index';
  /** true: keep the auto-training defaults below as they are (nothing written for them). */
  autoDefaults: boolean;
  autoTrainNew: boolean;
  blockUntrained: boolean;
  blockShortHistory: boolean;
  targetHistoryDays: number;
  minWinRate: number;
  maxDaysBetweenRetrain: number;
  retrainExisting: boolean;
  trainNow: boolean;
}

export function defaultAnswers(c: Config): WizardAnswers {
  return {
    source: c.data.source,
    exchangeId: c.exchange.id,
    csvDir: c.data.csv_dir,
    symbols: [...c.universe.symbols],
    coreSymbols: [...c.universe.core_symbols],
    trainingMode: c.model.training_mode,
    encoding: c.model.symbol_encoding,
    autoDefaults: true,
    autoTrainNew: c.model.auto_train_new_symbols,
    blockUntrained: c.model.block_untrained_symbols,
    blockShortHistory: c.model.block_short_history_symbols,
    targetHistoryDays: c.model.target_history_days,
    minWinRate: c.auto_training.min_win_rate_threshold,
    maxDaysBetweenRetrain: c.auto_training.max_days_between_retrain,
    retrainExisting: false,
    trainNow: true,
  };
}

/** Pure: answers -> `{ "dotted.key": value }` for updateConfigFile. Only keys the wizard asked. */
export function wizardAnswersToPatch(a: WizardAnswers): Record<string, unknown> {
  const p: Record<string, unknown> = {
    'data.source': a.source,
    'universe.mode': 'list',
    'universe.symbols': [...a.symbols],
    'universe.core_symbols': [...a.coreSymbols],
    'model.training_mode': a.trainingMode,
  };
  if (a.source === 'exchange') p['exchange.id'] = a.exchangeId;
  if (a.source === 'csv') p['data.csv_dir'] = a.csvDir;
  if (a.trainingMode === 'multi_symbol') {
    p['model.symbol_encoding'] = a.encoding;
    p['model.multi_symbol_symbols'] = [...a.symbols];
  }
  if (!a.autoDefaults) {
    p['model.auto_train_new_symbols'] = a.autoTrainNew;
    p['model.block_untrained_symbols'] = a.blockUntrained;
    p['model.block_short_history_symbols'] = a.blockShortHistory;
    p['model.target_history_days'] = a.targetHistoryDays;
    p['auto_training.min_win_rate_threshold'] = a.minWinRate;
    p['auto_training.max_days_between_retrain'] = a.maxDaysBetweenRetrain;
  }
  return p;
}

export class WizardInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WizardInputError';
  }
}

const SYMBOL = /^[A-Z0-9]+\/[A-Z0-9]+$/;

/** "btc/usdt, ETH/USDT" -> ["BTC/USDT", "ETH/USDT"]; names the first bad entry. */
export function parseSymbolList(text: string, allowEmpty = false): string[] {
  const out = text
    .split(/[\s,]+/)
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean);
  const bad = out.find((s) => !SYMBOL.test(s));
  if (bad) throw new WizardInputError(`"${bad}" is not a symbol like BTC/USDT`);
  if (!allowEmpty && out.length === 0) throw new WizardInputError('enter at least one symbol');
  return [...new Set(out)];
}

export function parseNumber(text: string, min: number, max: number, what: string): number {
  const v = Number(text.trim().replace(/%$/, ''));
  if (!Number.isFinite(v) || v < min || v > max) throw new WizardInputError(`${what} must be a number from ${min} to ${max}`);
  return v;
}

import type { EdgeReport } from '../evaluation/edge.js';

/**
 * The metadata.json written beside every artifact. The registry reads it (with documented
 * defaults for older files); training writes it. Field names follow the seed (snake_case).
 */
import type { DataSourceInfo } from '../market/types.js';

export type ModelKind = 'gru' | 'gbdt' | 'ppo';
export type TrainingMode = 'single_symbol' | 'multi_symbol';
export type SymbolEncoding = 'one_hot' | 'index';

export interface ClassMetrics {
  accuracy: number;
  /** Accuracy on rows whose true label is up or down. */
  directional_accuracy: number;
  /**
   * Paper PnL % after fees and slippage of the model's calls replayed through the broker's rule
   * (src/evaluation/judge.ts: long-only, entry threshold, fully invested), compounded over the
   * window; with several symbols, the mean of their windows.
   */
  pnl_pct?: number;
  /** Fills and share of candles in a position of that replay. */
  trades?: number;
  exposure?: number;
  log_loss?: number;
  samples: number;
}

export interface ModelFileEntry {
  type: ModelKind | 'preprocessor' | 'feature_metadata';
  /** Seed convention: `{model_type}_model_{symbol}_{timestamp}.{ext}` (relative to the folder). */
  file: string;
}

export interface ModelMetadata {
  version: string;
  trained_symbols: string[];
  training_days: number;
  training_end_timestamp: number;
  min_history_days_per_symbol: number;
  training_mode: TrainingMode;
  symbol_encoding_type: SymbolEncoding;
  symbol_encoding_map: Record<string, number>;
  timeframe: string;
  window: number;
  horizon: number;
  label_threshold: number;
  performance: Partial<Record<ModelKind | 'ensemble', { validation: ClassMetrics; test: ClassMetrics }>>;
  feature_schema_hash: string;
  backend: string;
  /**
   * What ran the recurrent layer's training (present when a GRU/LSTM was trained):
   * 'native avx512f' / 'native avx2+fma' (native/kilo_rnn.c) or 'tfjs' (the backend's own ops).
   */
  rnn_kernel?: string;
  created_at: string;
  files: ModelFileEntry[];
  /** Seconds the training took (the queue's time estimates are built from these). */
  training_duration_s?: number;
  profile?: 'full' | 'quick' | 'retrain';
  /** What data trained it (absent in artifacts written before it was recorded). */
  data_source?: DataProvenance;
  /**
   * Walk-forward verdict (src/evaluation/edge.ts): per symbol, each model kind, the ensemble and the
   * baselines judged out of sample after costs, with bootstrap bounds and the verdict. Absent in
   * artifacts trained before verdicts existed (the serving policy treats that as no evidence).
   */
  edge?: EdgeReport;
}

/**
 * The source kind and identity (exchange id, sandbox, API host - never credentials; CSV folder and
 * each file's sha256; simulator seed), plus the range and sha256 of the training candles.
 */
export type DataProvenance = DataSourceInfo & { candles: { from: number | null; to: number | null; count: number; sha256: string } };

/** Layout: models/v<version>/<SYMBOL-STEM | multi>/{metadata.json, manifest.json, model files}. */
export const METADATA_FILE = 'metadata.json';
export const MANIFEST_FILE = 'manifest.json';

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
  /** Paper PnL % after fees when trading the model's calls over the window. */
  pnl_pct?: number;
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
   * 'native avx2+fma' (native/kilo_rnn.c) or 'tfjs' (the backend's own ops).
   */
  rnn_kernel?: string;
  created_at: string;
  files: ModelFileEntry[];
  /** Seconds the training took (the queue's time estimates are built from these). */
  training_duration_s?: number;
  profile?: 'full' | 'quick';
  /** What data trained it (absent in artifacts written before it was recorded). */
  data_source?: DataProvenance;
}

/**
 * The source kind and identity (exchange id, sandbox, API host - never credentials; CSV folder and
 * each file's sha256; simulator seed), plus the range and sha256 of the training candles.
 */
export type DataProvenance = DataSourceInfo & { candles: { from: number | null; to: number | null; count: number; sha256: string } };

/** Layout: models/v<version>/<SYMBOL-STEM | multi>/{metadata.json, manifest.json, model files}. */
export const METADATA_FILE = 'metadata.json';
export const MANIFEST_FILE = 'manifest.json';

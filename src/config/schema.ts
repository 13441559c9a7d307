import { z } from 'zod';

/**
 * The one description of config.yaml. Parsed once at the edge (config/load.ts) into `Config`;
 * nothing else reads raw yaml. Every object is strict so a misspelt key is an error, not a
 * silently ignored setting.
 */
const pct = z.number().min(0).max(1);
const posInt = z.number().int().positive();
const nonNegInt = z.number().int().min(0);
const symbol = z.string().regex(/^[A-Z0-9]+\/[A-Z0-9]+$/, 'expected a symbol like "BTC/USDT"');

export const timeframeSchema = z.enum(['1m', '5m', '15m', '30m', '1h', '4h', '1d']);

const exchangeSchema = z.strictObject({
  id: z.string().min(1).default('binance'),
  quote: z.string().min(1).default('USDT'),
  timeframe: timeframeSchema.default('1h'),
  api_key_env: z.string().default('KILO_API_KEY'),
  api_secret_env: z.string().default('KILO_API_SECRET'),
  credentials_file: z.string().nullable().default(null),
  sandbox: z.boolean().default(false),
  api_base_url: z.url().nullable().default(null),
  http_proxy: z.string().nullable().default(null),
  https_proxy: z.string().nullable().default(null),
  timeout_ms: z.number().int().min(100).max(120_000).default(10_000),
  max_retries: nonNegInt.max(20).default(5),
  markets_cache_max_age_h: z.number().positive().default(24),
  /** Reserved: kilo only paper trades; no code path places real orders. */
  enable_live_trading: z.boolean().default(false),
});

const dataSchema = z.strictObject({
  source: z.enum(['exchange', 'csv', 'sim']).default('sim'),
  csv_dir: z.string().default('data/csv'),
  sim_seed: z.number().int().default(42),
  sim_extra_symbols: nonNegInt.max(1000).default(0),
  cache_dir: z.string().default('data/candles'),
  cache_expiry_h: z.number().positive().default(1),
  round_interval_s: z.number().min(0).max(86_400).default(2),
  csv_start: z
    .string()
    .refine((v) => Number.isFinite(Date.parse(v)), 'expected a date like "2023-05-01T00:00Z"')
    .nullable()
    .default(null),
  max_staleness_candles: z.number().positive().max(10_000).default(2),
  suspect_move_factor: z.number().positive().max(10_000).default(25),
  suspect_min_move: z.number().positive().max(100).default(0.05),
});

const universeSchema = z.strictObject({
  mode: z.enum(['list', 'top_volume']).default('list'),
  symbols: z.array(symbol).default(['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'BNB/USDT', 'ADA/USDT']),
  top_n: posInt.max(500).default(20),
  core_symbols: z.array(symbol).default(['BTC/USDT', 'ETH/USDT']),
  refresh_interval_h: z.number().positive().default(24),
});

const modelSchema = z.strictObject({
  training_mode: z.enum(['single_symbol', 'multi_symbol']).default('single_symbol'),
  symbol_encoding: z.enum(['one_hot', 'index']).default('one_hot'),
  multi_symbol_symbols: z.array(symbol).default([]),
  version: z.string().regex(/^\d+\.\d+$/, 'expected a version like "1.0"').default('1.0'),
  pinned_version: z.string().regex(/^\d+\.\d+$/, 'expected a version like "1.0"').nullable().default(null),
  models: z.array(z.enum(['gru', 'gbdt', 'ppo'])).default(['gru', 'gbdt', 'ppo']),
  rnn_cell: z.enum(['gru', 'lstm']).default('gru'),
  window: posInt.max(512).default(48),
  horizon: posInt.max(168).default(1),
  label_threshold: z.number().min(0).max(0.2).default(0.002),
  auto_train_new_symbols: z.boolean().default(true),
  block_untrained_symbols: z.boolean().default(true),
  target_history_days: posInt.max(3650).default(730),
  min_history_days_to_train: posInt.max(3650).default(90),
  min_history_coverage_pct: pct.default(0.95),
  block_short_history_symbols: z.boolean().default(true),
  fallback_map: z.record(z.string(), symbol).default({}),
  fallback_default: symbol.nullable().default('BTC/USDT'),
  allow_foreign_source: z.boolean().default(false),
  /** A model drives trades only when its walk-forward verdict shows an edge after costs (src/policy/edge.ts). */
  require_edge: z.boolean().default(true),
  /** Confidence of the verdict's block-bootstrap lower bound. */
  edge_confidence: z.number().min(0.5).max(0.99).default(0.9),
  /** The lower bound must exceed this, in % per 30 days of PnL after costs (vs no-trade, and vs TA when TA would trade). */
  edge_margin_pct: z.number().min(-100).max(100).default(0.5),
  /** Symbols whose model trades whatever its verdict (operator override, shown wherever the verdict is). */
  edge_overrides: z.array(symbol).default([]),
});

const assetsSchema = z.strictObject({
  pre_trained: z.array(symbol).default(['BTC/USDT', 'ETH/USDT']),
  quick_train: z.array(symbol).default(['SOL/USDT', 'BNB/USDT', 'ADA/USDT', 'LINK/USDT', 'DOT/USDT', 'AVAX/USDT', 'MATIC/USDT']),
  unsupported: z.array(symbol).default([]),
  stablecoin_max_daily_vol: z.number().min(0).default(0.002),
  min_quote_volume_24h: z.number().min(0).default(100_000),
});

const autoTrainingSchema = z.strictObject({
  enabled: z.boolean().default(true),
  min_trades_before_retrain: nonNegInt.default(50),
  max_days_between_retrain: z.number().positive().default(30),
  min_win_rate_threshold: pct.default(0.45),
  min_signals_for_decision: nonNegInt.default(20),
  initial_train_after_signals: nonNegInt.default(100),
  min_candles_for_training: posInt.default(1000),
  /**
   * A challenger is promoted when the lower bound of its per-candle PnL improvement over the
   * champion (paired, block bootstrap, same window) exceeds this, in % per 30 days after costs.
   */
  promotion_margin: z.number().min(0).max(100).default(0.5),
  /** Confidence of that lower bound. */
  promotion_confidence: z.number().min(0.5).max(0.99).default(0.9),
  /** The gate's shared window: at least this many days, out of sample for the challenger. */
  gate_days: posInt.max(365).default(30),
  /** The gate's scorecard: each decision is scored over this many days after it, once those candles exist (kilo models, replay). */
  scorecard_days: posInt.max(365).default(30),
  /**
   * Days of market time a challenger that passed the gate runs in shadow (scored, not traded)
   * before it serves; promoted then only if its PnL after costs over those days stayed ahead of
   * the champion's by promotion_margin (pro-rated). 0: promoted at once.
   */
  shadow_days: z.number().min(0).max(90).default(0),
  max_attempts: posInt.max(20).default(3),
});

const profileSchema = z.strictObject({
  epochs: posInt.max(1000),
  patience: posInt.max(1000),
  trees: posInt.max(5000),
  data_days: posInt.max(3650),
  batch_size: posInt.max(8192).default(256),
  ppo_steps: posInt.max(1_000_000).default(4096),
});

const trainingSchema = z.strictObject({
  full: profileSchema.prefault({ epochs: 50, patience: 10, trees: 200, data_days: 730 }),
  quick: profileSchema.prefault({ epochs: 20, patience: 5, trees: 80, data_days: 365 }),
  validation_fraction: z.number().min(0.05).max(0.4).default(0.15),
  test_fraction: z.number().min(0.05).max(0.4).default(0.15),
  /** Walk-forward folds of the edge verdict written at training time (0: no verdict). */
  walk_forward_folds: nonNegInt.max(12).default(4),
  /** Automatic retrains train on this many most recent days (the full profile's epochs and patience). */
  retrain_days: posInt.max(3650).default(180),
  /**
   * 'designed': new symbols train with the full profile over the history policy, retrains with the
   * retrain recipe, on-demand (quick_train tier) and --quick with the quick profile.
   * 'quick': every training uses the quick profile (a small machine).
   */
  auto_profile: z.enum(['designed', 'quick']).default('designed'),
});

const resourcesSchema = z.strictObject({
  storage_limit_mb: z.number().positive().max(1_000_000).default(100),
  training_timeout_s: posInt.max(86_400).default(1800),
  max_concurrent_trainings: posInt.max(16).default(2),
  min_free_memory_mb: nonNegInt.default(512),
  cleanup_max_age_days: posInt.default(90),
  cleanup_keep_top_n: posInt.default(5),
  /** Minutes a loaded model may stay unused before it is unloaded (0: never). */
  model_cache_ttl_min: z.number().min(0).max(525_600).default(180),
});

const paperSchema = z.strictObject({
  starting_cash: z.number().positive().max(1e12).default(10_000),
  fee_rate: z.number().min(0).max(0.05).default(0.001),
  slippage_bps: z.number().min(0).max(500).default(5),
  position_fraction: z.number().gt(0).max(1).default(0.1),
  entry_threshold: z.number().min(0).max(1).default(0.55),
});

const logSchema = z.strictObject({
  file: z.string().default('data/trading.log'),
  max_bytes: posInt.default(5 * 1024 * 1024),
  keep_files: posInt.max(50).default(3),
  level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

/** Where training runs: local worker threads, or BullMQ jobs on Redis for `kilo worker` processes. */
const distributedSchema = z.strictObject({
  backend: z.enum(['local', 'bullmq']).default('local'),
  redis_url: z
    .string()
    .regex(/^rediss?:\/\/\S+$/, 'expected a URL like "redis://host:6379"')
    .nullable()
    .default(null),
  redis_url_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name').default('KILO_REDIS_URL'),
  queue_prefix: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'letters, digits, _ and - only').default('kilo'),
  job_attempts: posInt.max(10).default(2),
  retry_backoff_s: z.number().min(0).max(3600).default(10),
});

export const configSchema = z.strictObject({
  exchange: exchangeSchema.prefault({}),
  data: dataSchema.prefault({}),
  universe: universeSchema.prefault({}),
  model: modelSchema.prefault({}),
  assets: assetsSchema.prefault({}),
  auto_training: autoTrainingSchema.prefault({}),
  training: trainingSchema.prefault({}),
  resources: resourcesSchema.prefault({}),
  heartbeat_interval_s: posInt.max(86_400).default(300),
  paper_trading: paperSchema.prefault({}),
  logging: logSchema.prefault({}),
  distributed: distributedSchema.prefault({}),
});

export type Config = z.infer<typeof configSchema>;
export type TrainingProfile = z.infer<typeof profileSchema>;
export type DistributedConfig = z.infer<typeof distributedSchema>;

export const defaultConfig = (): Config => configSchema.parse({});

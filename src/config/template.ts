// Generated from config.example.yaml by src/config/gen-template.ts; edit config.example.yaml and rerun it.
export const CONFIG_TEMPLATE = `# kilo configuration. Every key is listed with its default; delete a key to fall back to the default.
# \`kilo doctor\` validates this file; errors name the key and the line.

exchange:
  # ccxt exchange id used for market data (any exchange ccxt supports: binance, kraken, okx, ...).
  id: binance
  # Quote currency of the traded pairs (BTC/USDT -> USDT).
  quote: USDT
  # Candle timeframe the models trade on.
  timeframe: 1h
  # Environment variables holding the API key and secret (only needed for private endpoints).
  api_key_env: KILO_API_KEY
  api_secret_env: KILO_API_SECRET
  # Optional credentials file (yaml or json with apiKey and secret); must be chmod 600.
  credentials_file: null
  # Use the exchange's testnet/sandbox endpoints (refused for exchanges without one).
  sandbox: false
  # Replace scheme://host[:port] of every exchange API url, e.g. http://127.0.0.1:8080 for an emulator.
  api_base_url: null
  # Proxies for exchange requests, e.g. http://proxy.local:3128.
  http_proxy: null
  https_proxy: null
  # Per-request timeout in milliseconds.
  timeout_ms: 10000
  # Retries with exponential backoff on network errors, rate limits and timeouts.
  max_retries: 5
  # Markets are cached on disk; refreshed from the exchange when older than this many hours.
  markets_cache_max_age_h: 24
  # Reserved. kilo only paper trades: no code path places real orders, whatever this says.
  enable_live_trading: false

data:
  # Where candles come from: sim (offline seeded simulator), exchange (ccxt), csv (folder replay).
  source: sim
  # Folder of BTC-USDT-1h.csv style files for source csv.
  csv_dir: data/csv
  # Seed of the simulator: the same seed gives the same market.
  sim_seed: 42
  # Generated extra simulator coins S001/USDT, S002/USDT, ... (load tests); 0: none.
  sim_extra_symbols: 0
  # On-disk candle cache.
  cache_dir: data/candles
  # Cached candles older than this many hours are topped up from the source.
  cache_expiry_h: 1
  # sim / csv only: real seconds between rounds; each round the simulated market moves one candle.
  # (A live exchange round follows the candle closes of exchange.timeframe instead.)
  round_interval_s: 2
  # csv only: market time the replay starts at (e.g. "2023-05-01T00:00Z"); null: the first candle
  # + model.min_history_days_to_train + 30 days, so symbols start with the history they need.
  csv_start: null
  # A symbol whose newest closed candle is older than this many timeframes is stale: no new
  # signals and no new entries until fresh candles arrive.
  max_staleness_candles: 2
  # A candle that moves more than this multiple of the symbol's typical absolute move (and more
  # than suspect_min_move) is suspicious: not traded on until the next candle confirms it.
  suspect_move_factor: 25
  # Smallest relative move ever called suspicious (stablecoins have a tiny typical move).
  suspect_min_move: 0.05

universe:
  # list: trade \`symbols\`; top_volume: the top_n pairs by 24h quote volume.
  mode: list
  symbols:
    - BTC/USDT
    - ETH/USDT
    - SOL/USDT
    - BNB/USDT
    - ADA/USDT
  top_n: 20
  # Always part of the universe whatever the mode.
  core_symbols:
    - BTC/USDT
    - ETH/USDT
  # How often the top_volume universe is recomputed, in hours.
  refresh_interval_h: 24

model:
  # single_symbol: one model per pair; multi_symbol: one model over several pairs.
  training_mode: single_symbol
  # How a multi_symbol model is told which pair a window belongs to.
  symbol_encoding: one_hot
  # Pairs of the multi_symbol model (empty: the universe).
  multi_symbol_symbols: []
  # Version written into new model metadata ("major.minor").
  version: "1.0"
  # Only load models of this version (null: the best available).
  pinned_version: null
  # Models of the ensemble.
  models:
    - gru
    - gbdt
    - ppo
  # Recurrent cell of the sequence model.
  rnn_cell: gru
  # Candles per input window.
  window: 48
  # Candles ahead the label looks.
  horizon: 1
  # Return above which a move counts as up (below minus it: down), as a fraction.
  label_threshold: 0.002
  # Queue a training for pairs that enter the universe without a model.
  auto_train_new_symbols: true
  # No signals for pairs without a model of their own (unless a fallback applies).
  block_untrained_symbols: true
  # History fetched for a full training, in days.
  target_history_days: 730
  # Less history than this blocks training of a pair.
  min_history_days_to_train: 90
  # Fraction of the expected candles that must be present in that history.
  min_history_coverage_pct: 0.95
  # Block pairs whose history is too short instead of training on it.
  block_short_history_symbols: true
  # Model to borrow per pair, e.g. {"NOVA/USDT": "SOL/USDT"}.
  fallback_map: {}
  # Model borrowed by pairs without their own and without a fallback_map entry (null: none).
  fallback_default: BTC/USDT
  # Serve models trained on another kind of data source than data.source (a simulator-trained
  # model on exchange prices). false: such a model is refused, and the reason is shown.
  allow_foreign_source: false
  # A model trades only when its walk-forward verdict shows an edge after fees and slippage;
  # otherwise the pair trades on the TA rule if that rule shows an edge there, else holds.
  require_edge: true
  # Confidence of the verdict's lower bound (block bootstrap over out-of-sample candles).
  edge_confidence: 0.9
  # That lower bound must exceed this, in % of PnL per 30 days, over no-trade
  # (and over the TA rule when the TA rule would trade instead).
  edge_margin_pct: 0.5
  # Pairs whose model trades whatever its verdict (operator override), e.g. ["BTC/USDT"].
  edge_overrides: []

assets:
  # Pairs expected to ship with trained models.
  pre_trained:
    - BTC/USDT
    - ETH/USDT
  # Pairs trained with the quick profile on first sight.
  quick_train:
    - SOL/USDT
    - BNB/USDT
    - ADA/USDT
    - LINK/USDT
    - DOT/USDT
    - AVAX/USDT
    - MATIC/USDT
  # Pairs never traded.
  unsupported: []
  # A pair whose daily volatility stays below this is treated as a stablecoin.
  stablecoin_max_daily_vol: 0.002
  # Pairs with less 24h quote volume are left out.
  min_quote_volume_24h: 100000

auto_training:
  # Retrain models automatically when the triggers below fire.
  enabled: true
  # Closed trades needed before a retrain is considered.
  min_trades_before_retrain: 50
  # Retrain at least this often, in days.
  max_days_between_retrain: 30
  # Retrain when the win rate falls below this (fraction).
  min_win_rate_threshold: 0.45
  # Signals needed before the win rate is judged.
  min_signals_for_decision: 20
  # Signals after which a pair's first own training is queued.
  initial_train_after_signals: 100
  # Candles needed to train at all.
  min_candles_for_training: 1000
  # A new model replaces the serving one only when the lower bound of its PnL improvement
  # (after costs, paired candle by candle on the same window) exceeds this, in % per 30 days.
  promotion_margin: 0.5
  # Confidence of that lower bound.
  promotion_confidence: 0.9
  # Days of candles the gate compares both models on (out of sample for the new one).
  gate_days: 30
  # The gate's scorecard: each decision is scored over this many days after it (both
  # versions, beside "always promote the newest" and "never retrain"), once those candles exist.
  scorecard_days: 30
  # Days of market time a new model that passed the gate first runs in shadow (its signals
  # scored after costs beside the serving model's, not traded); it serves only if it stayed
  # ahead over them by promotion_margin (pro-rated), else it is dropped. 0: it serves at once.
  shadow_days: 0
  # Attempts per training job before it is marked failed.
  max_attempts: 3

training:
  # Profile for full trainings.
  full:
    epochs: 50
    patience: 10
    trees: 200
    data_days: 730
    batch_size: 256
    ppo_steps: 4096
  # Profile for quick trainings.
  quick:
    epochs: 20
    patience: 5
    trees: 80
    data_days: 365
    batch_size: 256
    ppo_steps: 4096
  # Fractions of the data held out (chronologically) for validation and test.
  validation_fraction: 0.15
  test_fraction: 0.15
  # Walk-forward folds of the edge verdict computed at every training (0: none).
  walk_forward_folds: 4
  # Automatic retrains train on this many most recent days with the full profile's epochs and
  # patience (early stopping restores the best weights).
  retrain_days: 180
  # designed: new symbols train with the full profile over model.target_history_days, retrains with
  # the retrain recipe, on-demand trainings (quick_train tier, --quick) with the quick profile.
  # quick: every training uses the quick profile (a small machine).
  auto_profile: designed

resources:
  # Disk budget for models/, in MB.
  storage_limit_mb: 100
  # A training running longer than this is stopped, in seconds (a full-profile training with
  # its walk-forward folds takes several minutes on 2 busy cores; 300 s cut them all off).
  training_timeout_s: 1800
  # Trainings run in parallel worker threads.
  max_concurrent_trainings: 2
  # No new training starts below this much free memory, in MB.
  min_free_memory_mb: 512
  # Cleanup removes models older than this (days) ...
  cleanup_max_age_days: 90
  # ... but keeps the best N per pair.
  cleanup_keep_top_n: 5
  # A loaded model unused for this many minutes is unloaded (its memory freed; the next signal of
  # its pair loads it again); 0: never. Keep it above the time between rounds (an hour on 1h candles).
  model_cache_ttl_min: 180

# Seconds between heartbeat lines in the log.
heartbeat_interval_s: 300

paper_trading:
  # Cash the paper portfolio starts with, in quote currency.
  starting_cash: 10000
  # Fee per fill, as a fraction.
  fee_rate: 0.001
  # Slippage applied to every fill, in basis points.
  slippage_bps: 5
  # Fraction of equity per position.
  position_fraction: 0.1
  # Minimum ensemble confidence to open a position.
  entry_threshold: 0.55

logging:
  # Log file (rotated).
  file: data/trading.log
  max_bytes: 5242880
  keep_files: 3
  level: info

distributed:
  # Where training runs: local (worker threads in this process) or bullmq (jobs on Redis, run by
  # \`kilo worker\` processes on any machine; see the README).
  backend: local
  # Redis for backend bullmq, e.g. redis://10.0.0.5:6379. Prefer redis_url_env when it has a password.
  redis_url: null
  # Environment variable read when redis_url is null (its value is never logged with its password).
  redis_url_env: KILO_REDIS_URL
  # Key prefix of the BullMQ queue; engines sharing one Redis need different prefixes.
  queue_prefix: kilo
  # Tries of one remote job on the workers (a crashed worker thread, an out-of-memory worker) ...
  job_attempts: 2
  # ... with exponential backoff starting at this many seconds.
  retry_backoff_s: 10
`;

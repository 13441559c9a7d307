/**
 * The contract between the engine and everything that shows or drives it (console, CLI, tests).
 * The console reads only this: a store (subscribe/getSnapshot), typed events, and commands.
 */
import type { ModelKind, TrainingMode, SymbolEncoding } from './models/metadata.js';

export type Direction = 'bullish' | 'bearish' | 'neutral';
export type SymbolState = 'live' | 'blocked' | 'queued' | 'training' | 'unsupported' | 'fallback';
export type AssetTier = 'pre_trained' | 'quick_train' | 'unsupported' | 'unknown';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface SignalView {
  symbol: string;
  at: number;
  direction: Direction;
  confidence: number;
  /** Per model contribution to the combined score, e.g. {gru: 0.4, gbdt: -0.1, ppo: 0.2}. */
  contributions: Partial<Record<ModelKind | 'ta', number>>;
  modelVersion: string | null;
  fallback?: boolean;
  reason?: string;
}

export interface SymbolRow {
  symbol: string;
  tier: AssetTier;
  state: SymbolState;
  /** Why the symbol is blocked / unsupported / on a fallback, in words. */
  stateReason: string;
  price: number | null;
  /** Recent closes, oldest first, for a sparkline (bounded). */
  sparkline: number[];
  candles: number;
  lastSignal: SignalView | null;
  signals: number;
  winRate: number | null;
  needsRetrain: boolean;
  retrainReason: string;
  lastRetrain: number | null;
  modelVersion: string | null;
  position: number;
}

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface JobProgress {
  phase: string; // 'fetch' | 'features' | 'gru' | 'gbdt' | 'ppo' | 'evaluate' | 'save'
  epoch: number;
  epochs: number;
  loss: number | null;
  valMetric: number | null;
  /** 0..1 over the whole job. */
  fraction: number;
  etaS: number | null;
  /** Name of the `kilo worker` running the job (distributed.backend bullmq); absent for local threads. */
  worker?: string;
}

export interface JobView {
  id: string;
  symbol: string;
  reason: string;
  state: JobState;
  priority: number;
  attempts: number;
  lastError: string | null;
  queuedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  progress: JobProgress | null;
  /** Training loss per epoch of the current/last run, for the loss curve. */
  lossHistory: number[];
}

export interface ScoreBreakdown {
  symbols: number;
  recency: number;
  version: number;
  total: number;
}

export interface ModelVersionView {
  version: string;
  complete: boolean;
  problems: string[];
  trainingMode: TrainingMode;
  encoding: SymbolEncoding;
  trainedSymbols: string[];
  trainingDays: number;
  trainingEnd: number | null;
  compatible: boolean;
  rejectReason: string | null;
  score: ScoreBreakdown | null;
  selected: boolean;
  pinned: boolean;
  warnings: string[];
}

export interface PromotionDecision {
  at: number;
  symbol: string;
  championVersion: string | null;
  challengerVersion: string;
  championScore: number | null;
  challengerScore: number | null;
  promoted: boolean;
  reason: string;
}

export interface LogEntry {
  seq: number;
  at: number;
  level: LogLevel;
  message: string;
  symbol?: string;
}

export interface PortfolioView {
  cash: number;
  equity: number;
  pnl: number;
  pnlPct: number;
  exposure: number;
  /** Equity per round, oldest first (bounded). */
  equityCurve: number[];
}

export interface EngineSnapshot {
  status: 'starting' | 'running' | 'stopping' | 'stopped';
  startedAt: number | null;
  /** Wall-clock time of the snapshot. */
  now: number;
  /**
   * Market time (ms): the simulator's or CSV replay's clock, which runs ahead of the wall clock;
   * equal to `now` on a live exchange. Market-stamped fields (lastRetrain, signals) are relative to it.
   */
  marketNow?: number;
  dataSource: string;
  backend: string;
  round: number;
  portfolio: PortfolioView;
  overallWinRate: number | null;
  jobsRunning: number;
  symbols: SymbolRow[];
  jobs: JobView[];
  models: ModelVersionView[];
  selectedVersion: string | null;
  pinnedVersion: string | null;
  /** Bounded tail of the log. */
  logs: LogEntry[];
  promotions: PromotionDecision[];
}

export interface HeartbeatEvent {
  at: number;
  symbols: Pick<SymbolRow, 'symbol' | 'price' | 'candles' | 'signals' | 'winRate' | 'needsRetrain' | 'retrainReason' | 'lastRetrain' | 'state'>[];
  portfolio: PortfolioView;
}

export interface TradeEvent {
  at: number;
  symbol: string;
  side: 'buy' | 'sell';
  qty: number;
  price: number;
  fee: number;
  reason: string;
}

export interface EngineEvents {
  heartbeat: [HeartbeatEvent];
  signal: [SignalView];
  trade: [TradeEvent];
  job: [JobView];
  promotion: [PromotionDecision];
  log: [LogEntry];
}

export interface TrainRequest {
  symbol: string;
  models?: ModelKind[];
  quick?: boolean;
  force?: boolean;
  version?: string;
  reason?: string;
}

export interface CommandResult {
  ok: boolean;
  message: string;
}

export interface EngineApi {
  start(): Promise<void>;
  /** Stop the loop; running jobs are cancelled unless finishJobs, state is flushed. */
  stop(opts?: { finishJobs?: boolean }): Promise<void>;
  subscribe(listener: () => void): () => void;
  getSnapshot(): EngineSnapshot;
  on<K extends keyof EngineEvents>(event: K, handler: (...args: EngineEvents[K]) => void): () => void;
  train(req: TrainRequest): Promise<CommandResult>;
  cancelJob(jobId: string): Promise<CommandResult>;
  reprioritize(jobId: string, delta: number): Promise<CommandResult>;
  block(symbol: string, reason?: string): Promise<CommandResult>;
  unblock(symbol: string): Promise<CommandResult>;
  /** Pin a version (overrides the selection score) or pass null to unpin. */
  pinModel(version: string | null): Promise<CommandResult>;
}

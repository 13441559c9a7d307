/**
 * The contract between the engine and everything that shows or drives it (console, CLI, tests).
 * The console reads only this: a store (subscribe/getSnapshot), typed events, and commands.
 */
import type { ModelKind, TrainingMode, SymbolEncoding } from './models/metadata.js';
import type { ServingArtifact } from './registry/registry.js';
import type { QueueTrigger } from './training/queue-store.js';
import type { VerdictFigures } from './evaluation/edge.js';

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
  /** The edge gate's call on the model that made this signal (absent for TA-only signals). */
  edge?: EdgeView;
  /**
   * What the broker was given instead of the model's call when the model has no edge: the TA
   * rule's signal, or a flat hold (an open position is closed, nothing new entered). The model's
   * own call above is still recorded and scored, for the retrain policy.
   */
  traded?: { direction: Direction; confidence: number; via: 'ta' | 'hold' };
}

/**
 * The edge gate's call for one symbol (src/engine/edge-gate.ts over src/policy/edge.ts): does the
 * serving model drive trades, and the figures behind it. Code branches on `kind`.
 */
export interface EdgeView {
  /** model: it trades; ta / hold: it has no edge and the symbol runs on that fallback; override: it trades because the operator said so. */
  kind: 'model' | 'ta' | 'hold' | 'override';
  verdict: 'edge' | 'no_edge' | 'unknown';
  taVerdict: 'edge' | 'no_edge' | 'unknown';
  /** Who overrode it: the console/CLI command, or model.edge_overrides; null when nobody did. */
  override: 'operator' | 'config' | null;
  /** The version whose verdict this is. */
  version: string | null;
  /** One sentence with the figures and the consequence, shown as is. */
  reason: string;
  /** A short flag for tables: "edge", "no edge>TA", "no edge>hold", "override". */
  label: string;
  figures: VerdictFigures | null;
}

export interface ShadowView {
  challenger: string;
  champion: string;
  /** Market time the shadow ends. */
  until: number;
  /** Challenger minus champion PnL after costs over the shadow so far (percentage points), null before the first scored candle. */
  aheadPct: number | null;
  /** "shadow v1.3 until 2023-09-02 10:00 UTC, ahead by +0.42 %". */
  label: string;
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
  /** When the model serving this symbol was trained or promoted (market time); null when none serves it. */
  lastRetrain: number | null;
  /** The version serving THIS symbol (symbols are served by different versions), null when none. */
  modelVersion: string | null;
  /** How that version was chosen: promoted for it (serving.json), the selection's winner, or the newest fitting one. */
  servingVia: ServingArtifact['via'] | null;
  /** Why that version serves (pinned, promoted..., a fallback's cause), or why nothing can; null when no model covers it. */
  servingReason: string | null;
  /** The edge gate's call on that version for this symbol; null when no model serves it. */
  edge?: EdgeView | null;
  /** A challenger running in shadow beside the serving version (auto_training.shadow_days), else null. */
  shadow?: ShadowView | null;
  position: number;
  /** Paper PnL of this symbol: realised (closed trades, after fees) and unrealised (open position). */
  pnl: SymbolPnl;
}

export interface SymbolPnl {
  realised: number;
  unrealised: number;
  fees: number;
  trades: number;
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
  /** What queued it; `reason` says the same in words. */
  trigger: QueueTrigger;
  reason: string;
  state: JobState;
  priority: number;
  attempts: number;
  lastError: string | null;
  queuedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  progress: JobProgress | null;
  /** Training loss per epoch (or boosting round) of the current/last run, for the loss curve (kept after the job ends). */
  lossHistory: number[];
  /** The validation figure per epoch beside it, named by valLabel. */
  valHistory: number[];
  /** The stage the curves are of: the recurrent net when it trained, else the trees. */
  curvePhase: string | null;
  /** What valHistory holds: the GRU/LSTM stage reports validation accuracy, the trees validation loss. */
  valLabel: string;
  /** Seconds until this job starts (queued) or ends (running), when it can be estimated. */
  etaS: number | null;
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
  /** The selection's winner for symbols without a promotion of their own. */
  selected: boolean;
  pinned: boolean;
  warnings: string[];
  /** Symbols of the universe this version serves right now. */
  servingSymbols: string[];
  /** Where the version stands, and why (why it lost, when it did). */
  verdict: ModelVerdict;
  featureHash: string | null;
  /** Oldest training-data start among its artifacts (ms), null when unknown. */
  trainingStart: number | null;
  createdAt: number | null;
  /** The data its artifacts were trained on, described (source kind, exchange/folder/seed, range). */
  dataSources: string[];
}

export type ModelVerdictKind = 'serving' | 'selected' | 'pinned' | 'outscored' | 'rejected' | 'incomplete' | 'unscored';

export interface ModelVerdict {
  kind: ModelVerdictKind;
  reason: string;
}

/** What a model decision did; code branches on this, `reason` is for people. */
export type DecisionKind = 'promoted' | 'kept' | 'failed' | 'no_edge' | 'pinned' | 'rollback' | 'shadow' | 'shadow_failed';
/** 'shadow': passed the gate, now runs auto_training.shadow_days in shadow (serving unchanged); 'shadow_failed': dropped after it. */
export const DECISION_KINDS: readonly DecisionKind[] = ['promoted', 'kept', 'failed', 'no_edge', 'pinned', 'rollback', 'shadow', 'shadow_failed'];

export interface PromotionDecision {
  at: number;
  symbol: string;
  kind: DecisionKind;
  championVersion: string | null;
  /** Null when there was no challenger (a failed training, a rollback). */
  challengerVersion: string | null;
  championScore: number | null;
  challengerScore: number | null;
  reason: string;
  /** The paired gate's lower bound of the improvement (% per 30 days), when it computed one. */
  lowerBound?: number | null;
  /** Candles of the shared window and its first/last timestamp. */
  rows?: number;
  window?: [number, number] | null;
  /** Unit of the scores ('pnl_pct_30d' for the paired gate). */
  metric?: string;
  /** Served by the operator against the gate (`kilo train --force-serve`). */
  forced?: boolean;
}

/** The version a decision leaves serving the symbol. */
export const servingAfter = (d: PromotionDecision): string | null =>
  d.kind === 'promoted' || d.kind === 'rollback' ? d.challengerVersion : d.championVersion;

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

export interface PositionView {
  symbol: string;
  qty: number;
  /** Fill price of the entry (after slippage). */
  entryPrice: number;
  lastPrice: number;
  value: number;
  /** Marked at the last price, net of the entry fee already paid. */
  unrealisedPnl: number;
  unrealisedPct: number;
  openedAt: number;
}

export interface PortfolioDetail extends PortfolioView {
  startingCash: number;
  realisedPnl: number;
  feesPaid: number;
  tradeCount: number;
  positions: PositionView[];
  /** Most recent trades, newest first (bounded). */
  trades: TradeEvent[];
  /** Equal-weight buy-and-hold of the traded symbols over the same rounds as equityCurve. */
  buyAndHoldCurve: number[];
}

/** One cell of the coverage matrix: what one version holds for one symbol. */
export interface CoverageCell {
  version: string;
  state: 'serving' | 'available' | 'incompatible' | 'incomplete';
  trainedFrom: number | null;
  trainedTo: number | null;
  featureHash: string | null;
  createdAt: number | null;
  note: string;
}

export interface CoverageRowView {
  symbol: string;
  tier: AssetTier;
  state: SymbolState;
  reason: string;
  servingVersion: string | null;
  cells: CoverageCell[];
  /** The active training job of the symbol and when it should be done. */
  job: { id: string; state: JobState; etaS: number | null } | null;
}

export interface CoverageView {
  universeMode: 'list' | 'top_volume';
  universe: string[];
  trained: string[];
  untrained: string[];
  queued: string[];
  training: string[];
  blocked: { symbol: string; reason: string }[];
  /** Configured symbols left out of the universe because the source does not list them; `key` names the config entry. */
  skipped: { key: string; symbol: string; reason: string }[];
  /** The config switches that shaped it, in words. */
  configStatus: string[];
  rows: CoverageRowView[];
}

export interface SelectionView {
  /** The highest-scoring (or pinned) version: it serves symbols without a promotion of their own. */
  winner: string | null;
  reason: string;
  pin: { version: string; honoured: boolean; reason: string } | null;
}

/** A change of what serves a symbol that is not a promotion decision: pins, fallbacks. */
export type ServingEventKind = 'pin' | 'unpin' | 'fallback' | 'fallback_end' | 'edge_override';

/** One line of `kilo history SYMBOL`: what served the symbol from then on, and why. */
export interface HistoryEntry {
  at: number;
  kind: DecisionKind | ServingEventKind;
  /** The version serving the symbol after this entry (for a pin: the pinned one; null: none / the selection). */
  version: string | null;
  /** The version serving it before, when the entry changed it. */
  from: string | null;
  reason: string;
  championScore: number | null;
  challengerScore: number | null;
}

export interface ServingEvent {
  at: number;
  /** Null for a pin/unpin, which applies to every symbol the version covers. */
  symbol: string | null;
  kind: ServingEventKind;
  version: string | null;
  reason: string;
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
  /**
   * 'engine': built by a running engine. 'files': built from the state files with no engine
   * running (kilo status, kilo models --json ...), so prices and jobs are as last saved.
   */
  origin: 'engine' | 'files';
  portfolio: PortfolioDetail;
  overallWinRate: number | null;
  jobsRunning: number;
  symbols: SymbolRow[];
  jobs: JobView[];
  models: ModelVersionView[];
  selectedVersion: string | null;
  pinnedVersion: string | null;
  selection: SelectionView;
  /** The universe's coverage, and per symbol x version: trained window, feature hash, age, state, ETA. */
  coverage: CoverageView;
  /** Bounded tail of the log. */
  logs: LogEntry[];
  /** Recent model decisions, newest first. */
  promotions: PromotionDecision[];
  /** Recent pins and fallbacks, newest first. */
  servingEvents: ServingEvent[];
}

export interface HeartbeatEvent {
  at: number;
  symbols: Pick<SymbolRow, 'symbol' | 'price' | 'candles' | 'signals' | 'winRate' | 'needsRetrain' | 'retrainReason' | 'lastRetrain' | 'state' | 'edge'>[];
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
  /** Sells: what the round trip earned after both fees. */
  realisedPnl?: number;
}

export interface EngineEvents {
  /**
   * Someone asked the engine to stop (the control API's `stop`): the process hosting it (headless,
   * console) stops it its own way and exits. With no listener the engine stops itself.
   */
  stopRequest: [reason: string];
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
  /** Set when this is a view of an engine in another process (kilo attach): its pid. */
  readonly attachedTo?: number;
  start(): Promise<void>;
  /**
   * Stop the loop; running jobs are cancelled unless finishJobs, state is flushed. An attached view
   * detaches instead and the engine keeps running.
   */
  stop(opts?: { finishJobs?: boolean }): Promise<void>;
  /** An attached view: ask the engine itself to stop (`:stop`). */
  stopEngine?(reason?: string): Promise<CommandResult>;
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
  /** Return a symbol to the version that served it before the current one, at once. */
  rollback(symbol: string, reason?: string): Promise<CommandResult>;
  /**
   * The edge gate for one symbol: true lets its model trade whatever its verdict, false applies the
   * gate even if model.edge_overrides lists it, null goes back to what config.yaml says.
   */
  edgeOverride(symbol: string, on: boolean | null, reason?: string): Promise<CommandResult>;
}

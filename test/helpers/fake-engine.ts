/**
 * An in-memory EngineApi for console tests: records every command call, lets tests push
 * snapshots and events, and answers commands with configurable results. No ink, no tfjs.
 */
import type {
  CommandResult,
  EngineApi,
  EngineEvents,
  EngineSnapshot,
  JobView,
  LogEntry,
  ModelVersionView,
  SymbolRow,
  TrainRequest,
} from '../../src/engine-api.js';

export type RecordedCall =
  | { name: 'start' }
  | { name: 'stop'; opts?: { finishJobs?: boolean } }
  | { name: 'train'; req: TrainRequest }
  | { name: 'cancelJob'; jobId: string }
  | { name: 'reprioritize'; jobId: string; delta: number }
  | { name: 'block'; symbol: string; reason?: string }
  | { name: 'unblock'; symbol: string }
  | { name: 'pinModel'; version: string | null }
  | { name: 'rollback'; symbol: string; reason?: string }
  | { name: 'edgeOverride'; symbol: string; on: boolean | null; reason?: string };

type Handler = (...args: never[]) => void;

export function emptySnapshot(): EngineSnapshot {
  return {
    status: 'running',
    startedAt: 0,
    now: 0,
    dataSource: 'simulator seed 42',
    backend: 'wasm',
    round: 0,
    origin: 'engine',
    portfolio: {
      cash: 10_000,
      equity: 10_000,
      pnl: 0,
      pnlPct: 0,
      exposure: 0,
      equityCurve: [],
      startingCash: 10_000,
      realisedPnl: 0,
      feesPaid: 0,
      tradeCount: 0,
      positions: [],
      trades: [],
      buyAndHoldCurve: [],
    },
    overallWinRate: null,
    jobsRunning: 0,
    symbols: [],
    jobs: [],
    models: [],
    selectedVersion: null,
    pinnedVersion: null,
    selection: { winner: null, reason: 'no compatible complete model', pin: null },
    coverage: { universeMode: 'list', universe: [], trained: [], untrained: [], queued: [], training: [], blocked: [], skipped: [], configStatus: [], rows: [] },
    logs: [],
    promotions: [],
    servingEvents: [],
  };
}

export function symbolRow(symbol: string, over: Partial<SymbolRow> = {}): SymbolRow {
  return {
    symbol,
    tier: 'pre_trained',
    state: 'live',
    stateReason: '',
    price: 100,
    sparkline: [1, 2, 3, 2, 4, 5],
    candles: 1000,
    lastSignal: null,
    signals: 0,
    winRate: null,
    needsRetrain: false,
    retrainReason: '',
    lastRetrain: null,
    modelVersion: '1.0',
    servingVia: 'promoted',
    servingReason: null,
    position: 0,
    pnl: { realised: 0, unrealised: 0, fees: 0, trades: 0 },
    ...over,
  };
}

export function jobView(id: string, symbol: string, over: Partial<JobView> = {}): JobView {
  return {
    id,
    symbol,
    trigger: 'operator',
    reason: 'test',
    state: 'queued',
    priority: 0,
    attempts: 0,
    lastError: null,
    queuedAt: 0,
    startedAt: null,
    finishedAt: null,
    progress: null,
    lossHistory: [],
    valHistory: [],
    curvePhase: 'gru',
    valLabel: 'val accuracy',
    etaS: null,
    ...over,
  };
}

export function modelView(version: string, over: Partial<ModelVersionView> = {}): ModelVersionView {
  return {
    version,
    complete: true,
    problems: [],
    trainingMode: 'single_symbol',
    encoding: 'one_hot',
    trainedSymbols: ['BTC/USDT'],
    trainingDays: 365,
    trainingEnd: Date.UTC(2023, 11, 31),
    compatible: true,
    rejectReason: null,
    score: { symbols: 0.5, recency: 0.3, version: 0.1, total: 0.9 },
    selected: false,
    pinned: false,
    warnings: [],
    servingSymbols: [],
    verdict: { kind: 'outscored', reason: 'not selected' },
    featureHash: 'abc123',
    trainingStart: Date.UTC(2023, 0, 1),
    createdAt: Date.UTC(2023, 11, 31),
    dataSources: ['exchange binance via api.binance.com, 2023-01-01 .. 2023-12-31'],
    ...over,
  };
}

export class FakeEngine implements EngineApi {
  readonly calls: RecordedCall[] = [];
  /** What each command answers; tests may replace it. */
  result: (call: RecordedCall) => CommandResult = (c) => ({ ok: true, message: `${c.name} ok` });
  private snap: EngineSnapshot;
  private listeners = new Set<() => void>();
  private handlers = new Map<keyof EngineEvents, Set<Handler>>();
  private logSeq = 0;

  constructor(initial: Partial<EngineSnapshot> = {}) {
    this.snap = { ...emptySnapshot(), ...initial };
  }

  // Arrow properties so they can be passed around unbound, like the real store's.
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): EngineSnapshot => this.snap;

  /** Replace part of the snapshot (a new object, as a real store would) and notify. */
  update(patch: Partial<EngineSnapshot> | ((s: EngineSnapshot) => Partial<EngineSnapshot>)): void {
    const p = typeof patch === 'function' ? patch(this.snap) : patch;
    this.snap = { ...this.snap, ...p };
    for (const l of [...this.listeners]) l();
  }

  on<K extends keyof EngineEvents>(event: K, handler: (...args: EngineEvents[K]) => void): () => void {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    set.add(handler as unknown as Handler);
    return () => set.delete(handler as unknown as Handler);
  }

  emit<K extends keyof EngineEvents>(event: K, ...args: EngineEvents[K]): void {
    for (const h of [...(this.handlers.get(event) ?? [])]) (h as unknown as (...a: EngineEvents[K]) => void)(...args);
  }

  listenerCount(event?: keyof EngineEvents): number {
    if (!event) return this.listeners.size;
    return this.handlers.get(event)?.size ?? 0;
  }

  /** Emit a log event with the next sequence number. */
  log(level: LogEntry['level'], message: string, symbol?: string): LogEntry {
    const e: LogEntry = { seq: ++this.logSeq, at: this.snap.now, level, message, ...(symbol ? { symbol } : {}) };
    this.emit('log', e);
    return e;
  }

  private record(call: RecordedCall): Promise<CommandResult> {
    this.calls.push(call);
    return Promise.resolve(this.result(call));
  }

  callsNamed<N extends RecordedCall['name']>(name: N): Extract<RecordedCall, { name: N }>[] {
    return this.calls.filter((c): c is Extract<RecordedCall, { name: N }> => c.name === name);
  }

  async start(): Promise<void> {
    this.calls.push({ name: 'start' });
    this.update({ status: 'running' });
  }
  async stop(opts?: { finishJobs?: boolean }): Promise<void> {
    this.calls.push(opts ? { name: 'stop', opts } : { name: 'stop' });
    this.update({ status: 'stopped' });
  }
  train(req: TrainRequest): Promise<CommandResult> {
    return this.record({ name: 'train', req });
  }
  cancelJob(jobId: string): Promise<CommandResult> {
    return this.record({ name: 'cancelJob', jobId });
  }
  reprioritize(jobId: string, delta: number): Promise<CommandResult> {
    return this.record({ name: 'reprioritize', jobId, delta });
  }
  block(symbol: string, reason?: string): Promise<CommandResult> {
    return this.record(reason === undefined ? { name: 'block', symbol } : { name: 'block', symbol, reason });
  }
  unblock(symbol: string): Promise<CommandResult> {
    return this.record({ name: 'unblock', symbol });
  }
  pinModel(version: string | null): Promise<CommandResult> {
    return this.record({ name: 'pinModel', version });
  }
  rollback(symbol: string, reason?: string): Promise<CommandResult> {
    return this.record(reason === undefined ? { name: 'rollback', symbol } : { name: 'rollback', symbol, reason });
  }
  edgeOverride(symbol: string, on: boolean | null, reason?: string): Promise<CommandResult> {
    return this.record({ name: 'edgeOverride', symbol, on, ...(reason ? { reason } : {}) });
  }

}

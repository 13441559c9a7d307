/**
 * project(sources) -> EngineSnapshot: the ONLY view builder. A pure function of the engine state,
 * the registry, the queue, the outcome stats, the portfolio and the market buffers. The console,
 * every `--json` command and the control API read what it returns, so they cannot disagree: a
 * running engine projects its live parts; with no engine running, src/engine/offline.ts loads the
 * same parts from the state files and projects them the same way.
 */
import type { Config } from '../config/schema.js';
import type { CoverageReport } from '../assets/coverage.js';
import { tierOf } from '../assets/tiers.js';
import type {
  ShadowView,
  EngineSnapshot,
  HistoryEntry,
  ServingEvent,
  JobProgress,
  JobView,
  LogEntry,
  PortfolioDetail,
  PositionView,
  PromotionDecision,
  SymbolRow,
} from '../engine-api.js';
import { servingAfter } from '../engine-api.js';
import type { ModelRegistry } from '../registry/registry.js';
import type { QueueEntry } from '../training/queue.js';
import type { PaperBroker } from '../trading/broker.js';
import { orderQueue } from '../policy/queue-order.js';
import type { StateData } from './state-file.js';
import { projectCoverage, projectModels, type ServingMap } from './project-models.js';
import { edgeViewFor } from './edge-gate.js';
import { shadowLabel, type ShadowState } from '../policy/shadow.js';

export interface Curve {
  loss: readonly number[];
  val: readonly number[];
}

/** A running job's live figures (the trainer's; none when answering from files). */
export interface LiveJob {
  progress: JobProgress | null;
  /** Per training stage (gru, gbdt, ppo): loss and validation figure per epoch / round. */
  curves: Readonly<Record<string, Curve>>;
}

const VAL_LABEL: Record<string, string> = { gru: 'val accuracy', gbdt: 'val loss', ppo: 'mean reward' };

/** The curve a job's chart shows: the recurrent net's when it trained, else the first stage that reported. */
export function chartCurve(curves: Readonly<Record<string, Curve>>): { phase: string; curve: Curve } | null {
  const phase = ['gru', 'gbdt', 'ppo', ...Object.keys(curves)].find((p) => (curves[p]?.loss.length ?? 0) > 0);
  return phase ? { phase, curve: curves[phase] } : null;
}

export interface StatsSource {
  symbolStats(symbol: string): { signals: number; winRate: number | null };
  overall(): { winRate: number | null };
}

export interface MarketView {
  price: number | null;
  /** Recent closes, oldest first. */
  sparkline: number[];
  candles: number;
  /** Why the feed holds the symbol back (stale, a hole, a suspicious candle), or null. */
  hold?: string | null;
}

export interface ProjectionSources {
  origin: EngineSnapshot['origin'];
  /** The config with the pin in force applied. */
  config: Config;
  status: EngineSnapshot['status'];
  startedAt: number | null;
  /** Wall clock (queue times, uptime). */
  now: number;
  /** Market clock (signals, promotions, model ages). */
  marketNow: number;
  round: number;
  dataSource: string;
  backend: string;
  state: Readonly<StateData>;
  registry: Pick<ModelRegistry, 'list' | 'selection' | 'servingArtifactFor' | 'unservable'>;
  universe: readonly string[];
  coverage: CoverageReport | null;
  queue: readonly QueueEntry[];
  live: ReadonlyMap<string, LiveJob>;
  stats: StatsSource;
  broker: PaperBroker;
  market: (symbol: string) => MarketView;
  /** Newest first. */
  promotions: readonly PromotionDecision[];
  logs: readonly LogEntry[];
  /** Median seconds of past trainings, for queue ETAs; null when none is known. */
  typicalTrainingS: number | null;
}

const JOBS_FINISHED_SHOWN = 20;
const TRADES_SHOWN = 200;
const DECISIONS_SHOWN = 50;

export function project(src: ProjectionSources): EngineSnapshot {
  const cfg = src.config;
  const serving: ServingMap = new Map(src.universe.map((s) => [s, src.registry.servingArtifactFor(cfg, s, src.marketNow)]));
  const sel = src.registry.selection(cfg, src.marketNow);
  const versions = src.registry.list();
  const jobs = projectJobs(src);
  const portfolio = projectPortfolio(src);
  return {
    status: src.status,
    startedAt: src.startedAt,
    now: src.now,
    marketNow: src.marketNow,
    dataSource: src.dataSource,
    backend: src.backend,
    round: src.round,
    origin: src.origin,
    portfolio,
    overallWinRate: src.stats.overall().winRate,
    jobsRunning: jobs.filter((j) => j.state === 'running').length,
    symbols: projectSymbols(src, serving, portfolio.positions),
    jobs,
    models: projectModels(versions, sel, cfg, serving),
    selectedVersion: sel.winner,
    pinnedVersion: cfg.model.pinned_version,
    selection: { winner: sel.winner, reason: sel.reason, pin: sel.pin ? { ...sel.pin } : null },
    coverage: {
      universeMode: cfg.universe.mode,
      universe: [...src.universe],
      trained: [...(src.coverage?.trained ?? [])],
      untrained: [...(src.coverage?.untrained ?? [])],
      queued: [...(src.coverage?.queued ?? [])],
      training: [...(src.coverage?.training ?? [])],
      blocked: (src.coverage?.blocked ?? []).map((b) => ({ ...b })),
      skipped: (src.coverage?.skipped ?? []).map((x) => ({ ...x })),
      configStatus: [...(src.coverage?.configStatus ?? [])],
      rows: projectCoverage(versions, src.coverage, cfg, serving, jobs),
    },
    logs: [...src.logs],
    promotions: src.promotions.slice(0, DECISIONS_SHOWN),
    servingEvents: [...src.state.servingEvents].reverse().slice(0, DECISIONS_SHOWN),
  };
}

function shadowView(s: ShadowState | undefined): ShadowView | null {
  if (!s) return null;
  return { challenger: s.challenger, champion: s.champion, until: s.until, aheadPct: s.score ? s.score.challenger - s.score.champion : null, label: shadowLabel(s) };
}

function projectSymbols(src: ProjectionSources, serving: ServingMap, positions: readonly PositionView[]): SymbolRow[] {
  const cfg = src.config;
  const running = new Set(src.queue.filter((e) => e.state === 'running').map((e) => e.symbol));
  return src.universe.map((symbol) => {
    const row = src.coverage?.rows.find((r) => r.symbol === symbol);
    const m = src.market(symbol);
    const stats = src.stats.symbolStats(symbol);
    const d = src.state.retrainDecisions[symbol];
    const s = serving.get(symbol) ?? null;
    const version = s?.artifact.version ?? null;
    // "Last train" is about the model serving now: a symbol whose only training failed has none.
    const promoted = version ? src.promotions.find((p) => p.symbol === symbol && p.challengerVersion === version && (p.kind === 'promoted' || p.kind === 'rollback')) : undefined;
    const pos = positions.find((p) => p.symbol === symbol);
    const pnl = src.state.symbolPnl[symbol] ?? { realised: 0, fees: 0, trades: 0 };
    return {
      symbol,
      tier: row?.tier ?? tierOf(symbol, cfg),
      // A live symbol being retrained keeps trading on its champion; show that it trains.
      state: running.has(symbol) && row?.state === 'live' ? 'training' : (row?.state ?? 'blocked'),
      stateReason: [m.hold, row?.reason].filter(Boolean).join('; '),
      price: m.price,
      sparkline: m.sparkline,
      candles: m.candles,
      lastSignal: src.state.lastSignals[symbol] ?? null,
      signals: stats.signals,
      winRate: stats.winRate,
      needsRetrain: d?.retrain ?? false,
      retrainReason: d?.reason ?? '',
      lastRetrain: version ? (promoted?.at ?? s?.artifact.metadata?.training_end_timestamp ?? null) : null,
      modelVersion: version,
      servingVia: s?.via ?? null,
      // Why that version (or why nothing can serve: a promoted or pinned version is broken and nothing older fits).
      servingReason: s?.reason ?? src.registry.unservable(cfg, symbol, src.marketNow),
      // The edge gate on that version, with the override in force: what the round applies to its signals.
      edge: s ? edgeViewFor(s.artifact.metadata?.edge, version, cfg, symbol, src.state.edgeOverrides?.[symbol]?.on ?? null) : null,
      shadow: shadowView(src.state.shadows?.[symbol]),
      position: pos?.qty ?? 0,
      pnl: { realised: pnl.realised, unrealised: pos?.unrealisedPnl ?? 0, fees: pnl.fees, trades: pnl.trades },
    };
  });
}

function projectJobs(src: ProjectionSources): JobView[] {
  const entries = src.queue;
  const active = entries.filter((e) => e.state === 'queued' || e.state === 'running');
  const finished = entries
    .filter((e) => e.state !== 'queued' && e.state !== 'running')
    .sort((a, b) => (b.finished_at ?? b.added_at) - (a.finished_at ?? a.added_at))
    .slice(0, JOBS_FINISHED_SHOWN);
  const eta = queueEtas(src);
  return [...active, ...finished].map((e) => {
    const live = src.live.get(e.id);
    const saved = src.state.jobCurves[e.id];
    const chart = live ? chartCurve(live.curves) : saved ? { phase: saved.phase ?? 'gru', curve: saved } : null;
    return {
      id: e.id,
      symbol: e.symbol,
      trigger: e.trigger,
      reason: e.reason,
      state: e.state,
      priority: e.priority,
      attempts: e.attempts,
      lastError: e.last_error,
      queuedAt: e.added_at,
      startedAt: e.started_at,
      finishedAt: e.finished_at,
      progress: live?.progress ?? null,
      lossHistory: [...(chart?.curve.loss ?? [])],
      valHistory: [...(chart?.curve.val ?? [])],
      curvePhase: chart?.phase ?? null,
      valLabel: VAL_LABEL[chart?.phase ?? 'gru'] ?? 'validation',
      etaS: eta.get(e.id) ?? null,
    };
  });
}

/**
 * Seconds until each running job ends and each runnable queued job would end: the queue's own
 * order laid onto max_concurrent_trainings slots, a queued job costing the typical training time.
 */
function queueEtas(src: ProjectionSources): Map<string, number> {
  const out = new Map<string, number>();
  const typical = src.typicalTrainingS;
  const slots: number[] = [];
  for (const e of src.queue.filter((x) => x.state === 'running')) {
    const left = src.live.get(e.id)?.progress?.etaS ?? typical;
    if (left === null || left === undefined) continue;
    out.set(e.id, left);
    slots.push(left);
  }
  if (typical === null) return out;
  const n = Math.max(1, src.config.resources.max_concurrent_trainings);
  while (slots.length < n) slots.push(0);
  slots.sort((a, b) => a - b);
  for (const e of orderQueue(src.queue, src.now)) {
    const start = slots.shift() ?? 0;
    const end = start + typical;
    out.set(e.id, end);
    slots.push(end);
    slots.sort((a, b) => a - b);
  }
  return out;
}

function projectPortfolio(src: ProjectionSources): PortfolioDetail {
  const b = src.broker;
  const json = b.toJSON();
  const positions: PositionView[] = b.openPositions().map((p) => {
    const last = json.lastPrices[p.symbol] ?? p.avgPrice;
    const value = p.qty * last;
    return {
      symbol: p.symbol,
      qty: p.qty,
      entryPrice: p.avgPrice,
      lastPrice: last,
      value,
      unrealisedPnl: value - p.costBasis,
      unrealisedPct: p.costBasis > 0 ? ((value - p.costBasis) / p.costBasis) * 100 : 0,
      openedAt: p.openedAt,
    };
  });
  return {
    ...b.view(),
    startingCash: json.startingCash,
    realisedPnl: b.realisedPnl,
    feesPaid: b.feesPaid,
    tradeCount: b.tradesCount,
    positions,
    trades: src.state.trades.slice(-TRADES_SHOWN).reverse(),
    buyAndHoldCurve: [...src.state.benchmark.curve],
  };
}

/**
 * `kilo history SYMBOL`: the symbol's decisions (promotions, kept, failed, rollbacks) and its pins
 * and fallbacks, oldest first, each with the version serving it from then on.
 */
export function projectHistory(symbol: string, decisions: readonly PromotionDecision[], events: readonly ServingEvent[]): HistoryEntry[] {
  const fromDecisions: HistoryEntry[] = decisions
    .filter((d) => d.symbol === symbol)
    .map((d) => ({
      at: d.at,
      kind: d.kind,
      version: servingAfter(d),
      from: d.kind === 'promoted' || d.kind === 'rollback' ? d.championVersion : null,
      reason: d.reason,
      championScore: d.championScore,
      challengerScore: d.challengerScore,
    }));
  const fromEvents: HistoryEntry[] = events
    .filter((e) => e.symbol === symbol || e.symbol === null)
    .map((e) => ({ at: e.at, kind: e.kind, version: e.kind === 'unpin' ? null : e.version, from: null, reason: e.reason, championScore: null, challengerScore: null }));
  // Stable: a decision and an event at the same time keep their own order (decisions first).
  return [...fromDecisions, ...fromEvents].map((e, i) => ({ e, i })).sort((a, b) => a.e.at - b.e.at || a.i - b.i).map(({ e }) => e);
}

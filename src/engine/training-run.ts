/**
 * ONE training path: the engine's trainer and `kilo train` both call runTraining; what differs
 * between them are arguments (where candles come from, the pool, the trigger, --force-serve).
 * A run: the job's symbol set (the same set in multi_symbol mode), the recipe (src/engine/recipe.ts),
 * the version to write, the history policy, the training on a worker with the champion/challenger
 * gate on a window of at least auto_training.gate_days, and the promotion decision from the paired
 * gate (decidePromotion(gatePromotionInput(...))). The decision is returned, not applied: the
 * caller hands it to ModelDecisions, which records it and puts the version it leaves in service.
 */
import type { Config } from '../config/schema.js';
import type { JobProgress, LogLevel, PromotionDecision } from '../engine-api.js';
import { TIMEFRAME_MS, type Candle, type DataSourceInfo, type Timeframe } from '../market/types.js';
import { historyStats } from '../market/validate.js';
import type { ModelKind } from '../models/metadata.js';
import type { ModelRegistry, ServingArtifact } from '../registry/registry.js';
import type { TrainingBackend, BackendRunOptions } from '../distributed/backend.js';
import { buildJobSpec, jobSymbolsFor } from '../training/pipeline-spec.js';
import type { PipelineJobSpec, TrainResult } from '../training/protocol.js';
import type { QueueTrigger } from '../training/queue-store.js';
import { decidePromotion, gatePromotionInput, type PromotionDecisionResult } from '../policy/promotion.js';
import { decideServing } from '../policy/edge.js';
import { tierOf } from '../assets/tiers.js';
import { chooseRecipe, type Recipe } from '../policy/recipe.js';
import type { ShortHistory } from './state.js';

const DAY_MS = 86_400_000;

export interface TrainingRunDeps {
  /** The effective config (an operator's pin applied): it picks the champion the gate scores. */
  config: Config;
  registry: ModelRegistry;
  pool: TrainingBackend;
  modelsDir: string;
  /** Market time: decisions are stamped with it and the history policy measures against it. */
  marketNow: () => number;
  /** The most recent `days` of closed candles of `symbol` up to market now. */
  fetchHistory: (symbol: string, days: number) => Promise<Candle[]>;
  /** Where the candles came from (recorded in metadata.json). */
  provenance?: (symbols: string[]) => Promise<DataSourceInfo | undefined>;
  /** The universe the engine trades: a multi_symbol job with no configured set trains all of it. */
  universe: readonly string[];
}

export interface TrainingRunRequest {
  symbol: string;
  trigger: QueueTrigger;
  /** true: --quick; false: the designed recipe; undefined: not said (see chooseRecipe). */
  quick?: boolean;
  models?: ModelKind[];
  /** Train even when a model covers the symbol (a retrain always does). */
  force?: boolean;
  version?: string;
  /** `kilo train --force-serve`: the new version serves whatever the gate said (recorded as forced). */
  forceServe?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: JobProgress) => void;
  onLog?: (level: LogLevel, message: string) => void;
  /** The plan, once known and before any candle is fetched (the CLI prints it). */
  onPlan?: (plan: { symbols: string[]; recipe: Recipe; version: string; reason: string; champion: string | null }) => void;
  /** A remote backend names its job after this entry's attempt. */
  queueEntry?: BackendRunOptions['queueEntry'];
  /** The candles the job trains on, per symbol, once fetched and past the history policy. */
  onFetched?: (candles: Readonly<Record<string, Candle[]>>) => void;
}

export type TrainingRunOutcome =
  | { kind: 'skipped'; reason: string; recipe: Recipe }
  | { kind: 'short_history'; history: ShortHistory; recipe: Recipe }
  | {
      kind: 'trained';
      recipe: Recipe;
      symbols: string[];
      version: string;
      result: TrainResult;
      /** What the caller applies (ModelDecisions.apply). */
      decision: PromotionDecision;
      /** The paired gate's own result (null for a first model). */
      gate: PromotionDecisionResult | null;
    };

/** The symbols one job trains, the asked one first (the gate scores it). */
export function trainingSymbols(config: Config, symbol: string, universe: readonly string[]): string[] {
  return jobSymbolsFor(config, symbol, universe);
}

/** The version pinned for `symbol` when the pin is what serves it, else null. */
const pinnedFor = (champion: ServingArtifact | null): string | null => (champion?.via === 'pinned' ? champion.artifact.version : null);

export async function runTraining(d: TrainingRunDeps, req: TrainingRunRequest): Promise<TrainingRunOutcome> {
  const { config, registry } = d;
  const symbol = req.symbol;
  const recipe = chooseRecipe({ trigger: req.trigger, quick: req.quick, tier: tierOf(symbol, config) }, config);
  const symbols = trainingSymbols(config, symbol, d.universe);
  await registry.refresh();
  const champion = registry.servingArtifactFor(config, symbol, d.marketNow());
  const version = registry.resolveTrainVersion(config, { symbol, force: (Boolean(champion) && req.trigger === 'retrain') || Boolean(req.force), version: req.version });
  if (version.skip) return { kind: 'skipped', reason: version.reason, recipe };
  req.onPlan?.({ symbols, recipe, version: version.version, reason: version.reason, champion: champion?.artifact.version ?? null });

  // The history policy judges the symbol's history (at least model.min_history_days_to_train of it,
  // covered), not the recipe's window: a quick recipe over 60 days of a coin with years of history
  // is not a short history. The recipe then trains on its own most recent days.
  const candles: Record<string, Candle[]> = {};
  const checkDays = Math.max(recipe.days, config.model.min_history_days_to_train);
  for (const s of symbols) {
    if (req.signal?.aborted) throw new Error('cancelled');
    candles[s] = await d.fetchHistory(s, s === symbol ? checkDays : recipe.days);
  }
  if (req.signal?.aborted) throw new Error('cancelled');
  const short = checkHistory(config, candles[symbol], d.marketNow());
  if (short) return { kind: 'short_history', history: short, recipe };
  if (checkDays > recipe.days) {
    const all = candles[symbol];
    const from = all[all.length - 1].timestamp + TIMEFRAME_MS[config.exchange.timeframe as Timeframe] - recipe.days * DAY_MS;
    candles[symbol] = all.filter((c) => c.timestamp >= from);
  }
  req.onFetched?.(candles);

  const perDay = DAY_MS / TIMEFRAME_MS[config.exchange.timeframe as Timeframe];
  const spec: PipelineJobSpec = {
    ...buildJobSpec(config, {
      symbols,
      candles,
      dataSource: await d.provenance?.(symbols),
      models: req.models,
      version: version.version,
      modelsDir: d.modelsDir,
    }),
    profile: recipe.profile,
    // The window is the challenger's own test slice, auto_training.gate_days long (the pipeline sizes
    // it, and shortens it when the history cannot hold it; the gate then keeps the champion: minRows).
    gate: champion ? { championDir: champion.artifact.dir, rows: Math.ceil(config.auto_training.gate_days * perDay) } : undefined,
  };
  const result = await d.pool.run(spec, { signal: req.signal, onProgress: req.onProgress, onLog: req.onLog, queueEntry: req.queueEntry });
  await registry.refresh();
  const { decision, gate } = decide(config, { symbol, champion, version: version.version, result, at: d.marketNow(), forceServe: req.forceServe, recipe });
  return { kind: 'trained', recipe, symbols, version: version.version, result, decision, gate };
}

interface DecideInput {
  symbol: string;
  champion: ServingArtifact | null;
  version: string;
  result: TrainResult;
  at: number;
  forceServe?: boolean;
  recipe: Recipe;
}

/** The promotion decision from the worker's gate scores: typed kind, both scores, bound, rows, window. */
export function decide(config: Config, i: DecideInput): { decision: PromotionDecision; gate: PromotionDecisionResult | null } {
  const { symbol, champion } = i;
  const edge = i.result.metadata?.edge;
  const base = { at: i.at, symbol, championVersion: champion?.artifact.version ?? null, challengerVersion: i.version };
  if (!champion) {
    // A first model is installed; whether it trades is the edge gate's call, every round.
    const s = decideServing(edge, config, { symbol });
    const verdict = s.verdict === 'edge' ? 'it shows an edge' : s.verdict === 'no_edge' ? 'no edge' : 'no verdict';
    const why =
      s.kind === 'model' && s.verdict === 'edge'
        ? verdict
        : s.kind === 'model' || s.kind === 'override'
          ? `${verdict}, and it trades anyway: ${s.kind === 'override' ? 'the operator overrode the edge gate' : 'model.require_edge is off'}`
          : `${verdict}: it serves but the edge gate keeps it from trading (${s.kind === 'ta' ? 'TA rule' : 'hold'})`;
    return { decision: { ...base, kind: 'promoted', championScore: null, challengerScore: null, reason: `first model for ${symbol} (${i.recipe.name} recipe): ${why}` }, gate: null };
  }
  const championVersion = champion.artifact.version;
  let gate: PromotionDecisionResult;
  if (!i.result.gate) {
    gate = { kind: 'failed', reason: `challenger v${i.version} was not scored on the shared window; champion v${championVersion} stays`, championScore: null, challengerScore: null, lowerBound: null, rows: 0, window: null, promote: false };
  } else {
    gate = decidePromotion(
      gatePromotionInput(i.result.gate, { symbol, championVersion, challengerVersion: i.version, challengerEdge: edge, config, pinned: pinnedFor(champion) }),
    );
  }
  const figures = { championScore: gate.championScore, challengerScore: gate.challengerScore, lowerBound: gate.lowerBound, rows: gate.rows, window: gate.window, metric: i.result.gate?.metric };
  if (i.forceServe && gate.kind !== 'promoted') {
    return { decision: { ...base, ...figures, kind: 'promoted', forced: true, reason: `served by the operator (--force-serve) although the gate said ${gate.kind}: ${gate.reason}` }, gate };
  }
  return { decision: { ...base, ...figures, kind: gate.kind, reason: gate.reason }, gate };
}

/** The history policy: enough days, and enough of them present. */
export function checkHistory(config: Config, candles: readonly Candle[], now: number): ShortHistory | null {
  const { model } = config;
  const tf = config.exchange.timeframe as Timeframe;
  const hs = historyStats(candles, tf, model.target_history_days, now);
  const days = hs.historyDays;
  if (days < model.min_history_days_to_train) {
    return { days, coverage: hs.coveragePct, reason: `only ${days.toFixed(1)} days of history (< ${model.min_history_days_to_train}, model.min_history_days_to_train)` };
  }
  // Coverage over the span the symbol has existed: a young coin is not penalised for its age.
  const expected = candles.length ? (candles[candles.length - 1].timestamp - candles[0].timestamp) / TIMEFRAME_MS[tf] + 1 : 0;
  const coverage = expected ? candles.length / expected : 0;
  if (coverage < model.min_history_coverage_pct) {
    return { days, coverage, reason: `history coverage ${(coverage * 100).toFixed(1)}% < ${(model.min_history_coverage_pct * 100).toFixed(0)}% (model.min_history_coverage_pct)` };
  }
  return null;
}

/**
 * Champion/challenger scoring on ONE shared window, worker side. Runs inside the training worker
 * right after a challenger is written: both artifacts predict the same candles (each with its own
 * saved preprocessor and the same feature code), and both streams of live-style signals are
 * replayed through the broker's rule (src/evaluation/judge.ts), with the baselines on the same
 * rows. The result carries the per-candle PnL vectors; the decision is the pure paired policy in
 * src/policy/promotion.ts.
 *
 * The window is the challenger's own test slice (its metadata records where it starts; the
 * pipeline makes it at least auto_training.gate_days long when a gate is asked), so it is out of
 * sample for the challenger. The champion was trained earlier; window rows it was fitted or
 * early-stopped on (before its own test slice) are counted in `seenRows`. Such rows can only
 * flatter the champion, so they make promotion harder, never easier.
 */
import type { Candle } from '../market/types.js';
import { TIMEFRAME_MS, type Timeframe } from '../market/types.js';
import { loadArtifact } from '../models/artifact-load.js';
import { SymbolPredictor, type FeatureMemo, type PredictRequest } from '../models/predictor.js';
import { makeLabels } from '../features/labels.js';
import { majorityClass, taScores } from '../models/baselines.js';
import { callsFromSignals, judgeRows, type Calls, type Costs } from '../evaluation/judge.js';
import { blockLengthFor } from '../evaluation/bootstrap.js';
import { ratePct30d } from '../evaluation/edge.js';
import type { Tf } from '../models/tf-backend.js';

export const GATE_METRIC = 'pnl_pct_30d';

export interface GateSummary {
  total_pct: number;
  trades: number;
  exposure: number;
  fees_pct: number;
}

export interface GateScores {
  /** 'pnl_pct_30d': mean PnL after costs per candle on the window, as % per 30 days. */
  metric: string;
  rows: number;
  /** From the window's first to last scored candle (ms UTC). */
  window: [number, number];
  /** NaN (never promoted) when a model failed to load or predict; `errors` says why. */
  scores: Record<string, number>;
  errors: Record<string, string>;
  /** Per-candle PnL after costs on the window: every scored artifact and the baselines (ta, no_trade, buy_and_hold, majority). */
  pnl: Record<string, Float64Array>;
  summaries: Record<string, GateSummary>;
  /** Rows of the window each artifact was fitted or early-stopped on (before its own test slice). */
  seenRows: Record<string, number>;
  candlesPer30d: number;
  blockLength: number;
  costs: Costs;
}

export interface GateInput {
  symbol: string;
  candles: readonly Candle[];
  /** Artifact folders to score, e.g. {champion: dir, challenger: dir}. */
  artifacts: Record<string, string>;
  /** Fewest candles to score when the challenger's test slice is unknown (older metadata). */
  rows: number;
  horizon: number;
  labelThreshold: number;
  /** Which entry of `artifacts` is the challenger (its test slice is the window). @default 'challenger' */
  challenger?: string;
  /** First timestamp of the window; by default the start of the challenger's own test slice. */
  from?: number;
  /** Costs of the replay; by default those the challenger's verdict used, else the defaults. */
  costs?: Costs;
  tf?: Tf;
  /**
   * Loads the predictor of an artifact folder instead of the gate (the scorecard loads each
   * version once for all its windows). What it returns belongs to the caller: the gate does not
   * dispose it. @default a fresh load, disposed when scored
   */
  predictorFor?: (dir: string) => Promise<SymbolPredictor>;
  /** Feature rows shared between the artifacts and with the caller's other windows of these candles. @default one memo for this call */
  features?: FeatureMemo;
}

const DEFAULT_COSTS: Costs = { feeRate: 0.001, slippageBps: 5, entryThreshold: 0.55 };

export async function scoreOnSharedWindow(input: GateInput): Promise<GateScores> {
  const { candles } = input;
  const closes = candles.map((c) => c.close);
  const scores: Record<string, number> = {};
  const errors: Record<string, string> = {};
  const predictors: Record<string, SymbolPredictor> = {};
  const owned = !input.predictorFor;
  for (const [name, dir] of Object.entries(input.artifacts)) {
    try {
      predictors[name] = input.predictorFor ? await input.predictorFor(dir) : new SymbolPredictor(await loadArtifact(dir, { tf: input.tf }));
    } catch (err) {
      errors[name] = (err as Error).message;
      scores[name] = Number.NaN;
    }
  }
  const chal = predictors[input.challenger ?? 'challenger']?.artifact.metadata;
  const chalEdge = chal?.edge;
  const symEdge = chalEdge?.symbols[input.symbol];
  const from = input.from ?? symEdge?.folds[symEdge.folds.length - 1]?.from;
  const costs = input.costs ?? (chalEdge ? { feeRate: chalEdge.costs.fee_rate, slippageBps: chalEdge.costs.slippage_bps, entryThreshold: chalEdge.costs.entry_threshold } : DEFAULT_COSTS);
  // The last candle only marks the last row's position: rows end one before it.
  const end = candles.length - 1;
  let start = from !== undefined ? candles.findIndex((c) => c.timestamp >= from) : Math.max(0, end - input.rows);
  if (start < 0) start = end;
  for (const p of Object.values(predictors)) start = Math.max(start, p.minCandles - 1);
  const n = Math.max(0, end - start);
  const tf = (chal?.timeframe ?? '1h') as Timeframe;
  const per30 = (30 * 86_400_000) / (TIMEFRAME_MS[tf] ?? 3_600_000);
  // Champion, challenger and first model predict the same candles: their feature rows are built once.
  const memo: FeatureMemo = input.features ?? new Map();
  const strategies: Record<string, Calls> = {};
  const seenRows: Record<string, number> = {};
  for (const [name, p] of Object.entries(predictors)) {
    try {
      const reqs: PredictRequest[] = [];
      for (let i = start; i < end; i++) reqs.push({ symbol: input.symbol, candles: candles.slice(Math.max(0, i + 1 - p.minCandles - 200), i + 1) });
      const preds = p.predictBatch(reqs, memo);
      if (preds.some((q) => !Number.isFinite(q.confidence))) throw new Error('a prediction is not a number');
      strategies[name] = callsFromSignals(preds);
      // Rows before the artifact's own test slice were fitted or early-stopped on; without a
      // verdict in its metadata, everything up to its training end counts.
      const own = p.artifact.metadata.edge?.symbols[input.symbol]?.folds;
      const seenBefore = own?.length ? own[own.length - 1].from : p.artifact.metadata.training_end_timestamp + 1;
      seenRows[name] = candles.slice(start, end).filter((c) => c.timestamp < seenBefore).length;
    } catch (err) {
      errors[name] = (err as Error).message;
      scores[name] = Number.NaN;
    } finally {
      if (owned) p.artifact.dispose();
    }
  }
  const pnl: Record<string, Float64Array> = {};
  const summaries: Record<string, GateSummary> = {};
  if (n > 0) {
    const labels = makeLabels(closes, input.horizon, input.labelThreshold);
    const majority = majorityClass(labels.subarray(0, Math.max(0, start - input.horizon)));
    const replays = judgeRows({ closes, from: start, to: end, strategies, taScores: taScores(closes), majority, costs });
    for (const [name, r] of Object.entries(replays)) {
      pnl[name] = r.pnl;
      summaries[name] = { total_pct: r.totalPct, trades: r.trades, exposure: r.exposure, fees_pct: r.feesPct };
      if (name in strategies) scores[name] = ratePct30d(r.pnl.reduce((s, x) => s + Math.log1p(x), 0) / n, per30);
    }
  } else {
    for (const name of Object.keys(strategies)) scores[name] = Number.NaN;
  }
  return {
    metric: GATE_METRIC,
    rows: n,
    window: [candles[start]?.timestamp ?? 0, candles[end - 1]?.timestamp ?? 0],
    scores,
    errors,
    pnl,
    summaries,
    seenRows,
    candlesPer30d: per30,
    blockLength: blockLengthFor(TIMEFRAME_MS[tf] ?? 3_600_000),
    costs,
  };
}

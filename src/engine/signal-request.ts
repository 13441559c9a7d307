/**
 * "Give me a signal for X": the answer an operator (or a script) gets for any symbol, covered or not.
 *   covered                 -> {kind: 'signal', direction, confidence, contributions, model_version}
 *   trainable, not trained  -> {error: 'Model not trained', can_train: true, estimated_time_s, ...}
 *   too little history      -> {error: 'Model not trained', can_train: false, reason}
 *   unsupported / stablecoin / illiquid -> {error: 'Asset not supported', reason}
 *   blocking off            -> a fallback signal flagged fallback: true with its reason
 * A model's signal carries the edge gate's call (`edge`, snake_case) and, when its model has no
 * edge, what trades instead (`traded`: the TA rule's call or a flat hold).
 * The estimate comes from the durations of past trainings recorded in model metadata, scaled to
 * the recipe an on-demand training of the symbol would run (src/policy/recipe.ts).
 */
import type { Config } from '../config/schema.js';
import { TIMEFRAME_MS, type MarketDataSource, type Timeframe } from '../market/types.js';
import type { ModelRegistry } from '../registry/registry.js';
import { tierOf } from '../assets/tiers.js';
import { resolveSignalRequest } from '../assets/signal-gate.js';
import { pastTrainings } from './offline.js';
import { classifyUnknownAsset } from '../policy/tier.js';
import { taSignal } from '../models/baselines.js';
import { loadArtifact } from '../models/artifact-load.js';
import { SymbolPredictor } from '../models/predictor.js';
import { edgeJson, edgeViewFor, tradedInstead, type EdgeJson } from './edge-gate.js';

const DAY_MS = 86_400_000;


export type SignalAnswer =
  | {
      kind: 'signal';
      symbol: string;
      direction: string;
      confidence: number;
      contributions: Record<string, number>;
      model_version: string;
      fallback?: true;
      reason?: string;
      at: number;
      /** The edge gate on the model that made the signal (absent for TA-only and hold answers). */
      edge?: EdgeJson;
      /** What trades instead when that model has no edge. */
      traded?: { direction: string; confidence: number; via: 'ta' | 'hold' };
    }
  | { kind: 'error'; symbol: string; error: string; can_train?: boolean; estimated_time_s?: number; estimate_basis?: string; reason: string };

export async function requestSignal(o: {
  config: Config;
  source: MarketDataSource;
  registry: ModelRegistry;
  symbol: string;
  now: number;
  retried?: boolean;
  onWarn?: (m: string) => void;
  /** The operator's edge override for the symbol (the engine state's), null/absent: config decides. */
  edgeOverride?: boolean | null;
}): Promise<SignalAnswer> {
  const { config, symbol, registry } = o;
  const tf = config.exchange.timeframe as Timeframe;
  const until = Math.floor(o.now / TIMEFRAME_MS[tf]) * TIMEFRAME_MS[tf];
  const tier = tierOf(symbol, config);
  const candles = tier === 'unsupported' ? [] : await o.source.fetchCandles(symbol, tf, until - config.model.target_history_days * DAY_MS, until);
  const covered = new Set(registry.coveredSymbols(config));
  const judgement = tier === 'unknown' && !covered.has(symbol) ? classifyUnknownAsset(candles, tf, config) : null;
  const unservable = registry.unservable(config, symbol, o.now);
  const d = resolveSignalRequest({ symbol, tier, covered, judgement, pastTrainings: pastTrainings(registry), taAvailable: candles.length >= 40, unservable, config });
  if (d.kind === 'error') return { symbol, ...d };
  const via = d.kind === 'signal' ? symbol : d.via;
  if (via === 'hold') return { kind: 'signal', symbol, direction: 'neutral', confidence: 0, contributions: {}, model_version: 'none', fallback: true, reason: d.kind === 'fallback' ? d.reason : '', at: until };
  if (via === 'ta') {
    const ta = taSignal(candles);
    return { kind: 'signal', symbol, direction: ta.direction, confidence: ta.confidence, contributions: ta.contributions, model_version: 'ta', fallback: true, reason: d.kind === 'fallback' ? d.reason : '', at: candles.at(-1)?.timestamp ?? until };
  }
  // Verified as it loads; a damaged or unusable artifact is taken out of service and the next choice used.
  const got = await registry.loadServing(config, via, o.now, async (a) => {
    const art = await loadArtifact(a.dir);
    for (const w of art.warnings) o.onWarn?.(`${a.dir}: ${w}`);
    try {
      return new SymbolPredictor(art);
    } catch (err) {
      art.dispose();
      throw err;
    }
  });
  if (!got) {
    // Nothing of its own can serve any more: answer as the gate does for a broken model.
    const why = registry.unservable(config, via, o.now);
    if (why && via === symbol && !o.retried) return requestSignal({ ...o, retried: true });
    return { kind: 'error', symbol, error: 'Model not trained', can_train: true, reason: why ?? `no artifact serves ${via}` };
  }
  const p = got.value;
  const fellBack = got.serving.via === 'fallback' ? got.serving.reason : null;
  try {
    const pred = p.predict(symbol, candles);
    // Judged for the asked symbol: a model borrowed from another symbol has no verdict on this one.
    const edge = edgeViewFor(got.serving.artifact.metadata?.edge, pred.modelVersion, config, symbol, o.edgeOverride ?? null);
    // No position is known here (kilo signal is not the broker): a flat hold is "neutral".
    const traded = tradedInstead(edge.kind, taSignal(candles), false);
    return {
      kind: 'signal',
      symbol,
      direction: pred.direction,
      confidence: pred.confidence,
      contributions: pred.contributions as Record<string, number>,
      model_version: pred.modelVersion,
      at: pred.at,
      ...(d.kind === 'fallback' ? { fallback: true as const, reason: d.reason } : fellBack ? { fallback: true as const, reason: fellBack } : {}),
      edge: edgeJson(edge),
      ...(traded ? { traded } : {}),
    };
  } finally {
    p.artifact.dispose();
  }
}

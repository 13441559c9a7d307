/**
 * One round's signals: for every symbol with a new candle, the serving model's ensemble signal, a
 * flagged fallback (another symbol's model, or a TA-only signal while blocked/queued), or nothing
 * for an unsupported asset. A model's signal carries the edge gate's call (src/engine/edge-gate.ts):
 * without an edge the broker is given the TA rule's call or a flat hold instead (`traded`), while
 * the model's own call is still recorded and scored for the retrain policy. Model predictions yield to the event loop between symbols so a round
 * never holds the console's keystrokes.
 */
import type { Config } from '../config/schema.js';
import type { SignalView } from '../engine-api.js';
import type { Logger } from '../log/logger.js';
import type { ModelRegistry } from '../registry/registry.js';
import type { PaperBroker } from '../trading/broker.js';
import { resolveSignalRequest } from '../assets/signal-gate.js';
import { tierOf } from '../assets/tiers.js';
import { taSignal } from '../models/baselines.js';
import { partialNote } from '../models/predictor.js';
import type { MarketFeed } from './feed.js';
import type { PredictorCache } from './predictors.js';
import { edgeSummary, edgeViewFor, tradedInstead } from './edge-gate.js';
import type { EdgeView } from '../engine-api.js';
import type { EngineState } from './state.js';

export interface SignalDeps {
  registry: ModelRegistry;
  feed: MarketFeed;
  predictors: PredictorCache;
  broker: PaperBroker;
  /** Judgements of unknown assets, the pin in force, model usage counts. */
  state: EngineState;
  marketNow: () => number;
  logger: Logger;
  /** The tfjs backend a model was loaded on (the console header shows it). */
  onBackend: (backend: string) => void;
}

/** The paper position of `symbol` as the PPO agent observes it. */
export function portfolioState(broker: PaperBroker, feed: MarketFeed, symbol: string) {
  const pos = broker.position(symbol);
  const price = feed.last(symbol)?.close ?? 0;
  const equity = broker.equity() || 1;
  return {
    position: pos && pos.qty > 0 ? 1 : 0,
    unrealisedPnl: pos && pos.qty > 0 && pos.avgPrice > 0 ? price / pos.avgPrice - 1 : 0,
    cashShare: broker.cash / equity,
  };
}

export async function signalsFor(d: SignalDeps, symbols: string[]): Promise<SignalView[]> {
  const cfg: Config = d.state.effectiveConfig();
  const judgements = d.state.judgements();
  const covered = new Set(d.registry.coveredSymbols(cfg));
  const out: SignalView[] = [];
  const modelReqs: { symbol: string; via: string }[] = [];
  for (const symbol of symbols) {
    const candles = d.feed.candles(symbol);
    const last = candles[candles.length - 1];
    if (!last) continue;
    const decision = resolveSignalRequest({
      symbol,
      // Judgements exist only for unknown-tier symbols; the gate reads stablecoin/illiquid from them.
      tier: tierOf(symbol, cfg),
      covered,
      judgement: judgements.get(symbol) ?? null,
      pastTrainings: [],
      taAvailable: candles.length >= 40,
      unservable: d.registry.unservable(cfg, symbol, d.marketNow()),
      config: cfg,
    });
    if (decision.kind === 'signal') modelReqs.push({ symbol, via: symbol });
    else if (decision.kind === 'fallback' && decision.via !== 'ta' && decision.via !== 'hold') modelReqs.push({ symbol, via: decision.via });
    else if (decision.kind === 'error' && decision.error === 'Asset not supported') continue;
    else {
      // No model (blocked, queued or on a TA fallback): a TA-only signal, flagged, so the
      // initial-training trigger can count signals; a blocked symbol still never trades.
      const ta = taSignal(candles);
      out.push({
        symbol,
        at: last.timestamp,
        direction: ta.direction,
        confidence: ta.confidence,
        contributions: { ta: ta.score },
        modelVersion: null,
        fallback: true,
        reason: decision.kind === 'fallback' ? decision.reason : `${decision.reason}; TA-only signal`,
      });
    }
  }
  for (const r of modelReqs) {
    // Let keystrokes and timers in between symbols: a round never holds the main thread long.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      // Verified as it loads; a corrupt or unusable artifact is replaced by the next choice at once.
      const got = await d.predictors.serving(d.registry, cfg, r.via, d.marketNow());
      if (!got) continue;
      const p = got.predictor;
      const candles = d.feed.candles(r.symbol);
      if (candles.length < p.minCandles) continue;
      const pred = p.predict(r.symbol, candles, portfolioState(d.broker, d.feed, r.symbol));
      d.state.countUse(pred.modelVersion);
      if (p.artifact.backend) d.onBackend(p.artifact.backend);
      // The edge gate (the registry's copy of the verdict, checked by parseEdgeReport when read):
      // does this model drive trades for this symbol? A model borrowed from another
      // symbol has no verdict on this one, so it never trades it unless the gate is off or overridden.
      // A partial signal (trees serving while the networks load) is judged by the trees' own verdict.
      const partial = pred.partial ? { subject: pred.partial.served.length === 1 ? pred.partial.served[0] : ('ensemble' as const), note: partialNote(pred.partial) } : null;
      const edge = edgeViewFor(got.serving.artifact.metadata?.edge, pred.modelVersion, cfg, r.symbol, d.state.edgeOverride(r.symbol), partial);
      const traded = tradedInstead(edge.kind, taSignal(candles), d.broker.positionQty(r.symbol) > 0);
      reportEdge(d.logger, r.symbol, edge);
      out.push({
        symbol: r.symbol,
        at: pred.at,
        direction: pred.direction,
        confidence: pred.confidence,
        contributions: pred.contributions,
        modelVersion: pred.modelVersion,
        ...(r.via !== r.symbol
          ? { fallback: true, reason: `${r.symbol}: no model yet; using the ${r.via} model` }
          : got.serving.via === 'fallback'
            ? { fallback: true, reason: got.serving.reason }
            : partial
              ? { reason: partial.note }
              : {}),
        edge,
        ...(traded ? { traded } : {}),
      });
    } catch (err) {
      d.logger.error(`signal for ${r.symbol} failed: ${(err as Error).message}`, r.symbol);
    }
  }
  return out;
}

/**
 * The edge gate's call goes to the log when it starts and when it changes (a new version, new
 * figures, an override), not every round; its end is logged once with how long it held.
 */
function reportEdge(logger: Logger, symbol: string, e: EdgeView): void {
  const key = `edge:${symbol}`;
  if (e.kind === 'model') {
    logger.endCondition(key, `${symbol}: model v${e.version} trades (${edgeSummary(e)})`);
    return;
  }
  const who = e.kind === 'override' ? 'trades by override' : 'has no edge';
  logger.condition(key, e.kind === 'override' ? 'info' : 'warn', `${symbol}: model v${e.version} ${who} - ${edgeSummary(e)}`, symbol);
}

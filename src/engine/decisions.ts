/**
 * Model decisions: what the promotion gate, a failed retrain or the operator's rollback decided for
 * a symbol, applied in one place - recorded in data/promotions.json (the record `kilo history`
 * and a serving rebuild read), put into serving.json, the retrain window reset on a promotion,
 * and announced. The mapping from the gate's verdict to a typed kind lives here and nowhere else.
 */
import type { Config } from '../config/schema.js';
import { DECISION_KINDS, servingAfter, type CommandResult, type DecisionKind, type PromotionDecision } from '../engine-api.js';
import type { Logger } from '../log/logger.js';
import type { ModelRegistry } from '../registry/registry.js';
import { compareVersions } from '../registry/version.js';
import { compatibleArtifacts } from '../policy/selection.js';
import type { OutcomeTracker } from '../trading/outcomes.js';
import type { PromotionHistory } from '../trading/promotion-history.js';
import type { EngineStore } from './store.js';
import type { EngineState } from './state.js';
import { TIMEFRAME_MS, type Candle, type Timeframe } from '../market/types.js';
import { decideShadow, type ShadowState } from '../policy/shadow.js';
import { scoreShadow } from './shadow.js';

const DAY_MS = 86_400_000;
const day = (t: number): string => new Date(t).toISOString().slice(0, 16).replace('T', ' ');

/**
 * The gate's verdict as a decision kind. A verdict that carries its own kind (the edge-aware gate
 * says `no_edge`, `pinned`, ...) keeps it; the older boolean verdict maps promote -> promoted,
 * anything else -> kept. A training that failed is `failed` whatever the verdict.
 */
export function decisionKind(verdict: { promote: boolean }, failed = false): DecisionKind {
  if (failed) return 'failed';
  const own = (verdict as { kind?: unknown }).kind;
  if (typeof own === 'string' && (DECISION_KINDS as readonly string[]).includes(own)) return own as DecisionKind;
  return verdict.promote ? 'promoted' : 'kept';
}

export interface DecisionDeps {
  state: EngineState;
  registry: ModelRegistry;
  promotions: PromotionHistory;
  outcomes: OutcomeTracker;
  /** Where the 'promotion' event goes (the engine's store). */
  store: Pick<EngineStore, 'emit'>;
  logger: Logger;
  marketNow: () => number;
  /** Closed candles of a symbol in [since, until] (ms): a challenger in shadow is scored on them. Without it no shadow is scored. */
  candles?: (symbol: string, since: number, until: number) => Promise<Candle[]>;
}

export class ModelDecisions {
  constructor(private readonly d: DecisionDeps) {}

  /**
   * A training's gate decision. With auto_training.shadow_days > 0 a challenger the gate promoted
   * over a champion does not serve yet: a 'shadow' decision is recorded (serving unchanged) and it
   * runs in shadow until checkShadows decides. A first model, a forced serve and every other kind
   * are applied as they are.
   */
  async applyGate(dec: PromotionDecision, notes: readonly string[] = []): Promise<void> {
    const days = this.d.state.effectiveConfig().auto_training.shadow_days;
    if (!(days > 0) || dec.kind !== 'promoted' || dec.forced || !dec.championVersion || !dec.challengerVersion) return this.apply(dec, notes);
    const startedAt = this.d.marketNow();
    const until = startedAt + days * DAY_MS;
    await this.apply({ ...dec, kind: 'shadow', reason: `passed the gate (${dec.reason}); runs ${days} day(s) in shadow until ${day(until)} UTC before it serves` }, notes);
    this.d.state.setShadow(dec.symbol, { champion: dec.championVersion, challenger: dec.challengerVersion, startedAt, until, gateReason: dec.reason, score: null });
  }

  /**
   * Every round: each challenger in shadow is scored on the candles since it started (once per new
   * candle) and, when its days are over, promoted or dropped (decideShadow).
   */
  async checkShadows(): Promise<void> {
    const { state } = this.d;
    const candles = this.d.candles;
    if (!candles) return;
    const config = state.effectiveConfig();
    const step = TIMEFRAME_MS[config.exchange.timeframe as Timeframe] ?? 3_600_000;
    for (const [symbol, s] of Object.entries(state.shadows())) {
      const now = this.d.marketNow();
      const ended = now >= s.until;
      const bar = Math.floor(now / step) * step;
      // Scored once per newly closed candle; the last round of the shadow always decides.
      if (!ended && s.score && s.score.at >= bar) continue;
      let decision;
      try {
        const scores = await scoreShadow({ symbol, shadow: s, config, versions: this.d.registry.list(), candles, now });
        decision = decideShadow(s, scores, config, now);
      } catch (err) {
        decision = decideShadow(s, { error: (err as Error).message }, config, now);
      }
      if (!ended) {
        if (decision.aheadPct !== null && decision.rows !== s.score?.rows) {
          state.setShadow(symbol, { ...s, score: { at: bar, rows: decision.rows, champion: decision.championPct!, challenger: decision.challengerPct! } });
        }
        continue;
      }
      state.setShadow(symbol, null);
      const kind = decision.kind === 'promoted' ? 'promoted' : 'shadow_failed';
      await this.apply({
        at: now,
        symbol,
        kind,
        championVersion: s.champion,
        challengerVersion: s.challenger,
        championScore: decision.championPct,
        challengerScore: decision.challengerPct,
        rows: decision.rows,
        metric: 'shadow_pnl_pct',
        reason: decision.reason,
      });
    }
  }

  /** Record a decision and put the version it leaves in service. */
  async apply(dec: PromotionDecision, notes: readonly string[] = []): Promise<void> {
    const { registry, logger } = this.d;
    // A shadow is superseded by anything else that changes what serves the symbol (or a newer shadow).
    const shadow: ShadowState | null = this.d.state.shadow(dec.symbol);
    if (shadow && (dec.kind === 'promoted' || dec.kind === 'rollback' || dec.kind === 'shadow')) {
      this.d.state.setShadow(dec.symbol, null);
      logger.info(`${dec.symbol}: shadow of v${shadow.challenger} ended: superseded by a ${dec.kind} decision (v${dec.challengerVersion})`, dec.symbol);
    }
    await this.d.promotions.add(dec);
    const serving = servingAfter(dec);
    if (serving) await registry.setServing(dec.symbol, serving);
    if (dec.kind === 'promoted') {
      this.d.outcomes.markRetrained(dec.symbol, this.d.marketNow(), dec.challengerVersion);
      await this.d.outcomes.save();
      logger.info(`model ${dec.challengerVersion} now serves ${dec.symbol}: ${dec.reason}`, dec.symbol);
    } else if (dec.kind === 'shadow') {
      logger.info(`model ${dec.challengerVersion} runs in shadow beside ${dec.championVersion} on ${dec.symbol} (not traded): ${dec.reason}`, dec.symbol);
    } else if (dec.kind === 'shadow_failed') {
      logger.info(`model ${dec.challengerVersion} dropped after its shadow, ${dec.championVersion} keeps serving ${dec.symbol}: ${dec.reason}`, dec.symbol);
    } else if (dec.kind === 'rollback') {
      logger.warn(`${dec.symbol} rolled back from ${dec.championVersion} to ${dec.challengerVersion}: ${dec.reason}`, dec.symbol);
    } else {
      logger.info(`${dec.symbol} keeps model ${dec.championVersion ?? 'none'} (${dec.kind}): ${dec.reason}`, dec.symbol);
    }
    for (const n of notes) logger.debug(`${dec.symbol}: ${n}`, dec.symbol);
    this.d.store.emit('promotion', dec);
    await registry.refresh();
    this.d.state.touch('serving', dec.symbol);
  }

  /**
   * The version that served `symbol` before `current`: the champion the last decision that put
   * `current` in service replaced, else the newest older version on disk that fits and covers it.
   */
  previousVersion(config: Config, symbol: string, current: string): string | null {
    const fits = (v: string): boolean =>
      this.d.registry.list().some((x) => x.version === v && compatibleArtifacts(config, x).some((a) => a.servesSymbols.includes(symbol)));
    const put = this.d.promotions.list(symbol).find((p) => (p.kind === 'promoted' || p.kind === 'rollback') && p.challengerVersion === current);
    if (put?.championVersion && put.championVersion !== current && fits(put.championVersion)) return put.championVersion;
    const older = this.d.registry
      .list()
      .map((v) => v.version)
      .filter((v) => compareVersions(v, current) < 0 && fits(v))
      .sort(compareVersions);
    return older.at(-1) ?? null;
  }

  /** Return `symbol` to its previous version at once. */
  async rollback(symbol: string, reason: string): Promise<CommandResult> {
    const config = this.d.state.effectiveConfig();
    const current = this.d.registry.servingArtifactFor(config, symbol, this.d.marketNow())?.artifact.version ?? null;
    if (!current) return { ok: false, message: `${symbol}: no model serves it, nothing to roll back` };
    const previous = this.previousVersion(config, symbol, current);
    if (!previous) return { ok: false, message: `${symbol}: no earlier version of its model is on disk and fits the config; v${current} stays` };
    await this.apply({
      at: this.d.marketNow(),
      symbol,
      kind: 'rollback',
      championVersion: current,
      challengerVersion: previous,
      championScore: null,
      challengerScore: null,
      reason,
    });
    const now = this.d.registry.servingArtifactFor(config, symbol, this.d.marketNow())?.artifact.version ?? null;
    if (now !== previous) return { ok: false, message: `${symbol}: rolled back to v${previous} in serving.json, but v${now} still serves it (${config.model.pinned_version ? `v${config.model.pinned_version} is pinned` : 'see kilo models'})` };
    return { ok: true, message: `${symbol} rolled back from v${current} to v${previous}` };
  }
}

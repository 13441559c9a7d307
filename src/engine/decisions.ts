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
}

export class ModelDecisions {
  constructor(private readonly d: DecisionDeps) {}

  /** Record a decision and put the version it leaves in service. */
  async apply(dec: PromotionDecision, notes: readonly string[] = []): Promise<void> {
    const { registry, logger } = this.d;
    await this.d.promotions.add(dec);
    const serving = servingAfter(dec);
    if (serving) await registry.setServing(dec.symbol, serving);
    if (dec.kind === 'promoted') {
      this.d.outcomes.markRetrained(dec.symbol, this.d.marketNow(), dec.challengerVersion);
      await this.d.outcomes.save();
      logger.info(`model ${dec.challengerVersion} now serves ${dec.symbol}: ${dec.reason}`, dec.symbol);
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

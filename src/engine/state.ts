/**
 * EngineState: the ONE owner of what the engine remembers between rounds and across restarts -
 * operator blocks, manual training requests, the operator's pin, last signals, retrain decisions,
 * model usage, recent trades and per-symbol PnL, the buy-and-hold benchmark, unknown-asset
 * judgements, short-history verdicts, the universe, fallbacks and pins (for `kilo history`), the
 * challengers running in shadow, and the loss curves of finished jobs. The round, the trainer,
 * coverage and the commands change it only through these methods; each change is announced as a
 * typed 'changed' event so the engine republishes, and nobody shares a map or a callback with
 * anybody else.
 *
 * It persists itself to data/engine-state.json through the guarded store (temp + fsync + rename,
 * a .bak last good copy, recovery from the .bak with one warning).
 */
import { EventEmitter } from 'node:events';
import type { Config } from '../config/schema.js';
import type { ServingEvent, SignalView, SymbolPnl, TradeEvent } from '../engine-api.js';
import type { ModelKind } from '../models/metadata.js';
import type { RetrainDecision } from '../policy/retrain.js';
import type { UnknownAssetJudgement } from '../policy/tier.js';
import { GuardedStore } from '../trading/guarded-store.js';
import type { ShadowState } from '../policy/shadow.js';
import { emptyState, parseState, pinInForce, withPin, type StateData } from './state-file.js';

/** What the operator asked a training of a symbol to be (models, profile, version, force). */
export interface ManualRequest {
  models?: ModelKind[];
  quick?: boolean;
  force?: boolean;
  version?: string;
}

export interface ShortHistory {
  days: number;
  coverage: number;
  reason: string;
}

export type StateTopic = 'blocks' | 'pin' | 'jobs' | 'coverage' | 'serving' | 'signals' | 'trades';

export interface StateEvents {
  changed: [topic: StateTopic, symbol: string | null];
}

const TRADES_KEPT = 1000;
const EVENTS_KEPT = 500;
const CURVES_KEPT = 20;
const CURVE_POINTS = 500;

export class EngineState extends EventEmitter<StateEvents> {
  private effective: Config;

  private constructor(
    private readonly store: GuardedStore<StateData>,
    private readonly config: Config,
  ) {
    super();
    const pin = this.d.pin;
    // An operator's pin stands until config.yaml's own pin is edited: then the file wins.
    if (pin && pin.configPinned !== config.model.pinned_version) this.d.pin = null;
    this.effective = this.buildEffective();
  }

  static async open(file: string, config: Config, onWarn?: (m: string) => void): Promise<EngineState> {
    const store = await GuardedStore.open<StateData>(file, { defaults: emptyState, parse: (raw) => parseState(raw, file), onWarn });
    return new EngineState(store, config);
  }

  private get d(): StateData {
    return this.store.data;
  }

  /** The data as it stands (read-only by contract: the projection reads it). */
  get data(): Readonly<StateData> {
    return this.d;
  }

  private changed(topic: StateTopic, symbol: string | null = null): void {
    this.emit('changed', topic, symbol);
  }

  /** Write the file (and its .bak). */
  async flush(): Promise<void> {
    await this.store.write();
  }

  // ----- market time and the broker's own state (the broker owns its logic) -----
  get marketTime(): number | null {
    return this.d.marketTime;
  }
  setMarketTime(t: number | null): void {
    this.d.marketTime = t;
  }
  get brokerState(): unknown {
    return this.d.broker;
  }
  setBrokerState(s: unknown): void {
    this.d.broker = s;
  }

  // ----- operator blocks -----
  blocks(): Readonly<Record<string, string>> {
    return this.d.manualBlocks;
  }
  block(symbol: string, reason: string): void {
    this.d.manualBlocks[symbol] = reason;
    this.changed('blocks', symbol);
  }
  /** False when the symbol was not blocked by the operator. */
  unblock(symbol: string): boolean {
    const had = symbol in this.d.manualBlocks;
    delete this.d.manualBlocks[symbol];
    this.changed('blocks', symbol);
    return had;
  }

  // ----- the operator's pin -----
  /** The pinned version in force: the operator's, else config.yaml's. */
  get pinned(): string | null {
    return pinInForce(this.d, this.config);
  }
  setPin(version: string | null, at: number, reason: string): void {
    const before = this.pinned;
    this.d.pin = { version, configPinned: this.config.model.pinned_version };
    this.effective = this.buildEffective();
    if (before !== version) this.addServingEvent({ at, symbol: null, kind: version === null ? 'unpin' : 'pin', version: version ?? before, reason });
    this.changed('pin');
  }
  /**
   * The config with the pin in force applied. One object per pin state, so memoised selections
   * keyed on the config object stay valid between pin changes.
   */
  effectiveConfig(): Config {
    return this.effective;
  }
  private buildEffective(): Config {
    return withPin(this.config, this.pinned);
  }

  // ----- manual training requests -----
  request(symbol: string, req: ManualRequest): void {
    this.d.requests[symbol] = req;
  }
  requestFor(symbol: string): ManualRequest {
    return this.d.requests[symbol] ?? {};
  }
  clearRequest(symbol: string): void {
    delete this.d.requests[symbol];
  }

  // ----- signals, retrain decisions, usage -----
  recordSignal(s: SignalView): void {
    this.d.lastSignals[s.symbol] = s;
  }
  lastSignal(symbol: string): SignalView | null {
    return this.d.lastSignals[symbol] ?? null;
  }
  /** Returns the previous decision for the symbol. */
  setRetrainDecision(symbol: string, d: RetrainDecision): RetrainDecision | null {
    const prev = this.d.retrainDecisions[symbol] ?? null;
    this.d.retrainDecisions[symbol] = d;
    return prev;
  }
  retrainDecision(symbol: string): RetrainDecision | null {
    return this.d.retrainDecisions[symbol] ?? null;
  }
  countUse(version: string): void {
    this.d.usage[version] = (this.d.usage[version] ?? 0) + 1;
  }
  /** Prediction counts per version ("most used", for the storage cleanup). */
  usage(): Readonly<Record<string, number>> {
    return this.d.usage;
  }

  // ----- trades, per-symbol PnL, benchmark -----
  recordTrade(t: TradeEvent): void {
    this.d.trades.push(t);
    if (this.d.trades.length > TRADES_KEPT) this.d.trades.splice(0, this.d.trades.length - TRADES_KEPT);
    const p = (this.d.symbolPnl[t.symbol] ??= { realised: 0, fees: 0, trades: 0 });
    p.trades += 1;
    p.fees += t.fee;
    if (t.realisedPnl !== undefined) p.realised += t.realisedPnl;
    this.changed('trades', t.symbol);
  }
  /** Newest first; `since` (ms) keeps only later ones. */
  trades(since = -Infinity): TradeEvent[] {
    return this.d.trades.filter((t) => t.at >= since).reverse();
  }
  symbolPnl(symbol: string): Omit<SymbolPnl, 'unrealised'> {
    return this.d.symbolPnl[symbol] ?? { realised: 0, fees: 0, trades: 0 };
  }
  /**
   * One buy-and-hold point per round beside the equity curve: starting cash spread equally over
   * the symbols priced so far, each held from the first price seen. Reference prices are fixed at
   * first sight, so the curve is comparable over the whole run.
   */
  recordBenchmark(prices: ReadonlyMap<string, number>, startingCash: number, keep: number): void {
    const b = this.d.benchmark;
    for (const [s, p] of prices) if (!(s in b.ref) && p > 0) b.ref[s] = p;
    const ratios = [...prices].filter(([s]) => s in b.ref).map(([s, p]) => p / b.ref[s]);
    b.curve.push(ratios.length ? (startingCash * ratios.reduce((a, r) => a + r, 0)) / ratios.length : startingCash);
    if (b.curve.length > keep) b.curve.splice(0, b.curve.length - keep);
  }

  // ----- coverage facts -----
  setJudgement(symbol: string, j: UnknownAssetJudgement): void {
    this.d.judgements[symbol] = j;
    this.changed('coverage', symbol);
  }
  judgement(symbol: string): UnknownAssetJudgement | null {
    return this.d.judgements[symbol] ?? null;
  }
  judgements(): ReadonlyMap<string, UnknownAssetJudgement> {
    return new Map(Object.entries(this.d.judgements));
  }
  setShortHistory(symbol: string, h: ShortHistory | null): void {
    if (h) this.d.shortHistory[symbol] = h;
    else delete this.d.shortHistory[symbol];
  }
  shortHistory(): ReadonlyMap<string, ShortHistory> {
    return new Map(Object.entries(this.d.shortHistory));
  }
  universe(): readonly string[] {
    return this.d.universe;
  }
  setUniverse(symbols: readonly string[]): void {
    this.d.universe = [...symbols];
  }

  // ----- serving history: pins and fallbacks (decisions live in data/promotions.json) -----
  private addServingEvent(e: ServingEvent): void {
    this.d.servingEvents.push(e);
    if (this.d.servingEvents.length > EVENTS_KEPT) this.d.servingEvents.splice(0, this.d.servingEvents.length - EVENTS_KEPT);
  }
  /**
   * A symbol's signal came from a fallback (`via`: the other symbol's model, 'ta' or 'hold') or,
   * with null, from its own model again. Recorded when it starts and when it ends, not every round.
   */
  noteFallback(symbol: string, via: string | null, version: string | null, reason: string, at: number): void {
    const cur = this.d.fallbacks[symbol] ?? null;
    if (cur === via) return;
    if (via === null) {
      delete this.d.fallbacks[symbol];
      this.addServingEvent({ at, symbol, kind: 'fallback_end', version, reason });
    } else {
      this.d.fallbacks[symbol] = via;
      this.addServingEvent({ at, symbol, kind: 'fallback', version, reason });
    }
    this.changed('serving', symbol);
  }
  /** Newest first; a symbol's own events plus the pins that applied to every symbol. */
  servingEvents(symbol?: string): ServingEvent[] {
    return this.d.servingEvents.filter((e) => symbol === undefined || e.symbol === symbol || e.symbol === null).reverse();
  }

  // ----- the operator's edge-gate overrides -----
  /** true: the model trades whatever its verdict; false: the gate applies; null: config.yaml decides. */
  edgeOverride(symbol: string): boolean | null {
    return this.d.edgeOverrides[symbol]?.on ?? null;
  }
  edgeOverrides(): Readonly<Record<string, { on: boolean; at: number; reason: string }>> {
    return this.d.edgeOverrides;
  }
  setEdgeOverride(symbol: string, on: boolean | null, at: number, reason: string): void {
    const before = this.edgeOverride(symbol);
    if (on === null) delete this.d.edgeOverrides[symbol];
    else this.d.edgeOverrides[symbol] = { on, at, reason };
    if (before !== on) this.addServingEvent({ at, symbol, kind: 'edge_override', version: null, reason });
    this.changed('serving', symbol);
  }

  // ----- challengers running in shadow (auto_training.shadow_days) -----
  shadow(symbol: string): ShadowState | null {
    return this.d.shadows[symbol] ?? null;
  }
  shadows(): Readonly<Record<string, ShadowState>> {
    return this.d.shadows;
  }
  /** Start, rescore (same challenger) or end (null) the symbol's shadow. */
  setShadow(symbol: string, s: ShadowState | null): void {
    if (s) this.d.shadows[symbol] = s;
    else delete this.d.shadows[symbol];
    // Republish only: what serves changes through ModelDecisions.apply, which announces 'serving'.
    this.changed('signals', symbol);
  }

  // ----- job curves, kept after the job ends -----
  recordJobCurve(id: string, loss: readonly number[], val: readonly number[], phase?: string): void {
    this.d.jobCurves[id] = { loss: loss.slice(-CURVE_POINTS), val: val.slice(-CURVE_POINTS), ...(phase ? { phase } : {}) };
    const ids = Object.keys(this.d.jobCurves);
    for (const old of ids.slice(0, Math.max(0, ids.length - CURVES_KEPT))) delete this.d.jobCurves[old];
  }
  jobCurve(id: string): { loss: number[]; val: number[]; phase?: string } | null {
    return this.d.jobCurves[id] ?? null;
  }

  /** Something outside the persisted data changed (a job's progress): republish. */
  touch(topic: StateTopic, symbol: string | null = null): void {
    this.changed(topic, symbol);
  }
}

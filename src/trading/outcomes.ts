/**
 * Signal outcomes and performance statistics. Each directional signal is recorded with its
 * entry price; after `horizonBars` further candles of its symbol it is resolved against that
 * candle's close:
 *  - bullish is correct when the price rose by more than `epsilon` (relative), bearish when it
 *    fell by more than `epsilon`; a move inside +-epsilon is scored incorrect (no edge shown).
 *  - neutral signals are not recorded or scored: they make no call to be right or wrong about.
 *  - pnlPct = (direction sign * relative move - 2 * feeRate) * 100: a round trip pays the fee twice.
 * Counts (per symbol, per symbol+model version, since the last retrain) are exact; the list of
 * resolved signals per symbol is bounded. Everything, pending signals included, is persisted in
 * one lowdb file (data/performance.json) with a .bak last-good copy.
 */
import type { SignalView } from '../engine-api.js';
import { GuardedStore } from './guarded-store.js';
import { checkSymbolSyntax } from '../market/symbols.js';
import { MAX_PRICE } from '../market/validate.js';
import {
  parsePerformance,
  emptyPerformance,
  type PendingSignal,
  type PerformanceData,
  type ResolvedSignal,
  type SymbolBook,
  type SymbolStats,
  type VersionStats,
} from './outcome-types.js';

export interface OutcomeTrackerOptions {
  /** Fee per side used in pnlPct (config.paper_trading.fee_rate). */
  feeRate: number;
  /** Resolved signals kept per symbol. @default 500 */
  historyLimit?: number;
  /** Relative move below which a call is not counted correct. @default 1e-5 */
  epsilon?: number;
  /** Pending signals kept at most (oldest dropped) so a symbol that stops updating cannot grow the file forever. @default 10000 */
  pendingLimit?: number;
  onWarn?: (message: string) => void;
}

export interface RecordOptions {
  /** Price the signal was made at (the close of its candle). */
  price: number;
  horizonBars: number;
  /** Timestamp of the candle the signal was made on. @default signal.at */
  barAt?: number;
}

/** What the retrain policy needs from the tracker for one symbol. */
export interface RetrainInputs {
  signalsSinceRetrain: number;
  winRateSinceRetrain: number | null;
  lastRetrainAt: number | null;
}

const NO_VERSION = 'none';

/** A price kilo will score against: positive, finite, not absurd (market/validate.ts MAX_PRICE). */
const soundPrice = (p: number): boolean => Number.isFinite(p) && p > 0 && p <= MAX_PRICE;
/** Largest relative move a signal may resolve with (x100 or down 99.99%); beyond it the outcome is void. */
const MAX_MOVE = 100;

const emptyBook = (): SymbolBook => ({
  stats: { signals: 0, correct: 0, pnlSum: 0, lastRetrainAt: null, signalsSinceRetrain: 0, correctSinceRetrain: 0, pnlSinceRetrain: 0 },
  byVersion: {},
  history: [],
});

export class OutcomeTracker {
  private readonly historyLimit: number;
  private readonly epsilon: number;
  private readonly pendingLimit: number;

  private constructor(
    private readonly store: GuardedStore<PerformanceData>,
    private readonly opts: OutcomeTrackerOptions,
  ) {
    this.historyLimit = Math.max(1, opts.historyLimit ?? 500);
    this.epsilon = opts.epsilon ?? 1e-5;
    this.pendingLimit = Math.max(1, opts.pendingLimit ?? 10_000);
  }

  /** Load (or create) the tracker's file; a corrupt file is recovered from its .bak. */
  static async open(file: string, opts: OutcomeTrackerOptions): Promise<OutcomeTracker> {
    const store = await GuardedStore.open(file, {
      defaults: emptyPerformance,
      parse: (raw) => parsePerformance(raw, file),
      onWarn: opts.onWarn,
    });
    const t = new OutcomeTracker(store, opts);
    t.rejectBadEntries(file);
    return t;
  }

  /**
   * Symbols and figures read from the file get the same checks as live ones: a book or pending
   * signal whose symbol is not BASE/QUOTE, or whose figures are not finite, is dropped with the
   * file and entry named (and the cleaned file is written at the next save).
   */
  private rejectBadEntries(file: string): void {
    const warn = (m: string) => this.opts.onWarn?.(`${file}: ${m}; entry rejected`);
    for (const symbol of Object.keys(this.data.symbols)) {
      const r = checkSymbolSyntax(symbol, { normalise: false });
      const s = this.data.symbols[symbol].stats;
      if (!r.ok) warn(`symbols[${JSON.stringify(symbol)}]: ${r.reason}`);
      else if (![s.pnlSum, s.pnlSinceRetrain].every(Number.isFinite)) warn(`symbols[${JSON.stringify(symbol)}]: non-finite PnL (${s.pnlSum})`);
      else continue;
      delete this.data.symbols[symbol];
    }
    this.data.pending = this.data.pending.filter((p) => {
      const r = checkSymbolSyntax(p.symbol, { normalise: false });
      if (r.ok && soundPrice(p.price)) return true;
      warn(`pending ${p.id}: ${r.ok ? `price ${p.price} is not a sound price` : r.reason}`);
      return false;
    });
  }

  /**
   * A read-only tracker over data already read (commands that answer from the files while no
   * engine runs must not write them); save() refuses.
   */
  static readOnly(data: PerformanceData, opts: OutcomeTrackerOptions): OutcomeTracker {
    const store = { data, write: () => Promise.reject(new Error('read-only performance view')) } as unknown as GuardedStore<PerformanceData>;
    return new OutcomeTracker(store, opts);
  }

  private get data(): PerformanceData {
    return this.store.data;
  }

  /**
   * Record a signal; returns the pending record, or null when it is not scored: neutral, or not
   * newer than the symbol's last recorded signal (a restart replaying the last candle must not
   * count the same call twice).
   */
  record(signal: Pick<SignalView, 'symbol' | 'at' | 'direction' | 'confidence' | 'modelVersion'>, o: RecordOptions): PendingSignal | null {
    if (signal.direction === 'neutral') return null;
    if (signal.at <= this.lastRecordedAt(signal.symbol)) return null;
    if (!soundPrice(o.price)) throw new RangeError(`invalid signal price ${o.price} for ${signal.symbol}`);
    if (!Number.isInteger(o.horizonBars) || o.horizonBars < 1) throw new RangeError(`invalid horizon ${o.horizonBars} for ${signal.symbol}`);
    const rec: PendingSignal = {
      id: `s${this.data.nextId++}`,
      symbol: signal.symbol,
      at: signal.at,
      direction: signal.direction,
      confidence: signal.confidence,
      price: o.price,
      modelVersion: signal.modelVersion,
      horizonBars: o.horizonBars,
      barsSeen: 0,
      lastBarAt: o.barAt ?? signal.at,
    };
    this.data.pending.push(rec);
    if (this.data.pending.length > this.pendingLimit) {
      const dropped = this.data.pending.splice(0, this.data.pending.length - this.pendingLimit);
      this.opts.onWarn?.(`dropped ${dropped.length} unresolved signal(s) beyond the pending limit ${this.pendingLimit}`);
    }
    return { ...rec };
  }

  /** Count a closed candle of `symbol`; resolves and returns the signals whose horizon it completes. */
  observe(symbol: string, candle: { timestamp: number; close: number }): ResolvedSignal[] {
    if (!soundPrice(candle.close)) {
      this.opts.onWarn?.(`${symbol}: candle ${new Date(candle.timestamp).toISOString()} close ${candle.close} is not a sound price; not scored against`);
      return [];
    }
    const resolved: ResolvedSignal[] = [];
    const keep: PendingSignal[] = [];
    for (const p of this.data.pending) {
      if (p.symbol !== symbol || candle.timestamp <= p.lastBarAt) {
        keep.push(p);
        continue;
      }
      p.barsSeen++;
      p.lastBarAt = candle.timestamp;
      if (p.barsSeen < p.horizonBars) keep.push(p);
      else {
        const r = this.resolve(p, candle.close, candle.timestamp);
        if (r) resolved.push(r);
      }
    }
    this.data.pending = keep;
    return resolved;
  }

  /** Score a signal; null (void, warned) when the move is not finite or implausibly large. */
  private resolve(p: PendingSignal, exitPrice: number, at: number): ResolvedSignal | null {
    const move = (exitPrice - p.price) / p.price;
    if (!Number.isFinite(move) || move > MAX_MOVE || move < -0.9999) {
      this.opts.onWarn?.(`${p.symbol}: signal ${p.id} would resolve with a ${move * 100}% move (${p.price} -> ${exitPrice}); voided, not counted in the stats`);
      return null;
    }
    const sign = p.direction === 'bullish' ? 1 : -1;
    const correct = sign * move > this.epsilon;
    const pnlPct = (sign * move - 2 * this.opts.feeRate) * 100;
    const { barsSeen: _b, lastBarAt: _l, ...base } = p;
    const r: ResolvedSignal = { ...base, resolvedAt: at, exitPrice, movePct: move * 100, correct, pnlPct };
    const book = this.book(p.symbol);
    const s = book.stats;
    const hit = correct ? 1 : 0;
    s.signals++;
    s.correct += hit;
    s.pnlSum += pnlPct;
    s.signalsSinceRetrain++;
    s.correctSinceRetrain += hit;
    s.pnlSinceRetrain += pnlPct;
    const v = (book.byVersion[p.modelVersion ?? NO_VERSION] ??= { signals: 0, correct: 0, pnlSum: 0, lastRetrain: null });
    v.signals++;
    v.correct += hit;
    v.pnlSum += pnlPct;
    book.history.push(r);
    if (book.history.length > this.historyLimit) book.history.splice(0, book.history.length - this.historyLimit);
    return { ...r };
  }

  /** A new model went live for `symbol`: the since-retrain window starts over. */
  markRetrained(symbol: string, at: number, version?: string | null): void {
    const book = this.book(symbol);
    const s = book.stats;
    s.lastRetrainAt = at;
    s.signalsSinceRetrain = 0;
    s.correctSinceRetrain = 0;
    s.pnlSinceRetrain = 0;
    if (version !== undefined) {
      const v = (book.byVersion[version ?? NO_VERSION] ??= { signals: 0, correct: 0, pnlSum: 0, lastRetrain: null });
      v.lastRetrain = at;
    }
  }

  symbolStats(symbol: string): SymbolStats & { winRate: number | null } {
    const s = this.data.symbols[symbol]?.stats ?? emptyBook().stats;
    return { ...s, winRate: rate(s.correct, s.signals) };
  }

  versionStats(symbol: string, version: string | null): (VersionStats & { winRate: number | null }) | null {
    const v = this.data.symbols[symbol]?.byVersion[version ?? NO_VERSION];
    return v ? { ...v, winRate: rate(v.correct, v.signals) } : null;
  }

  retrainInputs(symbol: string): RetrainInputs {
    const s = this.data.symbols[symbol]?.stats ?? emptyBook().stats;
    return { signalsSinceRetrain: s.signalsSinceRetrain, winRateSinceRetrain: rate(s.correctSinceRetrain, s.signalsSinceRetrain), lastRetrainAt: s.lastRetrainAt };
  }

  /** Totals over every symbol. */
  overall(): { signals: number; correct: number; pnlSum: number; winRate: number | null } {
    let signals = 0;
    let correct = 0;
    let pnlSum = 0;
    for (const b of Object.values(this.data.symbols)) {
      signals += b.stats.signals;
      correct += b.stats.correct;
      pnlSum += b.stats.pnlSum;
    }
    return { signals, correct, pnlSum, winRate: rate(correct, signals) };
  }

  symbols(): string[] {
    return Object.keys(this.data.symbols).sort();
  }
  history(symbol: string): ResolvedSignal[] {
    return (this.data.symbols[symbol]?.history ?? []).map((r) => ({ ...r }));
  }
  pending(symbol?: string): PendingSignal[] {
    return this.data.pending.filter((p) => symbol === undefined || p.symbol === symbol).map((p) => ({ ...p }));
  }

  /** A deep copy of everything the file holds. */
  toJSON(): PerformanceData {
    return structuredClone(this.data);
  }

  /** Persist (file, then its .bak). */
  save(): Promise<void> {
    return this.store.write();
  }

  private lastRecordedAt(symbol: string): number {
    let last = this.data.symbols[symbol]?.history.at(-1)?.at ?? Number.NEGATIVE_INFINITY;
    for (const p of this.data.pending) if (p.symbol === symbol && p.at > last) last = p.at;
    return last;
  }

  private book(symbol: string): SymbolBook {
    return (this.data.symbols[symbol] ??= emptyBook());
  }
}

const rate = (correct: number, total: number): number | null => (total > 0 ? correct / total : null);

/**
 * Rolling per-symbol candle buffers for the live loop, and the data gate in front of the signals.
 * The first poll of a symbol loads enough history for the predictors' warm-up; later polls ask only
 * for what closed since the last candle. A symbol whose fetch fails is reported once and skipped;
 * the others go on.
 *
 * A fresh candle is traded on only when the data under it is sound (poll().signalable):
 *  - not stale: the newest closed candle is at most data.max_staleness_candles timeframes old
 *    (an exchange that lags or an outage: no signal, no entry on an old price; it resumes by itself);
 *  - no hole in the predictors' window that the source has not confirmed (after an outage the gap
 *    is fetched first: never a signal on a half-filled window);
 *  - no suspicious candle awaiting confirmation (market/suspicious.ts).
 * Holds are logged when they start, change and end, never every round.
 */
import { TIMEFRAME_MS, type Candle, type MarketDataSource, type Timeframe } from '../market/types.js';
import { cleanCandles } from '../market/validate.js';
import { mergeCandles } from '../market/candle-store.js';
import { findSuspects, type SuspectOptions } from '../market/suspicious.js';
import { writeJsonAtomic } from '../util/atomic.js';

export type FeedHoldKind = 'stale' | 'gap' | 'suspect' | 'failed';

/** Why a symbol's newest candle is not traded on. */
export interface FeedHold {
  kind: FeedHoldKind;
  reason: string;
  /** Market time the hold started. */
  since: number;
}

export interface FeedPoll {
  /** Candles that closed since the previous poll, per symbol, ascending. */
  fresh: Map<string, Candle[]>;
  /** Failures that started (or changed) this poll; an ongoing one is not repeated every round. */
  failures: { symbol: string; error: string }[];
  /** Symbols with a fresh candle that may be traded on (fresh minus held). */
  signalable: string[];
  /** Every symbol held back after this poll, with why. */
  held: ReadonlyMap<string, FeedHold>;
}

export interface FeedOptions {
  /** data.max_staleness_candles: a newest candle older than this many timeframes is stale. @default 2 */
  maxStaleCandles?: number;
  /** Candles the predictors read (warm-up + window); a hole there holds the symbol. @default 200 */
  windowCandles?: number;
  suspect?: Partial<SuspectOptions>;
  log?: (level: 'info' | 'warn', message: string, symbol?: string) => void;
  /** Where the feed's state is written for `kilo doctor` (data/market-status.json). */
  statusFile?: string;
  /** Extra words for the data-source line (the CSV replay clock). */
  clockNote?: () => string | null;
}

/** The slice of a source the feed can ask about its health (ccxt and the candle store implement it). */
interface SourceHealth {
  waitingMessage?: () => string;
  waiting?: unknown;
  inner?: SourceHealth;
  degraded?: (symbol: string) => boolean;
}

export class MarketFeed {
  private readonly buffers = new Map<string, Candle[]>();
  private readonly step: number;
  private readonly holds = new Map<string, FeedHold>();
  private readonly failing = new Map<string, string>();
  /** Holes the source answered without candles: real gaps, not asked again. */
  private readonly confirmedHoles = new Map<string, Set<number>>();
  private waitingSince: number | null = null;
  private statusWritten = '';

  constructor(
    private readonly source: MarketDataSource,
    private readonly tf: Timeframe,
    /** Candles kept per symbol (predictor warm-up + window + margin). */
    private readonly keep: number,
    private readonly opts: FeedOptions = {},
  ) {
    this.step = TIMEFRAME_MS[tf];
  }

  candles(symbol: string): readonly Candle[] {
    return this.buffers.get(symbol) ?? [];
  }

  last(symbol: string): Candle | undefined {
    const b = this.buffers.get(symbol);
    return b?.[b.length - 1];
  }

  forget(symbol: string): void {
    this.buffers.delete(symbol);
    this.holds.delete(symbol);
    this.failing.delete(symbol);
  }

  /** Why `symbol` is held, for its row ("stale: newest candle 3.5 h old ..."), or null. */
  holdReason(symbol: string): string | null {
    const h = this.holds.get(symbol);
    return h ? `${h.kind}: ${h.reason}` : null;
  }

  hold(symbol: string): FeedHold | null {
    return this.holds.get(symbol) ?? null;
  }

  /** The exchange could not be reached and nothing is cached: the waiting message, else null. */
  waiting(): string | null {
    const h = this.health();
    return h?.waiting && h.waitingMessage ? h.waitingMessage() : null;
  }

  /** The data-source line of the snapshot: what the source is and its state right now. */
  describe(): string {
    const w = this.waiting();
    if (w) return `${this.source.description}: ${w}`;
    const note = this.opts.clockNote?.();
    if (note) return note;
    const stale = [...this.holds.values()].filter((h) => h.kind === 'stale').length;
    return stale ? `${this.source.description} (${stale} symbol(s) stale)` : this.source.description;
  }

  /** Fetch what closed up to `now` for every symbol, in parallel, isolating failures. */
  async poll(symbols: readonly string[], now: number): Promise<FeedPoll> {
    const fresh = new Map<string, Candle[]>();
    const failures: FeedPoll['failures'] = [];
    const until = Math.floor(now / this.step) * this.step;
    await Promise.all(
      symbols.map(async (symbol) => {
        try {
          const buf = this.buffers.get(symbol);
          const since = buf?.length ? buf[buf.length - 1].timestamp + this.step : until - this.keep * this.step;
          if (since < until) {
            const got = await this.fetch(symbol, since, until, now);
            if (got.length) {
              this.store(symbol, (buf ?? []).concat(got));
              // The first load is history, not news: only the newest candle counts as fresh.
              fresh.set(symbol, buf?.length ? got : got.slice(-1));
            }
          }
          await this.healHoles(symbol, until, now);
          if (this.failing.delete(symbol)) this.opts.log?.('info', `${symbol}: market data flows again`, symbol);
        } catch (err) {
          const error = err instanceof Error ? err.message : String(err);
          // Countdowns and counters change every round; the condition does not.
          const key = error.replace(/\d+/g, '#');
          if (this.failing.get(symbol) !== key && !this.waiting()) failures.push({ symbol, error });
          this.failing.set(symbol, key);
        }
      }),
    );
    this.noteWaiting(now);
    for (const symbol of symbols) this.judge(symbol, now);
    const signalable = [...fresh.keys()].filter((s) => !this.holds.has(s));
    await this.writeStatus(now);
    return { fresh, failures, signalable, held: this.holds };
  }

  private async fetch(symbol: string, since: number, until: number, now: number): Promise<Candle[]> {
    const got = await this.source.fetchCandles(symbol, this.tf, since, until);
    return cleanCandles(got, this.tf).filter((c) => c.timestamp >= since && c.timestamp + this.step <= now);
  }

  private store(symbol: string, candles: Candle[]): void {
    if (candles.length > this.keep) candles.splice(0, candles.length - this.keep);
    this.buffers.set(symbol, candles);
  }

  /** Open times missing inside the predictors' window of `symbol` (not confirmed as real gaps). */
  private holes(symbol: string): number[] {
    const buf = this.buffers.get(symbol) ?? [];
    const n = Math.min(buf.length, this.opts.windowCandles ?? 200);
    if (n < 2) return [];
    const confirmed = this.confirmedHoles.get(symbol);
    const out: number[] = [];
    for (let i = buf.length - n + 1; i < buf.length; i++) {
      for (let t = buf[i - 1].timestamp + this.step; t < buf[i].timestamp; t += this.step) if (!confirmed?.has(t)) out.push(t);
    }
    return out;
  }

  /** Ask again for the holes in the window; what the source answers without them is a real gap. */
  private async healHoles(symbol: string, until: number, now: number): Promise<void> {
    const holes = this.holes(symbol);
    if (!holes.length) return;
    const got = await this.fetch(symbol, holes[0], until, now);
    this.store(symbol, mergeCandles(this.buffers.get(symbol) ?? [], got));
    // A store serving its cache because the exchange failed has not confirmed anything.
    if (this.health()?.degraded?.(symbol)) return;
    const left = this.holes(symbol);
    if (left.length) {
      const set = this.confirmedHoles.get(symbol) ?? new Set<number>();
      for (const t of left) set.add(t);
      this.confirmedHoles.set(symbol, set);
    }
  }

  private judge(symbol: string, now: number): void {
    const next = this.assess(symbol, now);
    const prev = this.holds.get(symbol);
    if (!next) {
      if (prev) {
        this.holds.delete(symbol);
        this.opts.log?.('info', `${symbol}: trading on its candles again (was ${prev.kind}: ${prev.reason})`, symbol);
      }
      return;
    }
    if (prev && prev.kind === next.kind) {
      // Same condition, fresher words (the age grows): keep when it started, do not log again.
      this.holds.set(symbol, { ...next, since: prev.since });
      return;
    }
    this.holds.set(symbol, { ...next, since: now });
    this.opts.log?.('warn', `${symbol}: no new signals or entries - ${next.kind}: ${next.reason}`, symbol);
  }

  private assess(symbol: string, now: number): Omit<FeedHold, 'since'> | null {
    const buf = this.buffers.get(symbol);
    const last = buf?.[buf.length - 1];
    if (!buf || !last) {
      const failed = this.failing.get(symbol);
      return failed ? { kind: 'failed', reason: 'no candles yet: market data failed' } : null;
    }
    const maxStale = this.opts.maxStaleCandles ?? 2;
    const ageMs = now - (last.timestamp + this.step);
    if (ageMs > maxStale * this.step) {
      return { kind: 'stale', reason: `newest candle ${iso(last.timestamp)} closed ${age(ageMs)} ago (data.max_staleness_candles: ${maxStale} x ${this.tf})` };
    }
    const holes = this.holes(symbol);
    if (holes.length) return { kind: 'gap', reason: `${holes.length} candle(s) missing from ${iso(holes[0])} in the model window; waiting for them` };
    const pending = findSuspects(buf, this.opts.suspect).find((s) => s.status === 'pending');
    if (pending) return { kind: 'suspect', reason: `candle ${iso(pending.timestamp)} ${pending.reason}` };
    return null;
  }

  private health(): SourceHealth | null {
    const s = this.source as unknown as SourceHealth;
    if (s.waitingMessage) return s;
    const inner = s.inner;
    if (inner?.waitingMessage) {
      // The candle store in front of a ccxt source: waiting is the exchange's, degraded the store's.
      return { waiting: inner.waiting, waitingMessage: () => inner.waitingMessage!(), degraded: s.degraded?.bind(s) };
    }
    return s.degraded ? s : null;
  }

  private noteWaiting(now: number): void {
    const w = this.waiting();
    if (w && this.waitingSince === null) this.waitingSince = now;
    if (!w && this.waitingSince !== null) {
      this.opts.log?.('info', `${this.source.description}: the exchange answers again; market data resumes`);
      this.waitingSince = null;
    }
  }

  /** What `kilo doctor` shows about the running engine's market data; written when it changes. */
  private async writeStatus(now: number): Promise<void> {
    if (!this.opts.statusFile) return;
    const held = Object.fromEntries([...this.holds].map(([s, h]) => [s, { kind: h.kind, reason: h.reason, since: h.since }]));
    const body = { source: this.source.description, waiting: this.waiting()?.replace(/retry in \d+ s/, 'retrying') ?? null, held };
    const text = JSON.stringify(body);
    if (text === this.statusWritten) return;
    this.statusWritten = text;
    await writeJsonAtomic(this.opts.statusFile, { ...body, updated_at: now, waiting: this.waiting() }).catch(() => undefined);
  }
}

const iso = (t: number): string => new Date(t).toISOString().slice(0, 16).replace('T', ' ');
const age = (ms: number): string => (ms >= 86_400_000 ? `${(ms / 86_400_000).toFixed(1)} d` : ms >= 3_600_000 ? `${(ms / 3_600_000).toFixed(1)} h` : `${Math.round(ms / 60_000)} min`);

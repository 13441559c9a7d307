/**
 * The market clock of a simulated or replayed market. The simulator runs from the wall clock (or
 * where the last run stopped). A CSV folder is replayed as if live: the clock starts inside the
 * data - `data.csv_start`, else the first candle + model.min_history_days_to_train + 30 days, so
 * symbols have the history the policy asks for - moves one candle per round and stops at the end
 * of the data, saying so once. (Starting at the wall clock put it after the files' end: every
 * symbol was blocked on "0.0 days of history" and prices froze without a word.)
 */
import { ManualClock } from '../clock.js';
import type { Config } from '../config/schema.js';
import { CsvMarketSource } from '../market/csv-source.js';
import { TIMEFRAME_MS, type Timeframe } from '../market/types.js';
import { resolve } from 'node:path';

const DAY_MS = 86_400_000;

export interface MarketClockInput {
  config: Config;
  home: string;
  /** The wall clock's now. */
  now: number;
  /** A clock the caller drives itself (kilo replay, tests): used as is, never advanced here. */
  given?: ManualClock;
  /** Explicit start (ms). */
  start?: number;
  /** Market time saved by the previous run (engine-state.json). */
  resumeAt: number | null;
  log?: (message: string) => void;
}

/** When the CSV replay starts by default and where its data ends. */
export async function csvReplayWindow(config: Config, dir: string): Promise<{ start: number; first: number; end: number; symbols: string[] }> {
  const tf = config.exchange.timeframe as Timeframe;
  const step = TIMEFRAME_MS[tf];
  const src = new CsvMarketSource(dir, new ManualClock(0), { timeframe: tf });
  const listed = await src.listedSymbols();
  const wanted = [...new Set([...config.universe.core_symbols, ...config.universe.symbols])].filter((s) => listed.includes(s));
  const symbols = wanted.length ? wanted : listed;
  if (!symbols.length) throw new Error(`data.csv_dir: no *-${tf}.csv files in ${src.dir}`);
  const ranges = await Promise.all(symbols.map((s) => src.range(s, tf)));
  const firsts = ranges.map((r) => r.first).filter((x): x is number => x !== null);
  const lasts = ranges.map((r) => r.last).filter((x): x is number => x !== null);
  if (!firsts.length) throw new Error(`data.csv_dir: no candles in the ${tf} files of ${src.dir}`);
  // The earliest symbol sets the pace: a younger one simply has less history (and says so).
  const first = Math.min(...firsts);
  const end = Math.max(...lasts) + step;
  const explicit = config.data.csv_start ? Date.parse(config.data.csv_start) : NaN;
  const start = Number.isFinite(explicit) ? explicit : first + (config.model.min_history_days_to_train + 30) * DAY_MS;
  return { start: Math.floor(Math.min(start, end) / step) * step, first, end, symbols };
}

export class MarketClockDriver {
  private ended = false;

  private constructor(
    readonly clock: ManualClock | null,
    private readonly step: number,
    /** Market time at which the last candle of the data has closed (CSV), else null. */
    readonly end: number | null,
    private readonly replay: boolean,
    private readonly log?: (message: string) => void,
  ) {}

  static async create(i: MarketClockInput): Promise<MarketClockDriver> {
    const step = TIMEFRAME_MS[i.config.exchange.timeframe as Timeframe];
    const source = i.config.data.source;
    if (i.given) return new MarketClockDriver(i.given, step, null, source === 'csv', i.log);
    if (source === 'exchange') return new MarketClockDriver(null, step, null, false, i.log);
    if (source === 'sim') return new MarketClockDriver(new ManualClock(Math.floor((i.start ?? i.resumeAt ?? i.now) / step) * step), step, null, false, i.log);
    const w = await csvReplayWindow(i.config, resolve(i.home, i.config.data.csv_dir));
    // Resume where the last run stopped when that lies inside the data (and not before an explicit start).
    const resume = i.resumeAt !== null && i.resumeAt >= w.start && i.resumeAt <= w.end ? i.resumeAt : null;
    const at = Math.floor((i.start ?? resume ?? w.start) / step) * step;
    i.log?.(`CSV replay of ${w.symbols.length} symbol(s) from ${iso(at)} (data ${iso(w.first)} .. ${iso(w.end - step)}), one candle per round`);
    return new MarketClockDriver(new ManualClock(at), step, w.end, true, i.log);
  }

  /** One candle forward, unless the data has ended (then false, said once). */
  advance(): boolean {
    if (!this.clock) return false;
    if (this.end !== null && this.clock.now() + this.step > this.end) {
      if (!this.ended) {
        this.ended = true;
        this.log?.(`CSV replay reached the end of the data (last candle ${iso(this.end - this.step)}): the market clock stops here`);
      }
      return false;
    }
    this.clock.advance(this.step);
    return true;
  }

  /** "CSV replay at 2023-05-12 14:00" for the data-source line; null when not replaying. */
  note(): string | null {
    if (!this.replay || !this.clock) return null;
    const at = iso(this.clock.now());
    return this.ended ? `CSV replay ended at ${at} (end of the data)` : `CSV replay at ${at}`;
  }
}

const iso = (t: number): string => new Date(t).toISOString().slice(0, 16).replace('T', ' ');

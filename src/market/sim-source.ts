import type { Clock } from '../clock.js';
import { TIMEFRAME_MS, type Candle, type DataSourceInfo, type MarketDataSource, type SymbolInfo, type Timeframe } from './types.js';
import { HOUR, SIM_ORIGIN, SIM_UNIVERSE, SimPaths, extraSimAssets, type SimAsset } from './sim-model.js';
import { Rng, hashSeed } from './prng.js';
import { UnknownSymbolError } from './csv-source.js';

export { SIM_SYMBOLS, SIM_UNIVERSE, SIM_ORIGIN, extraSimAssets, type SimAsset } from './sim-model.js';

export interface SimOptions {
  assets?: readonly SimAsset[];
  /** When brand-new listings (listedDaysAgo) appeared is measured from this time; default clock.now() at creation. */
  createdAt?: number;
  /** Generated coins S001/USDT.. added after `assets` (load tests); they never change the other paths. */
  extraSymbols?: number;
}

/**
 * The offline default market: a seeded simulator with fat tails, volatility clustering, regimes and
 * a common factor. The path is a pure function of the seed from SIM_ORIGIN, so the same candle comes
 * back for a symbol/timestamp whatever range is asked; the clock decides what has closed.
 */
export class SimMarketSource implements MarketDataSource {
  readonly kind = 'sim' as const;
  readonly description: string;
  readonly listName: string;
  /** The configured assets, then the generated extras on their own seeded paths. */
  private readonly groups: SimPaths[] = [];
  private readonly index = new Map<string, { paths: SimPaths; i: number }>();
  private readonly listedAt = new Map<string, number>();

  constructor(
    private readonly seed: number,
    private readonly clock: Clock,
    opts: SimOptions = {},
  ) {
    const assets = opts.assets ?? SIM_UNIVERSE;
    this.description = `simulator seed ${seed}`;
    this.listName = `the simulator (seed ${seed})`;
    const created = opts.createdAt ?? clock.now();
    const extras = extraSimAssets(seed, Math.max(0, Math.floor(opts.extraSymbols ?? 0)));
    // A separate rng stream for the extras keeps the base symbols' paths identical with or without them.
    const groups: [SimPaths, readonly SimAsset[]][] = [[new SimPaths(seed, assets), assets]];
    if (extras.length) groups.push([new SimPaths(hashSeed(seed, 'sim-extra-paths'), extras), extras]);
    for (const [paths, list] of groups) {
      this.groups.push(paths);
      list.forEach((a, i) => {
        if (this.index.has(a.symbol)) return;
        this.index.set(a.symbol, { paths, i });
        const listed = a.listedDaysAgo === undefined ? SIM_ORIGIN : Math.floor((created - a.listedDaysAgo * 86_400_000) / HOUR) * HOUR;
        this.listedAt.set(a.symbol, Math.max(SIM_ORIGIN, listed));
      });
    }
  }

  async listSymbols(): Promise<SymbolInfo[]> {
    const out: SymbolInfo[] = [];
    const now = this.clock.now();
    for (const symbol of this.index.keys()) {
      if (this.listedAt.get(symbol)! > now - HOUR) continue;
      const last24 = await this.fetchCandles(symbol, '1h', now - 25 * HOUR, now);
      const quoteVolume24h = last24.slice(-24).reduce((s, c) => s + c.volume * c.close, 0);
      const [base, quote] = symbol.split('/');
      out.push({ symbol, base, quote, quoteVolume24h });
    }
    return out;
  }

  async listedSymbols(): Promise<string[]> {
    return [...this.index.keys()];
  }

  async provenance(): Promise<DataSourceInfo> {
    return { kind: 'sim', seed: this.seed };
  }

  async fetchCandles(symbol: string, tf: Timeframe, since: number, until: number): Promise<Candle[]> {
    return this.candlesSync(symbol, tf, since, until);
  }

  async latestClosedCandle(symbol: string, tf: Timeframe): Promise<Candle | undefined> {
    const step = TIMEFRAME_MS[tf];
    const ts = Math.floor(this.clock.now() / step) * step - step;
    return this.candlesSync(symbol, tf, ts, ts + step)[0];
  }

  /** Listing time of a symbol (first candle), e.g. for NOVA a few weeks before creation. */
  listingTime(symbol: string): number {
    const t = this.listedAt.get(symbol);
    if (t === undefined) throw new UnknownSymbolError(symbol, this.description);
    return t;
  }

  candlesSync(symbol: string, tf: Timeframe, since: number, until: number): Candle[] {
    const at = this.index.get(symbol);
    if (at === undefined) throw new UnknownSymbolError(symbol, this.description);
    const { paths, i } = at;
    const step = TIMEFRAME_MS[tf];
    const now = this.clock.now();
    const from = Math.max(Math.ceil(since / step) * step, Math.ceil(this.listedAt.get(symbol)! / step) * step);
    const lastOpen = Math.min(until - 1, now - step);
    const out: Candle[] = [];
    if (lastOpen < from) return out;
    paths.ensure(Math.floor((lastOpen + step - SIM_ORIGIN) / HOUR) + 1);
    for (let t = from; t <= lastOpen; t += step) {
      if (step >= HOUR) out.push(this.aggregate(paths, i, t, step));
      else out.push(...this.subHour(paths, i, symbol, t, step, 1));
    }
    return out;
  }

  private hourCandle(p: SimPaths, i: number, h: number): Candle {
    return p.candle(i, h, SIM_ORIGIN + h * HOUR);
  }

  private aggregate(p: SimPaths, i: number, t: number, step: number): Candle {
    const h0 = (t - SIM_ORIGIN) / HOUR;
    const n = step / HOUR;
    const c = this.hourCandle(p, i, h0);
    const out = { ...c };
    for (let k = 1; k < n; k++) {
      const x = this.hourCandle(p, i, h0 + k);
      out.high = Math.max(out.high, x.high);
      out.low = Math.min(out.low, x.low);
      out.close = x.close;
      out.volume += x.volume;
    }
    return out;
  }

  /** Split an hour into sub-candles with a seeded Brownian bridge from its open to its close. */
  private subHour(p: SimPaths, i: number, symbol: string, t: number, step: number, count: number): Candle[] {
    const h = Math.floor((t - SIM_ORIGIN) / HOUR);
    const hour = this.hourCandle(p, i, h);
    const n = HOUR / step;
    const rng = Rng.seeded(hashSeed(this.seed, symbol, h));
    const steps = Array.from({ length: n }, () => rng.normal());
    const walk = [0];
    for (const z of steps) walk.push(walk[walk.length - 1] + z);
    const lo = Math.log(hour.open);
    const hi = Math.log(hour.close);
    const span = Math.log(hour.high / hour.low) / Math.max(1, Math.sqrt(n)) / 2;
    const pts = walk.map((w, k) => Math.exp(lo + (hi - lo) * (k / n) + span * (w - (walk[n] * k) / n)));
    const clamp = (x: number) => Math.min(hour.high, Math.max(hour.low, x));
    const k = Math.round((t - (SIM_ORIGIN + h * HOUR)) / step);
    const out: Candle[] = [];
    for (let j = k; j < Math.min(n, k + count); j++) {
      const o = clamp(pts[j]);
      const c = clamp(pts[j + 1]);
      out.push({ timestamp: SIM_ORIGIN + h * HOUR + j * step, open: o, high: Math.max(o, c), low: Math.min(o, c), close: c, volume: hour.volume / n });
    }
    return out;
  }
}

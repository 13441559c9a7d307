import { Rng, hashSeed } from './prng.js';

/** Parameters of one simulated coin. Prices in USDT; hourly volatility as a fraction. */
export interface SimAsset {
  symbol: string;
  startPrice: number;
  /** Loading on the common market factor. */
  beta: number;
  /** Hourly volatility of the coin's own (idiosyncratic) shocks. */
  idioVol: number;
  /** Typical quote volume per hour. */
  quoteVolumePerHour: number;
  /** Pegged coins mean-revert to 1.0 instead of walking. */
  stable?: boolean;
  /** Days of history before the source's creation time, for brand-new listings. */
  listedDaysAgo?: number;
}

export const SIM_UNIVERSE: readonly SimAsset[] = [
  { symbol: 'BTC/USDT', startPrice: 30_000, beta: 1.0, idioVol: 0.002, quoteVolumePerHour: 60e6 },
  { symbol: 'ETH/USDT', startPrice: 2_000, beta: 1.15, idioVol: 0.003, quoteVolumePerHour: 30e6 },
  { symbol: 'SOL/USDT', startPrice: 60, beta: 1.4, idioVol: 0.006, quoteVolumePerHour: 8e6 },
  { symbol: 'BNB/USDT', startPrice: 300, beta: 0.9, idioVol: 0.004, quoteVolumePerHour: 5e6 },
  { symbol: 'ADA/USDT', startPrice: 0.5, beta: 1.2, idioVol: 0.005, quoteVolumePerHour: 3e6 },
  { symbol: 'LINK/USDT', startPrice: 10, beta: 1.25, idioVol: 0.006, quoteVolumePerHour: 2e6 },
  { symbol: 'DOT/USDT', startPrice: 8, beta: 1.2, idioVol: 0.006, quoteVolumePerHour: 1.5e6 },
  { symbol: 'AVAX/USDT', startPrice: 20, beta: 1.35, idioVol: 0.007, quoteVolumePerHour: 1.5e6 },
  { symbol: 'MATIC/USDT', startPrice: 1, beta: 1.3, idioVol: 0.007, quoteVolumePerHour: 1.2e6 },
  { symbol: 'USDC/USDT', startPrice: 1, beta: 0, idioVol: 0.0001, quoteVolumePerHour: 20e6, stable: true },
  { symbol: 'NOVA/USDT', startPrice: 0.1, beta: 1.6, idioVol: 0.012, quoteVolumePerHour: 0.5e6, listedDaysAgo: 21 },
];

export const SIM_SYMBOLS: readonly string[] = SIM_UNIVERSE.map((a) => a.symbol);

/**
 * `n` generated coins S001/USDT, S002/USDT, ... for load tests (data.sim_extra_symbols). Their
 * parameters are a pure function of (seed, index), so the same seed always lists the same coins.
 */
export function extraSimAssets(seed: number, n: number): SimAsset[] {
  const out: SimAsset[] = [];
  for (let k = 1; k <= n; k++) {
    const r = Rng.seeded(hashSeed(seed, 'sim-extra', k));
    out.push({
      symbol: `S${String(k).padStart(3, '0')}/USDT`,
      startPrice: 10 ** (r.uniform() * 5 - 2),
      beta: 0.6 + r.uniform(),
      idioVol: 0.003 + 0.007 * r.uniform(),
      quoteVolumePerHour: 2e5 + 5e6 * r.uniform(),
    });
  }
  return out;
}

/** Fixed origin of every simulated path: candles for a timestamp never depend on the range asked. */
export const SIM_ORIGIN = Date.UTC(2019, 0, 1);
export const HOUR = 3_600_000;

type Regime = 0 | 1 | 2; // bull, bear, chop
const REGIME_DRIFT = [0.00012, -0.00015, 0];
const REGIME_VOL = [1.0, 1.5, 0.65];
// Row = from, column = to; regimes last days to weeks.
const REGIME_P: number[][] = [
  [0.996, 0.002, 0.002],
  [0.003, 0.994, 0.003],
  [0.002, 0.002, 0.996],
];
// 6 degrees of freedom: fat tails (innovation excess kurtosis 3) with a finite sample kurtosis.
const T_DF = 6;
const GARCH = { alpha: 0.08, beta: 0.9 };
const MARKET_VOL = 0.006;

/** Hours the paths grow by when a request goes past them (see ensure). */
const SIM_GROW_HOURS = 30 * 24;

/** Hourly OHLCV arrays of the whole universe, extended on demand from SIM_ORIGIN. */
export class SimPaths {
  readonly open: Float64Array[] = [];
  readonly high: Float64Array[] = [];
  readonly low: Float64Array[] = [];
  readonly close: Float64Array[] = [];
  readonly volume: Float64Array[] = [];
  length = 0;
  private readonly rng: Rng;
  private regime: Regime = 2;
  private mVar = MARKET_VOL ** 2;
  private mShock = 0;
  private readonly iVar: number[];
  private readonly iShock: number[];
  private readonly price: number[];

  constructor(
    seed: number,
    readonly assets: readonly SimAsset[],
  ) {
    this.rng = Rng.seeded(hashSeed(seed, 'sim-paths'));
    this.iVar = assets.map((a) => a.idioVol ** 2);
    this.iShock = assets.map(() => 0);
    this.price = assets.map((a) => a.startPrice);
    for (let i = 0; i < assets.length; i++) {
      for (const arr of [this.open, this.high, this.low, this.close, this.volume]) arr.push(new Float64Array(0));
    }
  }

  /** Make sure hours [0, hours) exist. */
  ensure(hours: number): void {
    if (hours <= this.length) return;
    // Grow by 30 days, not by half: the paths start in 2019, so x1.5 held ~30k unused hours (5
    // Float64Arrays per asset, ~30 MB for the 20-symbol universe) in an engine that adds one an hour.
    // Reallocate only when the capacity is short of `hours` (not of length + 30 days: that moved
    // every array, ~50 MB for 20 symbols, on each new hour, i.e. every round of a live engine).
    const cap = Math.max(hours, this.length + SIM_GROW_HOURS, 1024);
    for (const arrs of [this.open, this.high, this.low, this.close, this.volume]) {
      for (let i = 0; i < arrs.length; i++) {
        if (arrs[i].length < hours) {
          const n = new Float64Array(cap);
          n.set(arrs[i].subarray(0, this.length));
          arrs[i] = n;
        }
      }
    }
    for (let h = this.length; h < hours; h++) this.step(h);
    this.length = hours;
  }

  private step(h: number): void {
    const r = this.rng;
    const row = REGIME_P[this.regime];
    const u = r.uniform();
    this.regime = (u < row[0] ? 0 : u < row[0] + row[1] ? 1 : 2) as Regime;
    const target = (MARKET_VOL * REGIME_VOL[this.regime]) ** 2;
    // GARCH(1,1) around a regime-dependent long-run variance: volatility clusters.
    this.mVar = target * (1 - GARCH.alpha - GARCH.beta) + GARCH.alpha * this.mShock ** 2 + GARCH.beta * this.mVar;
    const mSigma = Math.sqrt(this.mVar);
    this.mShock = mSigma * r.studentT(T_DF);
    const drift = REGIME_DRIFT[this.regime];
    for (let i = 0; i < this.assets.length; i++) {
      const a = this.assets[i];
      const iTarget = a.idioVol ** 2;
      this.iVar[i] = iTarget * (1 - GARCH.alpha - GARCH.beta) + GARCH.alpha * this.iShock[i] ** 2 + GARCH.beta * this.iVar[i];
      const iSigma = Math.sqrt(this.iVar[i]);
      this.iShock[i] = iSigma * r.studentT(T_DF);
      const o = this.price[i];
      let c: number;
      let sigma: number;
      if (a.stable) {
        // Peg: pull back toward 1.0 each hour, tiny noise.
        c = 1 + 0.7 * (o - 1) + this.iShock[i];
        sigma = iSigma;
      } else {
        const ret = a.beta * (drift + this.mShock) + this.iShock[i];
        c = o * Math.exp(ret);
        sigma = Math.sqrt((a.beta * mSigma) ** 2 + iSigma ** 2);
      }
      const wickUp = Math.abs(r.normal()) * sigma * 0.5;
      const wickDn = Math.abs(r.normal()) * sigma * 0.5;
      const hi = Math.max(o, c) * Math.exp(wickUp);
      const lo = Math.min(o, c) * Math.exp(-wickDn);
      const absRet = Math.abs(Math.log(c / o));
      const typicalVol = Math.sqrt((a.beta * MARKET_VOL) ** 2 + a.idioVol ** 2);
      // Volume rises with the size of the move and with the current volatility.
      const activity = (0.6 + absRet / typicalVol) * (sigma / typicalVol) * Math.exp(0.25 * r.normal());
      this.open[i][h] = o;
      this.close[i][h] = c;
      this.high[i][h] = hi;
      this.low[i][h] = lo;
      this.volume[i][h] = (a.quoteVolumePerHour * activity) / c;
      this.price[i] = c;
    }
  }
}

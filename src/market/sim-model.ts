import { Rng, hashSeed, type RngState } from './prng.js';
import type { Candle } from './types.js';

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

/** Hours per stored chunk of the paths, and between two checkpoints of the generator. */
export const SIM_CHUNK_HOURS = 30 * 24;
/**
 * Chunks kept in memory per group of assets: the newest two (what a live engine reads every round:
 * its buffers hold ~600 candles) and the last few asked for (a training's 120-730 days are read
 * once, in order, so more would only be kept, not reused).
 */
export const SIM_KEEP_CHUNKS = 4;
const FIELDS = 5; // open, high, low, close, volume

/** Everything the next hour depends on. */
interface GenState {
  rng: Rng;
  regime: Regime;
  mVar: number;
  mShock: number;
  iVar: number[];
  iShock: number[];
  price: number[];
}

/** A GenState at a chunk's start, its generator as saved state. */
type Checkpoint = Omit<GenState, 'rng'> & { rng: RngState };

const save = (g: GenState): Checkpoint => ({ rng: g.rng.save(), regime: g.regime, mVar: g.mVar, mShock: g.mShock, iVar: g.iVar.slice(), iShock: g.iShock.slice(), price: g.price.slice() });
const resume = (c: Checkpoint): GenState => ({ rng: Rng.resume(c.rng), regime: c.regime, mVar: c.mVar, mShock: c.mShock, iVar: c.iVar.slice(), iShock: c.iShock.slice(), price: c.price.slice() });

/**
 * Hourly OHLCV of a group of assets, generated on demand from SIM_ORIGIN; the path is a pure
 * function of the seed. Only a few 30-day chunks are held (SIM_KEEP_CHUNKS), with the generator's
 * state saved at the start of every chunk: an older hour is generated again from its chunk's
 * checkpoint, the same numbers as the first time (the same operations on the same state).
 *
 * Why: the paths start in 2019; holding all of them cost ~58 MB for a 20-symbol universe (5
 * Float64Arrays per asset, growing by an hour every round) in an engine that reads the last few
 * hundred hours each round. A checkpoint is a few numbers per asset; regenerating a chunk is ~1 ms.
 */
export class SimPaths {
  /** Hours generated so far ([0, length) exist). */
  length = 0;
  private readonly gen: GenState;
  /** checkpoints[k]: the generator's state before hour k * SIM_CHUNK_HOURS. */
  private readonly checkpoints: Checkpoint[] = [];
  /** Chunk index -> [field][asset][hour in chunk] (open, high, low, close, volume); Map order is the least recently used first. */
  private readonly chunks = new Map<number, Float64Array>();
  private last: { k: number; data: Float64Array } | null = null;

  constructor(
    seed: number,
    readonly assets: readonly SimAsset[],
  ) {
    this.gen = {
      rng: Rng.seeded(hashSeed(seed, 'sim-paths')),
      regime: 2,
      mVar: MARKET_VOL ** 2,
      mShock: 0,
      iVar: assets.map((a) => a.idioVol ** 2),
      iShock: assets.map(() => 0),
      price: assets.map((a) => a.startPrice),
    };
  }

  /** Make sure hours [0, hours) exist. */
  ensure(hours: number): void {
    while (this.length < hours) {
      const k = Math.floor(this.length / SIM_CHUNK_HOURS);
      const at = this.length - k * SIM_CHUNK_HOURS;
      if (at === 0) this.checkpoints[k] = save(this.gen);
      const data = at === 0 ? this.newChunk(k) : this.chunk(k);
      const end = Math.min(hours - k * SIM_CHUNK_HOURS, SIM_CHUNK_HOURS);
      for (let j = at; j < end; j++) this.step(this.gen, data, j);
      this.length = k * SIM_CHUNK_HOURS + end;
    }
  }

  /** The candle of asset `i` at hour `h` (< length), opening at `timestamp`. */
  candle(i: number, h: number, timestamp: number): Candle {
    const k = Math.floor(h / SIM_CHUNK_HOURS);
    const d = this.last?.k === k ? this.last.data : this.chunk(k);
    const stride = this.assets.length * SIM_CHUNK_HOURS;
    const b = i * SIM_CHUNK_HOURS + h - k * SIM_CHUNK_HOURS;
    return { timestamp, open: d[b], high: d[b + stride], low: d[b + 2 * stride], close: d[b + 3 * stride], volume: d[b + 4 * stride] };
  }

  /** How many chunks are in memory (for the tests). */
  storedChunks(): number {
    return this.chunks.size;
  }

  /** Chunk k (below the frontier), from memory or generated again from its checkpoint. */
  private chunk(k: number): Float64Array {
    let d = this.chunks.get(k);
    if (d) {
      this.chunks.delete(k);
      this.chunks.set(k, d);
    } else {
      if (k * SIM_CHUNK_HOURS >= this.length) throw new RangeError(`sim hour ${k * SIM_CHUNK_HOURS} not generated yet (${this.length} are)`);
      d = this.newChunk(k);
      const g = resume(this.checkpoints[k]);
      const end = Math.min(this.length - k * SIM_CHUNK_HOURS, SIM_CHUNK_HOURS);
      for (let j = 0; j < end; j++) this.step(g, d, j);
    }
    this.last = { k, data: d };
    return d;
  }

  private newChunk(k: number): Float64Array {
    const d = new Float64Array(FIELDS * this.assets.length * SIM_CHUNK_HOURS);
    this.chunks.set(k, d);
    // Evict the least recently used, never the two newest (the live engine's, the generator's).
    const newest = Math.floor(Math.max(0, this.length - 1) / SIM_CHUNK_HOURS);
    for (const old of this.chunks.keys()) {
      if (this.chunks.size <= SIM_KEEP_CHUNKS) break;
      if (old !== k && old < newest - 1) this.chunks.delete(old);
    }
    this.last = { k, data: d };
    return d;
  }

  /** Hour `j` of the chunk `d` from the state `g` (advanced past that hour). */
  private step(g: GenState, d: Float64Array, j: number): void {
    const r = g.rng;
    const n = this.assets.length;
    const stride = n * SIM_CHUNK_HOURS;
    const row = REGIME_P[g.regime];
    const u = r.uniform();
    g.regime = (u < row[0] ? 0 : u < row[0] + row[1] ? 1 : 2) as Regime;
    const target = (MARKET_VOL * REGIME_VOL[g.regime]) ** 2;
    // GARCH(1,1) around a regime-dependent long-run variance: volatility clusters.
    g.mVar = target * (1 - GARCH.alpha - GARCH.beta) + GARCH.alpha * g.mShock ** 2 + GARCH.beta * g.mVar;
    const mSigma = Math.sqrt(g.mVar);
    g.mShock = mSigma * r.studentT(T_DF);
    const drift = REGIME_DRIFT[g.regime];
    for (let i = 0; i < n; i++) {
      const a = this.assets[i];
      const iTarget = a.idioVol ** 2;
      g.iVar[i] = iTarget * (1 - GARCH.alpha - GARCH.beta) + GARCH.alpha * g.iShock[i] ** 2 + GARCH.beta * g.iVar[i];
      const iSigma = Math.sqrt(g.iVar[i]);
      g.iShock[i] = iSigma * r.studentT(T_DF);
      const o = g.price[i];
      let c: number;
      let sigma: number;
      if (a.stable) {
        // Peg: pull back toward 1.0 each hour, tiny noise.
        c = 1 + 0.7 * (o - 1) + g.iShock[i];
        sigma = iSigma;
      } else {
        const ret = a.beta * (drift + g.mShock) + g.iShock[i];
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
      const b = i * SIM_CHUNK_HOURS + j;
      d[b] = o;
      d[b + stride] = hi;
      d[b + 2 * stride] = lo;
      d[b + 3 * stride] = c;
      d[b + 4 * stride] = (a.quoteVolumePerHour * activity) / c;
      g.price[i] = c;
    }
  }
}

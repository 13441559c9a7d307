/** Small seeded generators: the simulator must never touch Math.random. */
import { mulberry32 } from '../util/random.js';

export { mulberry32 };

/** FNV-1a of a string mixed with a seed, for per-symbol / per-candle sub-streams. */
export function hashSeed(seed: number, ...parts: (string | number)[]): number {
  let h = (2166136261 ^ seed) >>> 0;
  for (const ch of parts.join('|')) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h;
}

/** Where an Rng is in its stream: enough to continue it elsewhere (the simulator's checkpoints). */
export interface RngState {
  a: number;
  spare: number | null;
}

/**
 * mulberry32 (the same numbers as util/random's, from the same seed) with Box-Muller normals, its
 * state held in fields so it can be saved and resumed: the simulator regenerates old hours from a
 * checkpoint instead of keeping years of paths in memory (src/market/sim-model.ts).
 */
export class Rng {
  private spare: number | null = null;
  private constructor(private a: number) {}
  static seeded(seed: number): Rng {
    return new Rng(seed >>> 0);
  }
  static resume(s: RngState): Rng {
    const r = new Rng(s.a);
    r.spare = s.spare;
    return r;
  }
  save(): RngState {
    return { a: this.a, spare: this.spare };
  }
  uniform(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Box-Muller, keeping the second value. */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u1 = this.uniform();
    while (u1 <= 1e-12) u1 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    const th = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(th);
    return r * Math.cos(th);
  }
  /** Student-t with integer df, scaled to unit variance (df > 2). */
  studentT(df: number): number {
    let chi2 = 0;
    if (df % 2 === 0) {
      // chi2 with 2k degrees of freedom is -2 ln(U1...Uk): k uniforms instead of 2k normals.
      let prod = 1;
      for (let i = 0; i < df / 2; i++) prod *= 1 - this.uniform();
      chi2 = -2 * Math.log(prod);
    } else {
      for (let i = 0; i < df; i++) {
        const z = this.normal();
        chi2 += z * z;
      }
    }
    const t = this.normal() / Math.sqrt(chi2 / df);
    return t / Math.sqrt(df / (df - 2));
  }
}

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

export class Rng {
  private spare: number | null = null;
  constructor(private readonly u: () => number) {}
  static seeded(seed: number): Rng {
    return new Rng(mulberry32(seed));
  }
  uniform(): number {
    return this.u();
  }
  /** Box-Muller, keeping the second value. */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u1 = this.u();
    while (u1 <= 1e-12) u1 = this.u();
    const r = Math.sqrt(-2 * Math.log(u1));
    const th = 2 * Math.PI * this.u();
    this.spare = r * Math.sin(th);
    return r * Math.cos(th);
  }
  /** Student-t with integer df, scaled to unit variance (df > 2). */
  studentT(df: number): number {
    let chi2 = 0;
    if (df % 2 === 0) {
      // chi2 with 2k degrees of freedom is -2 ln(U1...Uk): k uniforms instead of 2k normals.
      let prod = 1;
      for (let i = 0; i < df / 2; i++) prod *= 1 - this.u();
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

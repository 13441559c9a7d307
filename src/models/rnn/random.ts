/** Small seeded PRNG (mulberry32) so shuffles and rollouts are reproducible from a seed. */
export type { Rng } from '../../util/random.js';
import { mulberry32 } from '../../util/random.js';
import type { Rng } from '../../util/random.js';

export { mulberry32 } from '../../util/random.js';

/** Fisher-Yates permutation of 0..n-1. */
export function permutation(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

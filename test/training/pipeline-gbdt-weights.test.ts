import { describe, expect, it } from 'vitest';
import { balanceByRepeats } from '../../src/training/pipeline-gbdt.js';

describe('balanced class weights for the trees (row repeats)', () => {
  it('brings every class to the size of the largest, in time order', () => {
    // 6 flat, 3 up, 5 down rows, one feature holding the row index.
    const y = Uint8Array.from([1, 1, 2, 1, 0, 1, 0, 2, 1, 0, 0, 1, 2, 0]);
    const x = Float32Array.from(y, (_, i) => i);
    const b = balanceByRepeats({ x, y, n: y.length, nFeatures: 1 });
    const counts = [0, 1, 2].map((c) => b.y.filter((v) => v === c).length);
    expect(counts).toEqual([6, 6, 6]);
    // Up (3 rows, ratio 2) is every row twice; down (5 rows, ratio 1.2) repeats one row of five.
    expect(Array.from(b.x).filter((_, i) => b.y[i] === 2)).toEqual([2, 2, 7, 7, 12, 12]);
    expect(Array.from(b.x).filter((_, i) => b.y[i] === 0)).toEqual([4, 6, 9, 10, 13, 13]);
    for (let i = 1; i < b.n; i++) expect(b.x[i]).toBeGreaterThanOrEqual(b.x[i - 1]);
  });
});

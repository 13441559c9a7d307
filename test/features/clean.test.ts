import { describe, expect, it } from 'vitest';
import { allFinite, cleanMatrix } from '../../src/features/clean.js';

describe('cleanMatrix', () => {
  // 5 rows x 3 cols, row-major.
  const input = Float32Array.from([
    NaN, NaN, 2,
    1, NaN, NaN,
    Infinity, NaN, NaN,
    NaN, NaN, NaN,
    4, NaN, 6,
  ]);
  const col = (d: Float32Array, j: number) => [0, 1, 2, 3, 4].map((r) => d[r * 3 + j]);

  it('inf -> NaN -> ffill -> bfill -> mean -> zero, with counts', () => {
    const before = Array.from(input);
    const { data, report } = cleanMatrix(input, 5, 3, { maxForwardFill: 1 });
    expect(Array.from(input)).toEqual(before); // input untouched
    expect(col(data, 0)).toEqual([1, 1, 1, 2.5, 4]); // bfill, -, ffill, mean of {1, 4}, -
    expect(col(data, 1)).toEqual([0, 0, 0, 0, 0]);
    expect(col(data, 2)).toEqual([2, 2, 4, 4, 6]); // -, ffill, mean, mean, -
    expect(report).toEqual({ infToNaN: 1, forwardFilled: 2, backwardFilled: 1, meanFilled: 3, zeroFilled: 5 });
    expect(allFinite(data)).toBe(true);
  });

  it('default limits forward-fill short runs completely', () => {
    const { data, report } = cleanMatrix(input, 5, 3);
    expect(col(data, 0)).toEqual([1, 1, 1, 1, 4]);
    expect(col(data, 2)).toEqual([2, 2, 2, 2, 6]);
    expect(report).toEqual({ infToNaN: 1, forwardFilled: 5, backwardFilled: 1, meanFilled: 0, zeroFilled: 5 });
  });

  it('rejects a shape mismatch', () => {
    expect(() => cleanMatrix(input, 4, 3)).toThrow(/15 values, expected 4 x 3/);
  });
});

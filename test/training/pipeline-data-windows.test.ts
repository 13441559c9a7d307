/**
 * The lean gathering of training inputs (labelsFor, windowsFor with a cap) gives exactly what the
 * full copies gave: rowsFor's labels, and the stride subsample of every window.
 */
import { describe, it, expect } from 'vitest';
import { buildTrainingData, labelsFor, rowsFor, windowsFor, type SliceName } from '../../src/training/pipeline-data.js';
import { strideSubsample } from '../../src/training/pipeline-rnn.js';
import { buildWindows } from '../../src/features/index.js';
import type { Candle } from '../../src/market/types.js';

const HOUR = 3_600_000;
/** Byte-identical arrays (vitest's deep equality on large typed arrays takes seconds). */
const bytes = (a: Float32Array | Uint8Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const same = (a: Float32Array | Uint8Array, b: Float32Array | Uint8Array): boolean => a.length === b.length && bytes(a).equals(bytes(b));

function walk(n: number, seed: number, start: number): Candle[] {
  let s = seed;
  const rnd = (): number => ((s = (s * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
  let p = 100 + seed;
  const out: Candle[] = [];
  for (let i = 0; i < n; i++) {
    const o = p;
    p = Math.max(1, p * (1 + (rnd() - 0.5) * 0.02));
    out.push({ timestamp: start + i * HOUR, open: o, high: Math.max(o, p) * (1 + rnd() * 0.003), low: Math.min(o, p) * (1 - rnd() * 0.003), close: p, volume: 10 + rnd() * 5 });
  }
  return out;
}

const data = (mode: 'single_symbol' | 'multi_symbol') =>
  buildTrainingData(
    mode === 'single_symbol' ? [{ symbol: 'AAA/USDT', candles: walk(900, 1, 0) }] : [{ symbol: 'AAA/USDT', candles: walk(900, 1, 0) }, { symbol: 'BBB/USDT', candles: walk(700, 7, 200 * HOUR) }],
    { mode, encoding: 'one_hot', window: 12, horizon: 3, threshold: 0.002, valFraction: 0.15, testFraction: 0.15, timeframeMs: HOUR },
  );

/** Every window of the slice the way windowsFor built them before (per part, concatenated). */
function allWindows(d: ReturnType<typeof data>, slice: SliceName, window: number) {
  const per = d.parts.map((p) => buildWindows(p.scaled, d.nCols, p.split[slice], window, p.code));
  const nFeatures = d.nCols + d.codeLen;
  const n = per.reduce((s, w) => s + w.n, 0);
  const x = new Float32Array(n * window * nFeatures);
  let k = 0;
  per.forEach((w) => {
    x.set(w.x, k * window * nFeatures);
    k += w.n;
  });
  return { x, y: rowsFor(d, slice).y, n, window, nFeatures };
}

describe('training inputs without redundant copies', () => {
  for (const mode of ['single_symbol', 'multi_symbol'] as const) {
    it(`${mode}: labelsFor is rowsFor's labels, windowsFor (capped or not) is the stride subsample of every window`, () => {
      const d = data(mode);
      for (const slice of ['train', 'validation', 'test'] as const) {
        const rows = rowsFor(d, slice);
        const l = labelsFor(d, slice);
        expect(l.n).toBe(rows.n);
        expect(same(l.y, rows.y)).toBe(true);
        const full = allWindows(d, slice, 12);
        const w = windowsFor(d, slice, 12);
        expect(w.n).toBe(full.n);
        expect(same(w.x, full.x)).toBe(true);
        expect(same(w.y, full.y)).toBe(true);
        for (const max of [1, 37, Math.floor(full.n / 2), full.n + 5]) {
          const want = strideSubsample(full, max);
          const got = windowsFor(d, slice, 12, max);
          expect(got.n).toBe(want.n);
          expect(same(got.x, want.x)).toBe(true);
          expect(same(got.y, want.y)).toBe(true);
        }
      }
      // Both symbols really are in the multi-symbol slices (the part boundary is crossed).
      if (mode === 'multi_symbol') expect(d.parts.length).toBe(2);
    });
  }

  it('buildWindows refuses to write past the end of the array it is given', () => {
    const d = data('single_symbol');
    const p = d.parts[0];
    expect(() => buildWindows(p.scaled, d.nCols, { start: 20, end: 22 }, 12, p.code, { x: new Float32Array(12 * d.nCols), offset: 0 })).toThrow(/do not fit/);
  });
});

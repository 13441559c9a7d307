import { describe, expect, it } from 'vitest';
import type { EngineSnapshot } from '../../src/engine-api.js';
import { EngineStore, sameContent } from '../../src/engine/store.js';

/** A snapshot-shaped object with the kinds of fields the projection makes (nested rows, a log tail, curves). */
function snap(over: Record<string, unknown> = {}): EngineSnapshot {
  return {
    round: 1,
    status: 'running',
    symbols: [{ symbol: 'BTC/USDT', price: 100, sparkline: [1, 2, 3], edge: null, pnl: { realised: 0, unrealised: 0 } }],
    jobs: [{ id: 'j1', progress: { epoch: 1, etaS: 30 }, lossHistory: [0.5, 0.4] }],
    logs: Array.from({ length: 300 }, (_, i) => ({ seq: i + 1, at: i, level: 'info', message: `line ${i}` })),
    portfolio: { equity: 1000, buyAndHoldCurve: [1000, 1001], trades: [] },
    ...over,
  } as unknown as EngineSnapshot;
}

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('EngineStore.replace', () => {
  it('a change deep inside a field reaches the listeners and replaces only that field', async () => {
    const store = new EngineStore(snap());
    const before = store.getSnapshot();
    let heard = 0;
    store.subscribe(() => heard++);
    const next = snap();
    (next.jobs[0] as unknown as { progress: { etaS: number } }).progress.etaS = 29;
    const got = store.replace(next);
    expect(got).not.toBe(before);
    expect(got.jobs).toBe(next.jobs);
    expect(got.jobs[0].progress).toEqual({ epoch: 1, etaS: 29 });
    // unchanged fields keep their previous objects (selectors do not re-render)
    expect(got.symbols).toBe(before.symbols);
    expect(got.logs).toBe(before.logs);
    await tick();
    expect(heard).toBe(1);
  });

  it('one more log line, a new price, a new curve point: each is a change', async () => {
    for (const change of [
      (s: EngineSnapshot) => (s.logs as unknown as unknown[]).push({ seq: 301, at: 300, level: 'info', message: 'new' }),
      (s: EngineSnapshot) => ((s.symbols[0] as unknown as { price: number }).price = 100.5),
      (s: EngineSnapshot) => (s.portfolio.buyAndHoldCurve as number[]).push(1002),
      (s: EngineSnapshot) => ((s.symbols[0] as unknown as { edge: unknown }).edge = { kind: 'model' }),
    ]) {
      const store = new EngineStore(snap());
      let heard = 0;
      store.subscribe(() => heard++);
      const next = snap();
      change(next);
      expect(store.replace(next)).not.toBe(snap());
      await tick();
      expect(heard).toBe(1);
    }
  });

  it('the same content projected again is no change: same snapshot, no notification', async () => {
    const store = new EngineStore(snap());
    const before = store.getSnapshot();
    let heard = 0;
    store.subscribe(() => heard++);
    expect(store.replace(snap())).toBe(before);
    await tick();
    expect(heard).toBe(0);
  });
});

describe('sameContent', () => {
  it('compares content, as JSON would, and stops at differences', () => {
    expect(sameContent({ a: [1, { b: 'x' }] }, { a: [1, { b: 'x' }] })).toBe(true);
    expect(sameContent({ a: [1, { b: 'x' }] }, { a: [1, { b: 'y' }] })).toBe(false);
    expect(sameContent([1, 2], [1, 2, 3])).toBe(false);
    expect(sameContent({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(sameContent({ a: 1, b: 2 }, { a: 1 })).toBe(false);
    // a key holding undefined is absent, as in JSON
    expect(sameContent({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(sameContent({ a: null }, { a: undefined })).toBe(false);
    expect(sameContent({ a: null }, {})).toBe(false);
    expect(sameContent(Number.NaN, Number.NaN)).toBe(true);
    expect(sameContent(0, Number.NaN)).toBe(false);
    expect(sameContent('1', 1)).toBe(false);
    expect(sameContent([], {})).toBe(false);
    expect(sameContent(Float32Array.from([1, 2]), Float32Array.from([1, 2]))).toBe(true);
    expect(sameContent(Float32Array.from([1, 2]), Float32Array.from([1, 3]))).toBe(false);
    expect(sameContent(Float32Array.from([1, 2]), [1, 2])).toBe(false);
  });
});

import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutcomeTracker } from '../../src/trading/outcomes.js';
import { StoreCorruptError } from '../../src/trading/guarded-store.js';
import type { Direction } from '../../src/engine-api.js';

const H = 3_600_000;
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kilo-outcomes-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sig = (symbol: string, at: number, direction: Direction, modelVersion: string | null = '1.0', confidence = 0.7) => ({
  symbol,
  at,
  direction,
  confidence,
  modelVersion,
});

describe('OutcomeTracker', () => {
  it('resolves a bullish signal after exactly horizon candles, counting each candle once', async () => {
    const t = await OutcomeTracker.open(join(dir, 'performance.json'), { feeRate: 0.001 });
    expect(t.record(sig('BTC/USDT', 0, 'bullish'), { price: 100, horizonBars: 2 })).not.toBeNull();
    expect(t.observe('BTC/USDT', { timestamp: H, close: 101 })).toEqual([]);
    expect(t.observe('BTC/USDT', { timestamp: H, close: 101 })).toEqual([]); // same candle again
    expect(t.observe('ETH/USDT', { timestamp: 2 * H, close: 5 })).toEqual([]); // other symbol
    const [r] = t.observe('BTC/USDT', { timestamp: 2 * H, close: 102 });
    expect(r.correct).toBe(true);
    expect(r.movePct).toBeCloseTo(2, 12);
    expect(r.pnlPct).toBeCloseTo(1.8, 12); // 2% - 2 x 0.1% fees
    expect(r.exitPrice).toBe(102);
    expect(t.pending()).toEqual([]);
    expect(t.symbolStats('BTC/USDT')).toMatchObject({ signals: 1, correct: 1, winRate: 1 });
  });

  it('scores bearish calls on a fall, a flat move as wrong, and ignores neutral signals', async () => {
    const t = await OutcomeTracker.open(join(dir, 'p.json'), { feeRate: 0.001 });
    t.record(sig('ETH/USDT', 0, 'bearish'), { price: 200, horizonBars: 1 });
    const [down] = t.observe('ETH/USDT', { timestamp: H, close: 190 });
    expect(down.correct).toBe(true);
    expect(down.pnlPct).toBeCloseTo(5 - 0.2, 12);
    t.record(sig('ETH/USDT', H, 'bearish'), { price: 190, horizonBars: 1 });
    const [flat] = t.observe('ETH/USDT', { timestamp: 2 * H, close: 190 });
    expect(flat.correct).toBe(false);
    expect(flat.pnlPct).toBeCloseTo(-0.2, 12);
    expect(t.record(sig('ETH/USDT', 2 * H, 'neutral'), { price: 190, horizonBars: 1 })).toBeNull();
    expect(t.pending()).toEqual([]);
    const s = t.symbolStats('ETH/USDT');
    expect(s).toMatchObject({ signals: 2, correct: 1, winRate: 0.5 });
    expect(s.pnlSum).toBeCloseTo(4.8 - 0.2, 12);
  });

  it('keeps per-version stats and resets the since-retrain window on markRetrained', async () => {
    const t = await OutcomeTracker.open(join(dir, 'p.json'), { feeRate: 0 });
    const closes = [100, 101, 100, 99, 100]; // up, down, down, up
    const dirs: Direction[] = ['bullish', 'bullish', 'bearish', 'bearish'];
    for (let i = 0; i < 4; i++) {
      t.record(sig('SOL/USDT', i * H, dirs[i], i < 2 ? '1.0' : '1.1'), { price: closes[i], horizonBars: 1 });
      t.observe('SOL/USDT', { timestamp: (i + 1) * H, close: closes[i + 1] });
    }
    expect(t.versionStats('SOL/USDT', '1.0')).toMatchObject({ signals: 2, correct: 1, winRate: 0.5, lastRetrain: null });
    expect(t.versionStats('SOL/USDT', '1.1')).toMatchObject({ signals: 2, correct: 1 });
    expect(t.retrainInputs('SOL/USDT')).toEqual({ signalsSinceRetrain: 4, winRateSinceRetrain: 0.5, lastRetrainAt: null });
    t.markRetrained('SOL/USDT', 10 * H, '1.2');
    expect(t.retrainInputs('SOL/USDT')).toEqual({ signalsSinceRetrain: 0, winRateSinceRetrain: null, lastRetrainAt: 10 * H });
    expect(t.versionStats('SOL/USDT', '1.2')).toMatchObject({ signals: 0, lastRetrain: 10 * H });
    expect(t.symbolStats('SOL/USDT')).toMatchObject({ signals: 4, correct: 2 });
    expect(t.overall()).toMatchObject({ signals: 4, correct: 2, winRate: 0.5 });
  });

  it('ignores a signal that is not newer than the last one recorded for its symbol', async () => {
    const t = await OutcomeTracker.open(join(dir, 'p.json'), { feeRate: 0 });
    expect(t.record(sig('BTC/USDT', 5 * H, 'bullish'), { price: 100, horizonBars: 1 })).not.toBeNull();
    expect(t.record(sig('BTC/USDT', 5 * H, 'bullish'), { price: 100, horizonBars: 1 })).toBeNull(); // replayed
    expect(t.record(sig('ETH/USDT', 5 * H, 'bullish'), { price: 100, horizonBars: 1 })).not.toBeNull(); // other symbol
    t.observe('BTC/USDT', { timestamp: 6 * H, close: 101 });
    expect(t.record(sig('BTC/USDT', 4 * H, 'bearish'), { price: 100, horizonBars: 1 })).toBeNull(); // older than a resolved one
    expect(t.record(sig('BTC/USDT', 6 * H, 'bearish'), { price: 101, horizonBars: 1 })).not.toBeNull();
    expect(t.symbolStats('BTC/USDT').signals).toBe(1);
    expect(t.pending().map((p) => p.symbol)).toEqual(['ETH/USDT', 'BTC/USDT']);
  });

  it('bounds the history but keeps exact counts', async () => {
    const t = await OutcomeTracker.open(join(dir, 'p.json'), { feeRate: 0, historyLimit: 3 });
    for (let i = 0; i < 7; i++) {
      t.record(sig('ADA/USDT', i, 'bullish'), { price: 1, horizonBars: 1 });
      t.observe('ADA/USDT', { timestamp: i + 1, close: i % 2 ? 2 : 0.5 });
    }
    expect(t.history('ADA/USDT').map((r) => r.at)).toEqual([4, 5, 6]);
    expect(t.symbolStats('ADA/USDT')).toMatchObject({ signals: 7, correct: 3 });
  });

  it('restores stats, history and pending signals exactly after a restart', async () => {
    const file = join(dir, 'data', 'performance.json');
    const t = await OutcomeTracker.open(file, { feeRate: 0.001 });
    for (let i = 0; i < 5; i++) {
      t.record(sig('BTC/USDT', i * H, i % 2 ? 'bearish' : 'bullish', '1.0', 0.6 + i / 100), { price: 100 + i, horizonBars: 2 });
      t.observe('BTC/USDT', { timestamp: (i + 1) * H, close: 100 + i * 1.5 });
    }
    t.markRetrained('BTC/USDT', 3 * H, '1.0');
    t.record(sig('XRP/USDT', 9 * H, 'bearish', null), { price: 0.6, horizonBars: 4 });
    expect(t.pending().length).toBeGreaterThan(0);
    await t.save();
    const again = await OutcomeTracker.open(file, { feeRate: 0.001 });
    expect(again.toJSON()).toEqual(t.toJSON());
    // and the restored tracker carries on: the next id does not collide
    const next = again.record(sig('XRP/USDT', 10 * H, 'bullish'), { price: 0.61, horizonBars: 1 });
    expect(t.toJSON().pending.map((p) => p.id)).not.toContain(next!.id);
  });

  it('recovers from a corrupt file via .bak and refuses when both are bad', async () => {
    const file = join(dir, 'performance.json');
    const t = await OutcomeTracker.open(file, { feeRate: 0.001 });
    t.record(sig('BTC/USDT', 0, 'bullish'), { price: 100, horizonBars: 1 });
    t.observe('BTC/USDT', { timestamp: H, close: 103 });
    await t.save();
    const good = t.toJSON();
    await writeFile(file, '{"version":1,"nextId":');
    const warnings: string[] = [];
    const r = await OutcomeTracker.open(file, { feeRate: 0.001, onWarn: (m) => warnings.push(m) });
    expect(r.toJSON()).toEqual(good);
    expect(warnings.join()).toMatch(/corrupt.*recovered/);

    await writeFile(file, JSON.stringify({ ...good, nextId: 'x' }));
    await writeFile(`${file}.bak`, '[');
    await expect(OutcomeTracker.open(file, { feeRate: 0.001 })).rejects.toThrow(StoreCorruptError);
    await expect(OutcomeTracker.open(file, { feeRate: 0.001 })).rejects.toThrow(/invalid at "nextId"/);
    expect(await readFile(`${file}.bak`, 'utf8')).toBe('[');
  });

  const csv = resolve(process.cwd(), '../shared/data/ohlcv/BTC-USDT-1h.csv');
  it.skipIf(!existsSync(csv))('agrees with an independent count on real BTC candles', async () => {
    const rows = readFileSync(csv, 'utf8').trim().split('\n').slice(1, 3001).map((l) => l.split(',').map(Number));
    const t = await OutcomeTracker.open(join(dir, 'p.json'), { feeRate: 0.001, historyLimit: 500 });
    const horizon = 3;
    let expectCorrect = 0;
    let expectSignals = 0;
    for (let i = 0; i < rows.length; i++) {
      const [ts, , , , close] = rows[i];
      t.observe('BTC/USDT', { timestamp: ts, close });
      // momentum call: direction of the last bar
      if (i > 0 && i + horizon < rows.length) {
        const prev = rows[i - 1][4];
        const dir: Direction = close > prev ? 'bullish' : close < prev ? 'bearish' : 'neutral';
        t.record(sig('BTC/USDT', ts, dir), { price: close, horizonBars: horizon });
        if (dir !== 'neutral') {
          expectSignals++;
          const move = (rows[i + horizon][4] - close) / close;
          if ((dir === 'bullish' ? move : -move) > 1e-5) expectCorrect++;
        }
      }
    }
    const s = t.symbolStats('BTC/USDT');
    expect(s.signals).toBe(expectSignals);
    expect(s.correct).toBe(expectCorrect);
    expect(t.pending()).toEqual([]);
    expect(t.history('BTC/USDT')).toHaveLength(500);
    expect(s.winRate!).toBeGreaterThan(0.3);
    expect(s.winRate!).toBeLessThan(0.7);
  });
});

import { describe, it, expect, beforeEach } from 'vitest';
import { mkdtemp, writeFile, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { CandleStore } from '../../src/market/candle-store.js';
import { SimMarketSource } from '../../src/market/sim-source.js';
import { CsvFormatError } from '../../src/market/csv.js';
import type { Candle, MarketDataSource, Timeframe } from '../../src/market/types.js';

const H = 3_600_000;
const NOW = Date.UTC(2025, 0, 10, 0, 30);

/** Wraps a real source and records every range asked. */
function recording(inner: MarketDataSource, mutate?: (c: Candle[]) => Candle[]) {
  const calls: [number, number][] = [];
  const src: MarketDataSource = {
    kind: inner.kind,
    description: inner.description,
    listSymbols: () => inner.listSymbols(),
    latestClosedCandle: (s, tf) => inner.latestClosedCandle(s, tf),
    async fetchCandles(s: string, tf: Timeframe, since: number, until: number) {
      calls.push([since, until]);
      const c = await inner.fetchCandles(s, tf, since, until);
      return mutate ? mutate(c) : c;
    },
  };
  return { src, calls };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kilo-store-'));
});

describe('CandleStore', () => {
  it('stores, then tops up only after the last stored candle, and backfills older history on request', async () => {
    const clock = new ManualClock(NOW);
    const sim = new SimMarketSource(3, clock);
    const { src, calls } = recording(sim);
    const store = new CandleStore(dir, clock, { chunkCandles: 100 });
    const r1 = await store.update(src, 'sim-3', 'ETH/USDT', '1h', NOW - 10 * 24 * H);
    expect(r1.added).toBe(10 * 24 - 1);
    expect(r1.report.ok).toBe(true);
    expect(calls.length).toBe(3); // 239 candles in chunks of 100
    expect(await store.isStale('sim-3', 'ETH/USDT', '1h')).toBe(false);

    clock.advance(5 * H);
    expect(await store.isStale('sim-3', 'ETH/USDT', '1h')).toBe(true);
    calls.length = 0;
    const lastBefore = (await store.read('sim-3', 'ETH/USDT', '1h')).at(-1)!.timestamp;
    const r2 = await store.update(src, 'sim-3', 'ETH/USDT', '1h', NOW - 10 * 24 * H);
    expect(r2.added).toBe(5);
    expect(calls).toEqual([[lastBefore + H, clock.now()]]);

    calls.length = 0;
    const first = (await store.read('sim-3', 'ETH/USDT', '1h'))[0].timestamp;
    const r3 = await store.update(src, 'sim-3', 'ETH/USDT', '1h', first - 24 * H);
    expect(r3.added).toBe(24);
    expect(calls[0]).toEqual([first - 24 * H, first]);
    const all = await store.read('sim-3', 'ETH/USDT', '1h');
    expect(all).toEqual(await sim.fetchCandles('ETH/USDT', '1h', first - 24 * H, clock.now()));
  });

  it('never stores invalid candles from a source; counts them as rejected', async () => {
    const clock = new ManualClock(NOW);
    const { src } = recording(new SimMarketSource(3, clock), (c) =>
      c.map((x, i) => (i === 5 ? { ...x, close: -1 } : i === 6 ? { ...x, high: x.low / 2 } : x)).concat(c.slice(0, 2)),
    );
    const store = new CandleStore(dir, clock);
    const r = await store.update(src, 'sim', 'BTC/USDT', '1h', NOW - 48 * H);
    expect(r.rejected).toBe(4); // two bad, two duplicates
    expect(r.report.ok).toBe(true);
    expect(r.report.gaps).toEqual([expect.objectContaining({ missing: 2 })]);
  });

  it('a corrupt store file is an error naming the file and line; it is not overwritten', async () => {
    const clock = new ManualClock(NOW);
    const store = new CandleStore(dir, clock);
    const file = store.file('sim', 'BTC/USDT', '1h');
    await store.update(new SimMarketSource(3, clock), 'sim', 'BTC/USDT', '1h', NOW - 5 * H);
    const text = `${await readFile(file, 'utf8')}garbage,row\n`;
    await writeFile(file, text);
    const err = await store.update(new SimMarketSource(3, clock), 'sim', 'BTC/USDT', '1h', NOW - 50 * H).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CsvFormatError);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toMatch(/line \d+: expected 6 columns/);
    expect(await readFile(file, 'utf8')).toBe(text);
    expect((await readdir(join(dir, 'sim'))).filter((f) => f.startsWith('.kilo-tmp'))).toEqual([]);
  });

  it('get() tops up a stale store and returns the asked range', async () => {
    const clock = new ManualClock(NOW);
    const sim = new SimMarketSource(9, clock);
    const store = new CandleStore(dir, clock, { expiryMs: H });
    const got = await store.get(sim, 'sim-9', 'SOL/USDT', '1h', NOW - 20 * H, NOW);
    expect(got).toEqual(await sim.fetchCandles('SOL/USDT', '1h', NOW - 20 * H, NOW));
  });
});

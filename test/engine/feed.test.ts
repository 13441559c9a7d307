/**
 * The feed's data gate over a scripted source built on the real simulator's candles: a stale
 * symbol is held (and resumes by itself), a hole in the model window holds the symbol until the
 * source fills it (or confirms it), a suspicious candle waits for the next one, and an ongoing
 * failure is reported once, not every round.
 */
import { describe, it, expect } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { SimMarketSource } from '../../src/market/sim-source.js';
import { MarketFeed } from '../../src/engine/feed.js';
import type { Candle, MarketDataSource, Timeframe } from '../../src/market/types.js';

const H = 3_600_000;
const T0 = Date.UTC(2024, 0, 10, 0, 30);

/** The simulator seen through faults the test controls: lag, holes, outage, a replaced candle. */
function scripted(clock: ManualClock) {
  const sim = new SimMarketSource(7, clock);
  const ctl = {
    lagH: 0,
    down: false,
    hide: new Set<number>(),
    degraded: false,
    edit: new Map<number, (c: Candle) => Candle>(),
  };
  const source = {
    kind: 'exchange' as const,
    description: 'scripted',
    listSymbols: () => sim.listSymbols(),
    latestClosedCandle: (s: string, tf: Timeframe) => sim.latestClosedCandle(s, tf),
    degraded: () => ctl.degraded,
    async fetchCandles(s: string, tf: Timeframe, since: number, until: number) {
      if (ctl.down) throw new Error('scripted exchange unreachable (ECONNREFUSED 127.0.0.1:9)');
      const visible = clock.now() - ctl.lagH * H;
      const got = await sim.fetchCandles(s, tf, since, Math.min(until, visible - H + 1));
      return got.filter((c) => !ctl.hide.has(c.timestamp)).map((c) => ctl.edit.get(c.timestamp)?.(c) ?? c);
    },
  } satisfies MarketDataSource & { degraded: () => boolean };
  return { source, ctl };
}

describe('MarketFeed data gate', () => {
  it('stale: no signal on an old candle; resumes by itself when fresh candles arrive', async () => {
    const clock = new ManualClock(T0);
    const { source, ctl } = scripted(clock);
    const logs: string[] = [];
    const feed = new MarketFeed(source, '1h', 300, { maxStaleCandles: 2, windowCandles: 80, log: (_l, m) => logs.push(m) });
    let p = await feed.poll(['BTC/USDT'], clock.now());
    expect(p.signalable).toEqual(['BTC/USDT']);
    // The exchange's clock falls three hours behind: candles still trickle in, three hours old.
    ctl.lagH = 3;
    for (let i = 0; i < 4; i++) {
      clock.advance(H);
      p = await feed.poll(['BTC/USDT'], clock.now());
      expect(p.signalable).toEqual([]);
    }
    expect(p.held.get('BTC/USDT')).toMatchObject({ kind: 'stale' });
    expect(feed.holdReason('BTC/USDT')).toMatch(/^stale: newest candle 2024-01-10 00:00 closed 3\.5 h ago \(data.max_staleness_candles: 2 x 1h\)$/);
    // The hold was logged once, when it started.
    expect(logs.filter((l) => l.includes('stale'))).toHaveLength(1);
    ctl.lagH = 0;
    clock.advance(H);
    p = await feed.poll(['BTC/USDT'], clock.now());
    expect(p.signalable).toEqual(['BTC/USDT']);
    expect(p.held.size).toBe(0);
    expect(logs.at(-1)).toMatch(/BTC\/USDT: trading on its candles again \(was stale/);
  });

  it('a hole in the model window holds the symbol until the source fills it; a confirmed gap does not', async () => {
    const clock = new ManualClock(T0);
    const { source, ctl } = scripted(clock);
    // A store whose backfill was cut by an outage: three hours missing, and the source serving its cache.
    const missing = [T0 - 30.5 * H, T0 - 29.5 * H, T0 - 28.5 * H];
    for (const t of missing) ctl.hide.add(t);
    ctl.degraded = true;
    const feed = new MarketFeed(source, '1h', 300, { windowCandles: 80 });
    let p = await feed.poll(['ETH/USDT'], clock.now());
    expect(p.fresh.has('ETH/USDT')).toBe(true);
    expect(p.signalable).toEqual([]);
    expect(feed.holdReason('ETH/USDT')).toMatch(/^gap: 3 candle\(s\) missing from 2024-01-08 18:00 in the model window; waiting for them$/);
    // The exchange answers again: the next poll fetches the hole before anything else.
    ctl.hide.clear();
    ctl.degraded = false;
    clock.advance(H);
    p = await feed.poll(['ETH/USDT'], clock.now());
    expect(p.signalable).toEqual(['ETH/USDT']);
    const ts = feed.candles('ETH/USDT').map((c) => c.timestamp);
    expect(ts.every((t, i) => i === 0 || t - ts[i - 1] === H)).toBe(true);

    // A hole the source answers around (not degraded) is a real gap: confirmed, not a hold.
    const clock2 = new ManualClock(T0);
    const s2 = scripted(clock2);
    s2.ctl.hide.add(T0 - 20.5 * H);
    const feed2 = new MarketFeed(s2.source, '1h', 300, { windowCandles: 80 });
    expect((await feed2.poll(['ETH/USDT'], clock2.now())).signalable).toEqual(['ETH/USDT']);
  });

  it('a suspicious candle is not traded on until the next candle confirms it', async () => {
    const clock = new ManualClock(T0);
    const { source, ctl } = scripted(clock);
    const feed = new MarketFeed(source, '1h', 300, { windowCandles: 80 });
    await feed.poll(['BTC/USDT'], clock.now());
    // The next candle closes 40 % up, and so does the one after it (a real move that holds).
    const spike = (c: Candle): Candle => ({ ...c, open: c.open * 1.4, high: c.high * 1.4, low: c.low * 1.4, close: c.close * 1.4 });
    ctl.edit.set(T0 - 0.5 * H, spike);
    ctl.edit.set(T0 + 0.5 * H, spike);
    clock.advance(H);
    let p = await feed.poll(['BTC/USDT'], clock.now());
    expect(p.fresh.get('BTC/USDT')!.map((c) => c.timestamp)).toEqual([T0 - 0.5 * H]);
    expect(p.signalable).toEqual([]);
    expect(feed.holdReason('BTC/USDT')).toMatch(/^suspect: candle 2024-01-10 00:00 moved \+(39|4\d)\.\d% in one candle, more than the \d+\.\d% plausible for this symbol/);
    clock.advance(H);
    p = await feed.poll(['BTC/USDT'], clock.now());
    expect(p.signalable).toEqual(['BTC/USDT']);
  });

  it('an ongoing failure is reported when it starts, not every round; recovery is said once', async () => {
    const clock = new ManualClock(T0);
    const { source, ctl } = scripted(clock);
    const logs: string[] = [];
    const feed = new MarketFeed(source, '1h', 300, { log: (_l, m) => logs.push(m) });
    ctl.down = true;
    const failures: string[] = [];
    for (let i = 0; i < 4; i++) {
      const p = await feed.poll(['SOL/USDT'], clock.now());
      failures.push(...p.failures.map((f) => f.error));
      clock.advance(H);
    }
    expect(failures).toEqual(['scripted exchange unreachable (ECONNREFUSED 127.0.0.1:9)']);
    expect(feed.holdReason('SOL/USDT')).toBe('failed: no candles yet: market data failed');
    ctl.down = false;
    const p = await feed.poll(['SOL/USDT'], clock.now());
    expect(p.signalable).toEqual(['SOL/USDT']);
    expect(logs).toContain('SOL/USDT: market data flows again');
  });
});

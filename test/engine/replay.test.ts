/**
 * `kilo replay` over a month of real candles: the engine trains its first models, the retrain
 * policy fires, the gate decides, and the summary agrees with an independent recomputation from
 * the recorded trades and prices.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runReplay, formatReplaySummary, type ReplaySummary } from '../../src/cli/replay.js';
import { DATA, hasData, testConfig } from './helpers.js';

describe.skipIf(!hasData)('replay on real candles', () => {
  let home: string;
  afterAll(async () => {
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('completes with retrain decisions and a summary that matches its own trades', async () => {
    home = await mkdtemp(join(tmpdir(), 'kilo-replay-'));
    const config = testConfig((c) => {
      c.universe.symbols = ['BTC/USDT', 'ETH/USDT'];
      c.auto_training.min_signals_for_decision = 60;
      c.auto_training.min_win_rate_threshold = 0.6;
      c.paper_trading.entry_threshold = 0.3;
    });
    const s: ReplaySummary = await runReplay({
      config,
      configPath: join(home, 'config.yaml'),
      csvDir: DATA,
      stateDir: join(home, 'replay'),
      from: Date.UTC(2023, 5, 1),
      to: Date.UTC(2023, 6, 1),
      speed: 0,
      keepState: false,
    });
    const text = formatReplaySummary(s);
    if (process.env.KILO_DEBUG) console.log(text);

    expect(s.rounds).toBe(30 * 24);
    expect(s.symbols).toEqual(['BTC/USDT', 'ETH/USDT']);
    // First models for both symbols, then at least one retrain decision from the policy.
    expect(s.decisions.filter((d) => d.championVersion === null && d.kind === 'promoted').map((d) => d.symbol).sort()).toEqual(['BTC/USDT', 'ETH/USDT']);
    expect(s.retrains.length).toBeGreaterThanOrEqual(1);
    expect(s.retrains[0].reason).toMatch(/win rate \d+\.\d% < 60% over \d+ signals/);
    const gated = s.decisions.filter((d) => d.championVersion !== null);
    expect(gated.length).toBeGreaterThanOrEqual(1);
    for (const d of gated) expect(d.reason).toMatch(/shared candles|failed/);
    expect(s.promoted + s.kept).toBe(s.decisions.length);

    // Independent recomputation from the trades.
    expect(s.trades.length).toBeGreaterThan(0);
    let cash = s.startingCash;
    let fees = 0;
    const pos = new Map<string, number>();
    for (const t of s.trades) {
      fees += t.fee;
      if (t.side === 'buy') {
        cash -= t.qty * t.price + t.fee;
        pos.set(t.symbol, (pos.get(t.symbol) ?? 0) + t.qty);
      } else {
        cash += t.qty * t.price - t.fee;
        pos.set(t.symbol, (pos.get(t.symbol) ?? 0) - t.qty);
      }
    }
    let equity = cash;
    for (const [sym, q] of pos) equity += q * s.lastPrices[sym];
    expect(equity).toBeCloseTo(s.finalEquity, 6);
    expect(fees).toBeCloseTo(s.feesPaid, 6);
    expect(s.pnl).toBeCloseTo(equity - s.startingCash, 6);
    expect(s.pnlPct).toBeCloseTo(((equity - s.startingCash) / s.startingCash) * 100, 6);
    for (const p of s.openPositions) expect(pos.get(p.symbol)).toBeCloseTo(p.qty, 9);
    // Buy and hold: equal weight, bought at the first close through the broker's buy (fee on the
    // notional, 5 bps slippage), marked at the last close like the broker's own equity.
    const bh =
      (['BTC/USDT', 'ETH/USDT'].map((x) => s.lastPrices[x] / (s.firstPrices[x] * (1 + 0.0005)) / (1 + 0.001) - 1).reduce((a, b) => a + b, 0) / 2) * 100;
    expect(s.buyAndHoldPct).toBeCloseTo(bh, 9);
    expect(s.winRate).toBeCloseTo(s.correct / s.signals, 12);
    // No trade before a symbol's first model was promoted (it was blocked until then).
    for (const sym of s.symbols) {
      const first = s.decisions.find((d) => d.symbol === sym && d.kind === 'promoted')!;
      expect(s.trades.filter((t) => t.symbol === sym && t.at < first.at)).toEqual([]);
    }
    expect(text).toMatch(/buy-and-hold/);
    expect(text).toMatch(/no-trade: \+0\.00%/);
    // 720 rounds with real trainings: minutes on a loaded 2-core machine (figures in bench/, not here).
  }, 400_000);
});

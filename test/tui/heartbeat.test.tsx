import { describe, expect, it } from 'vitest';
import { FakeEngine, emptySnapshot, symbolRow } from '../helpers/fake-engine.js';
import { KEYS, press, renderApp, waitFor, waitForFrame } from './helpers.js';
import { fmtDuration } from '../../tui/format.js';

function engineWithSymbols(): FakeEngine {
  return new FakeEngine({
    symbols: [
      symbolRow('BTC/USDT', { price: 43210.5, winRate: 0.55, lastSignal: { symbol: 'BTC/USDT', at: 0, direction: 'bullish', confidence: 0.72, contributions: {}, modelVersion: '1.0' } }),
      symbolRow('ETH/USDT', {
        price: 2250.25,
        state: 'training',
        needsRetrain: true,
        retrainReason: 'win rate 41.0% < 45%',
        shadow: { challenger: '1.3', champion: '1.0', until: Date.UTC(2023, 8, 2, 10), aheadPct: 0.42, label: 'shadow v1.3 until 2023-09-02 10:00 UTC, ahead by +0.42 %' },
      }),
      symbolRow('DOGE/USDT', { price: 0.08123, state: 'blocked', stateReason: 'no model yet' }),
    ],
    portfolio: { ...emptySnapshot().portfolio, cash: 9000, equity: 10250, pnl: 250, pnlPct: 2.5, exposure: 0.1, equityCurve: [10000, 10100, 10050, 10250] },
    overallWinRate: 0.55,
    jobsRunning: 1,
  });
}

describe('heartbeat panel', () => {
  it('shows one row per symbol with price, signal, state and the header figures', async () => {
    const engine = engineWithSymbols();
    const r = renderApp(engine);
    const f = await waitForFrame(r, 'DOGE/USDT');
    expect(f).toContain('43211');
    expect(f).toContain('bull 0.72');
    expect(f).toContain('training');
    expect(f).toContain('blocked');
    expect(f).toContain('0.08123');
    expect(f).toMatch(/equity 10250\.00 \(\+2\.50%\)/);
    expect(f).toContain('win 55.0%');
    expect(f).toContain('jobs 1');
    expect(f).toContain('Equity');
    r.unmount();
  });

  it('re-renders when the engine store changes, without polling', async () => {
    const engine = engineWithSymbols();
    const r = renderApp(engine);
    await waitForFrame(r, 'BTC/USDT');
    engine.update((s) => ({ symbols: [...s.symbols, symbolRow('SOL/USDT', { price: 98.76 })] }));
    const f = await waitForFrame(r, 'SOL/USDT');
    expect(f).toContain('98.76');
    r.unmount();
  });

  it('moves the selection with up/down and shows the selected symbol detail', async () => {
    const engine = engineWithSymbols();
    const r = renderApp(engine);
    await waitForFrame(r, 'selected BTC/USDT');
    await press(r, KEYS.down);
    let f = await waitForFrame(r, 'selected ETH/USDT');
    expect(f).toContain('retrain: win rate 41.0% < 45%');
    // A challenger in shadow is named in the selected symbol's detail (auto_training.shadow_days).
    expect(f).toContain('shadow v1.3 until 2023-09-02 10:00 UTC, ahead by');
    await press(r, KEYS.down);
    f = await waitForFrame(r, 'selected DOGE/USDT');
    expect(f).toContain('blocked (no model yet)');
    await press(r, KEYS.down); // already at the bottom
    await press(r, KEYS.up);
    await waitForFrame(r, 'selected ETH/USDT');
    r.unmount();
  });

  it('switches panels with 1-6 and Tab', async () => {
    const engine = engineWithSymbols();
    const r = renderApp(engine);
    await waitForFrame(r, '[1 Heartbeat]');
    await press(r, '3');
    await waitForFrame(r, '[3 Queue]');
    await press(r, KEYS.tab);
    await waitForFrame(r, '[4 Logs]');
    await press(r, KEYS.tab);
    await waitForFrame(r, '[5 Trades]');
    await press(r, KEYS.tab);
    await waitForFrame(r, '[6 Coverage]');
    await press(r, KEYS.tab);
    await waitForFrame(r, '[1 Heartbeat]');
    await press(r, '2');
    await waitForFrame(r, '[2 Models]');
    r.unmount();
  });

  it('q stops the engine, then exits', async () => {
    const engine = engineWithSymbols();
    const exits: string[] = [];
    const r = renderApp(engine, { onExit: (why) => exits.push(why) });
    await waitForFrame(r, 'BTC/USDT');
    await press(r, 'q');
    await waitFor(() => exits.length === 1, 'exit');
    expect(exits).toEqual(['quit']);
    expect(engine.callsNamed('stop')).toHaveLength(1);
    r.unmount();
  });

  it('Ctrl+C once stops gracefully, twice forces', async () => {
    const engine = engineWithSymbols();
    // A stop that never finishes: only the second Ctrl+C can get out.
    engine.stop = () => new Promise<void>(() => {});
    const exits: string[] = [];
    const r = renderApp(engine, { onExit: (why) => exits.push(why) });
    await waitForFrame(r, 'BTC/USDT');
    await press(r, KEYS.ctrlC);
    await waitForFrame(r, 'Ctrl+C again forces');
    expect(exits).toEqual([]);
    await press(r, KEYS.ctrlC);
    await waitFor(() => exits.length === 1, 'forced exit');
    expect(exits).toEqual(['force']);
    r.unmount();
  });
});

describe('heartbeat cells', () => {
  it('"Last train" is measured on the market clock (the simulator runs ahead of the wall clock)', async () => {
    const { heartbeatCells } = await import('../../tui/screens/heartbeat.js');
    const wall = Date.UTC(2026, 0, 1);
    const market = wall + 30 * 86_400_000; // the simulator is 30 days ahead
    const row = symbolRow('BTC/USDT', { lastRetrain: market - 3 * 3_600_000 });
    expect(heartbeatCells(row, market).last.text).toBe(fmtDuration(3 * 3_600_000));
    const engine = new FakeEngine({ symbols: [row], now: wall, marketNow: market });
    const r = renderApp(engine);
    const f = await waitForFrame(r, 'BTC/USDT');
    expect(f).toContain(` ${fmtDuration(3 * 3_600_000)} `);
    r.unmount();
  });
});

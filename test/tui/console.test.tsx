import React from 'react';
import chalk from 'chalk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeEngine, emptySnapshot, jobView, modelView, symbolRow } from '../helpers/fake-engine.js';
import { KEYS, press, renderApp, waitFor, waitForFrame } from './helpers.js';
import { parseCommandLine, CommandLineError } from '../../tui/commands.js';
import { helpLines } from '../../tui/components/help-overlay.js';
import { KEYMAP } from '../../tui/keymap.js';

function busyEngine(): FakeEngine {
  const symbols = ['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'BNB/USDT', 'ADA/USDT', 'XRP/USDT', 'DOGE/USDT', 'LINK/USDT'].map((s, i) =>
    symbolRow(s, {
      price: 1000 / (i + 1),
      needsRetrain: i % 2 === 0,
      retrainReason: 'win rate 41.0% < 45% over 23 signals, and a very long explanation that must be cut',
      state: i === 3 ? 'blocked' : 'live',
      lastSignal: { symbol: s, at: 0, direction: 'bearish', confidence: 0.61, contributions: {}, modelVersion: '1.0' },
    }),
  );
  return new FakeEngine({
    symbols,
    jobs: [jobView('1', 'BTC/USDT', { state: 'running', progress: { phase: 'gru', epoch: 1, epochs: 5, loss: 0.7, valMetric: 0.5, fraction: 0.2, etaS: 30 }, lossHistory: [0.9, 0.7] })],
    models: [modelView('1.0', { selected: true, trainedSymbols: symbols.map((s) => s.symbol) })],
    portfolio: { ...emptySnapshot().portfolio, cash: 5000, equity: 10_512.34, pnl: 512.34, pnlPct: 5.12, exposure: 0.5, equityCurve: Array.from({ length: 300 }, (_, i) => 10_000 + i * 2) },
    overallWinRate: 0.52,
    jobsRunning: 1,
    dataSource: 'binance (ccxt) with a rather long description',
  });
}

describe('command line (pure)', () => {
  const ctx = { selectedSymbol: 'ETH/USDT', selectedJobId: null };
  it('parses the subcommand actions', () => {
    expect(parseCommandLine(':train btc/usdt', ctx)).toEqual({ kind: 'train', symbol: 'BTC/USDT', quick: false });
    expect(parseCommandLine('train --quick', ctx)).toEqual({ kind: 'train', symbol: 'ETH/USDT', quick: true });
    expect(parseCommandLine('cancel 12', ctx)).toEqual({ kind: 'cancel', jobId: '12' });
    expect(parseCommandLine('block SOL/USDT too volatile', ctx)).toEqual({ kind: 'block', symbol: 'SOL/USDT', reason: 'too volatile' });
    expect(parseCommandLine('unblock', ctx)).toEqual({ kind: 'unblock', symbol: 'ETH/USDT' });
    expect(parseCommandLine('pin 1.1', ctx)).toEqual({ kind: 'pin', version: '1.1' });
    expect(parseCommandLine('unpin', ctx)).toEqual({ kind: 'unpin' });
  });
  it('rejects unknown commands and bad arguments with a message', () => {
    expect(() => parseCommandLine('frobnicate', ctx)).toThrow(/unknown command ":frobnicate"/);
    expect(() => parseCommandLine('pin latest', ctx)).toThrow(CommandLineError);
    expect(() => parseCommandLine('train BTCUSDT', ctx)).toThrow(/not a symbol/);
    expect(() => parseCommandLine('cancel', ctx)).toThrow(/needs a job id/);
  });
});

describe('command line in the console', () => {
  it(': runs a command and shows its result; unknown commands show an error line', async () => {
    const engine = busyEngine();
    const r = renderApp(engine);
    await waitForFrame(r, 'BTC/USDT');
    await press(r, ':');
    await waitForFrame(r, 'train BTC/USDT | cancel');
    await press(r, 'train sol/usdt', KEYS.enter);
    await waitFor(() => engine.callsNamed('train').length === 1, 'train');
    expect(engine.callsNamed('train')[0].req).toMatchObject({ symbol: 'SOL/USDT', quick: false });
    await waitForFrame(r, 'train ok');
    await press(r, ':');
    await press(r, 'pin 1.0', KEYS.enter);
    await waitFor(() => engine.callsNamed('pinModel').length === 1, 'pin');
    expect(engine.callsNamed('pinModel')[0].version).toBe('1.0');
    await press(r, ':', 'launch rockets', KEYS.enter);
    await waitForFrame(r, 'error: unknown command ":launch"');
    // Esc closes the command line without running anything.
    await press(r, ':', 'cancel 1', KEYS.esc);
    await waitForFrame(r, (f) => !f.includes(':cancel 1'));
    expect(engine.callsNamed('cancelJob')).toHaveLength(0);
    r.unmount();
  });
});

describe('help overlay', () => {
  it('is generated from the keymap registry: every binding appears', () => {
    const lines = helpLines('queue').join('\n');
    for (const b of KEYMAP) expect(lines).toContain(b.label);
  });

  it('? opens it over the panel, ? closes it, and panel keys are off meanwhile', async () => {
    const engine = busyEngine();
    const r = renderApp(engine, { size: { columns: 120, rows: 40 } });
    await waitForFrame(r, 'BTC/USDT');
    await press(r, '3');
    await waitForFrame(r, '[3 Queue]');
    await press(r, '?');
    const f = await waitForFrame(r, 'Keys (? or Esc closes');
    // The current panel's keys and every : command come first, each whole on its line.
    expect(f).toContain('cancel the highlighted job');
    expect(f).toContain(':rollback SYMBOL [reason]');
    expect(f).toContain(':unblock SYMBOL');
    // The rest is a scroll away, and the overlay says so.
    expect(f).toMatch(/↓ \d+ more line/);
    for (let i = 0; i < 40; i++) await press(r, KEYS.down);
    const end = await waitForFrame(r, 'cycle level filter');
    expect(end).not.toMatch(/more line/);
    await press(r, 'x');
    await press(r, '?');
    await waitForFrame(r, (fr) => !fr.includes('Keys (? or Esc'));
    expect(engine.callsNamed('cancelJob')).toHaveLength(0);
    r.unmount();
  });
});

describe('layout and robustness', () => {
  it('fits 80x24 on every panel and the help overlay', async () => {
    const engine = busyEngine();
    const r = renderApp(engine, { size: { columns: 80, rows: 24 } });
    await waitForFrame(r, 'BTC/USDT');
    for (const k of ['1', '2', '3', '4', '?']) {
      await press(r, k);
      const f = await waitForFrame(r, (fr) => k === '?' ? fr.includes('Keys') : fr.includes(`[${k} `));
      const lines = f.split('\n');
      expect(lines.length).toBeLessThanOrEqual(24);
      for (const l of lines) expect(l.length, `panel ${k}: ${l}`).toBeLessThanOrEqual(80);
    }
    r.unmount();
  });

  it('scales up: a wide terminal shows the columns 80 columns drop', async () => {
    const engine = busyEngine();
    const narrow = renderApp(engine, { size: { columns: 80, rows: 24 } });
    const nf = await waitForFrame(narrow, 'BTC/USDT');
    narrow.unmount();
    const wide = renderApp(engine, { size: { columns: 160, rows: 50 } });
    const wf = await waitForFrame(wide, 'BTC/USDT');
    wide.unmount();
    expect(nf).not.toContain('Candles');
    expect(wf).toContain('Candles');
    expect(wf).toContain('Last train');
    expect(wf).toContain('src binance (ccxt) with a rather long description');
  });

  it('a panel that throws is contained: the header and other panels still work', async () => {
    const engine = busyEngine();
    function Broken(): React.ReactElement {
      throw new Error('models exploded');
    }
    const r = renderApp(engine, { panelOverride: { models: <Broken /> } });
    await waitForFrame(r, 'BTC/USDT');
    await press(r, '2');
    const f = await waitForFrame(r, 'The Models panel failed: models exploded');
    expect(f).toContain('eq 10512.34');
    await press(r, '1');
    await waitForFrame(r, 'LINK/USDT');
    r.unmount();
  });
});

describe('NO_COLOR', () => {
  const level = chalk.level;
  beforeAll(() => {
    chalk.level = 3; // force colour on, so only the theme can turn it off
  });
  afterAll(() => {
    chalk.level = level;
  });
  const ESC = '\u001B[';
  it('no ANSI escape codes in any panel with noColor, but colour without it', async () => {
    const coloured = renderApp(busyEngine(), {}, false);
    const cf = await waitForFrame(coloured, 'BTC/USDT');
    coloured.unmount();
    expect(cf).toContain(ESC);
    const r = renderApp(busyEngine(), {}, true);
    await waitForFrame(r, 'BTC/USDT');
    for (const k of ['1', '2', '3', '4', '?']) {
      await press(r, k);
      const f = await waitForFrame(r, (fr) => k === '?' ? fr.includes('Keys') : fr.includes(`[${k} `));
      expect(f.includes(ESC), `panel ${k} has escape codes`).toBe(false);
    }
    r.unmount();
  });
});

describe('keys arriving in one chunk (tmux send-keys, pastes)', () => {
  it('"3t" switches to the queue and then trains; ":train sol/usdt\\r" runs the command', async () => {
    const engine = busyEngine();
    const r = renderApp(engine);
    await waitForFrame(r, 'BTC/USDT');
    r.stdin.write('3t');
    await waitFor(() => engine.callsNamed('train').length === 1, 'train from the queue panel');
    expect(engine.callsNamed('train')[0].req).toMatchObject({ symbol: 'BTC/USDT', reason: 'operator: train now' });
    await waitForFrame(r, '[3 Queue]');
    r.stdin.write(':block ada/usdt\r');
    await waitFor(() => engine.callsNamed('block').length === 1, 'block via the command line');
    expect(engine.callsNamed('block')[0].symbol).toBe('ADA/USDT');
    r.unmount();
  });
});

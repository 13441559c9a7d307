import React from 'react';
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/schema.js';
import { Providers } from '../../tui/providers.js';
import { Wizard, type WizardDeps, type WizardResult } from '../../tui/screens/wizard/wizard.js';
import { defaultAnswers, wizardAnswersToPatch } from '../../tui/screens/wizard/answers.js';
import type { ExistingModel } from '../../tui/screens/wizard/steps.js';
import { defaultKiloCommand, startLaterText, systemdUnit } from '../../tui/screens/wizard/start-later.js';
import { existsSync } from 'node:fs';
import { FakeEngine, jobView, symbolRow } from '../helpers/fake-engine.js';
import { KEYS, press, waitFor, waitForFrame } from './helpers.js';

function setup(existing: ExistingModel | null = null) {
  const saves: Record<string, unknown>[] = [];
  const results: WizardResult[] = [];
  const engine = new FakeEngine();
  let started = 0;
  const deps: WizardDeps = {
    base: defaultConfig(),
    configPath: '/tmp/kilo/config.yaml',
    findExistingModel: async () => existing,
    save: async (p) => {
      saves.push(p);
    },
    startEngine: async () => {
      started++;
      return engine;
    },
  };
  const r = render(
    <Providers theme={{ noColor: true }}>
      <Wizard deps={deps} onDone={(x) => results.push(x)} />
    </Providers>,
  );
  return { r, saves, results, engine, started: () => started };
}

describe('wizardAnswersToPatch (pure)', () => {
  it('defaults: simulator, list universe, single_symbol, no auto-training keys', () => {
    expect(wizardAnswersToPatch(defaultAnswers(defaultConfig()))).toEqual({
      'data.source': 'sim',
      'universe.mode': 'list',
      'universe.symbols': ['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'BNB/USDT', 'ADA/USDT'],
      'universe.core_symbols': ['BTC/USDT', 'ETH/USDT'],
      'model.training_mode': 'single_symbol',
    });
  });
  it('exchange, multi_symbol and edited thresholds', () => {
    const a = { ...defaultAnswers(defaultConfig()), source: 'exchange' as const, exchangeId: 'kraken', trainingMode: 'multi_symbol' as const, encoding: 'index' as const, symbols: ['BTC/USDT'], autoDefaults: false, minWinRate: 0.4 };
    const p = wizardAnswersToPatch(a);
    expect(p['exchange.id']).toBe('kraken');
    expect(p['model.symbol_encoding']).toBe('index');
    expect(p['model.multi_symbol_symbols']).toEqual(['BTC/USDT']);
    expect(p['auto_training.min_win_rate_threshold']).toBe(0.4);
    expect(p['model.target_history_days']).toBe(730);
    expect(p['data.csv_dir']).toBeUndefined();
  });
  it('start-later text names the console, headless, tmux and systemd ways, with absolute paths that work from a clone', () => {
    const t = startLaterText('/srv/my kilo', { node: '/usr/bin/node', bin: '/opt/kilo/bin/kilo.js' });
    expect(t).toContain("/usr/bin/node /opt/kilo/bin/kilo.js --home '/srv/my kilo' run --headless");
    expect(t).toContain('tmux new-session');
    expect(t).toContain('ExecStart=/usr/bin/node /opt/kilo/bin/kilo.js --home "/srv/my kilo" run --headless');
    expect(t).toContain('WorkingDirectory="/srv/my kilo"');
    expect(t).toContain('Restart=on-failure');
    // The default points at this checkout's real entry and node.
    const d = defaultKiloCommand();
    expect(d.node).toBe(process.execPath);
    expect(existsSync(d.bin)).toBe(true);
    expect(systemdUnit('/h%x')).toContain('--home /h%%x run --headless');
  });
});

describe('setup wizard', () => {
  it('walks every step (exchange, multi_symbol, edited thresholds, existing model) and saves the patch', async () => {
    const { r, saves, results } = setup({ version: '1.2', symbols: ['BTC/USDT', 'ETH/USDT'], trainingEnd: Date.UTC(2024, 0, 31), trainingMode: 'multi_symbol' });
    await waitForFrame(r, 'Where do candles come from?');
    await press(r, KEYS.down, KEYS.enter); // exchange
    await waitForFrame(r, 'Exchange id (ccxt)');
    await press(r, ...Array(7).fill(KEYS.backspace), 'kraken', KEYS.enter);
    await waitForFrame(r, 'Universe: symbols to watch');
    await press(r, ...Array(60).fill(KEYS.backspace), 'btc/usdt, eth/usdt, doge/usdt', KEYS.enter);
    await waitForFrame(r, 'Core symbols');
    await press(r, KEYS.enter);
    await waitForFrame(r, 'Training mode');
    await press(r, KEYS.down, KEYS.enter);
    await waitForFrame(r, 'Symbol encoding');
    await press(r, KEYS.down, KEYS.enter); // index
    await waitForFrame(r, 'Auto-training settings');
    await press(r, KEYS.down, KEYS.enter); // edit
    await waitForFrame(r, 'Train new symbols automatically?');
    await press(r, KEYS.down, KEYS.enter); // no
    await waitForFrame(r, 'Block untrained symbols?');
    await press(r, KEYS.enter); // yes
    await waitForFrame(r, 'History policy');
    await press(r, KEYS.enter);
    await waitForFrame(r, 'Days of history');
    await press(r, KEYS.backspace, KEYS.backspace, KEYS.backspace, '365', KEYS.enter);
    await waitForFrame(r, 'win rate drops below');
    await press(r, KEYS.backspace, KEYS.backspace, '40', KEYS.enter);
    await waitForFrame(r, 'Retrain at least every');
    await press(r, KEYS.enter);
    const f = await waitForFrame(r, 'A compatible model exists: v1.2');
    expect(f).toContain('trained to 2024-01-31');
    await press(r, KEYS.enter); // No, use it -> no training question
    await waitForFrame(r, 'Start the bot now?');
    expect(saves).toHaveLength(1);
    expect(saves[0]).toEqual({
      'data.source': 'exchange',
      'exchange.id': 'kraken',
      'universe.mode': 'list',
      'universe.symbols': ['BTC/USDT', 'ETH/USDT', 'DOGE/USDT'],
      'universe.core_symbols': ['BTC/USDT', 'ETH/USDT'],
      'model.training_mode': 'multi_symbol',
      'model.symbol_encoding': 'index',
      'model.multi_symbol_symbols': ['BTC/USDT', 'ETH/USDT', 'DOGE/USDT'],
      'model.auto_train_new_symbols': false,
      'model.block_untrained_symbols': true,
      'model.block_short_history_symbols': true,
      'model.target_history_days': 365,
      'auto_training.min_win_rate_threshold': 0.4,
      'auto_training.max_days_between_retrain': 30,
    });
    await press(r, KEYS.enter);
    await waitFor(() => results.length === 1, 'result');
    expect(results[0].kind).toBe('start');
    r.unmount();
  });

  it('Esc goes back one step and keeps the earlier answer', async () => {
    const { r } = setup();
    await waitForFrame(r, 'Where do candles come from?');
    await press(r, KEYS.down, KEYS.down, KEYS.enter); // csv
    await waitForFrame(r, 'CSV folder');
    await press(r, KEYS.esc);
    const f = await waitForFrame(r, 'Where do candles come from?');
    expect(f).toContain('> A folder of CSV files');
    await press(r, KEYS.up, KEYS.up, KEYS.enter); // simulator: no folder question
    await waitForFrame(r, 'Universe: symbols to watch');
    r.unmount();
  });

  it('bad input shows an error naming it and stays on the step', async () => {
    const { r } = setup();
    await waitForFrame(r, 'Where do candles come from?');
    await press(r, KEYS.enter);
    await waitForFrame(r, 'Universe: symbols to watch');
    await press(r, ', BTCUSDT', KEYS.enter);
    const f = await waitForFrame(r, 'error: "BTCUSDT" is not a symbol like BTC/USDT');
    expect(f).toContain('Universe: symbols to watch');
    r.unmount();
  });

  it('Ctrl+C leaves without writing anything', async () => {
    const { r, saves, results, started } = setup();
    await waitForFrame(r, 'Where do candles come from?');
    await press(r, KEYS.enter);
    await waitForFrame(r, 'Universe');
    await press(r, KEYS.ctrlC);
    await waitFor(() => results.length === 1, 'cancel');
    expect(results[0]).toEqual({ kind: 'cancelled', saved: false, engine: null });
    expect(saves).toEqual([]);
    expect(started()).toBe(0);
    r.unmount();
  });

  it('initial training now: queues the core symbols and shows live progress from job events', async () => {
    const { r, saves, results, engine } = setup();
    await waitForFrame(r, 'Where do candles come from?');
    for (const title of ['Universe', 'Core symbols', 'Training mode', 'Auto-training', 'Initial training of BTC/USDT, ETH/USDT']) {
      await press(r, KEYS.enter);
      await waitForFrame(r, title);
    }
    await press(r, KEYS.enter); // train now
    await waitFor(() => engine.callsNamed('train').length === 2, 'two train calls');
    expect(saves).toHaveLength(1);
    expect(engine.callsNamed('train').map((c) => c.req.symbol)).toEqual(['BTC/USDT', 'ETH/USDT']);
    const running = (id: string, symbol: string, epoch: number) =>
      jobView(id, symbol, { state: 'running', progress: { phase: 'gru', epoch, epochs: 10, loss: 0.7, valMetric: null, fraction: epoch / 10, etaS: 12 } });
    engine.emit('job', running('1', 'BTC/USDT', 2));
    await waitForFrame(r, 'epoch 2/10');
    engine.emit('job', running('1', 'BTC/USDT', 7));
    engine.emit('job', jobView('2', 'ETH/USDT', { state: 'failed', attempts: 1, lastError: 'not enough candles' }));
    await waitForFrame(r, 'error: not enough candles');
    expect(r.lastFrame()).toContain(' 70%');
    // The engine now serves BTC with the version that trained.
    engine.update({ symbols: [symbolRow('BTC/USDT', { modelVersion: '1.0' }), symbolRow('ETH/USDT', { modelVersion: null })] });
    engine.emit('job', jobView('1', 'BTC/USDT', { state: 'done' }));
    // The summary stays up with the question: what trained, what failed and why.
    const f = await waitForFrame(r, 'Start the bot now?');
    expect(f).toContain('Initial training: 1 of 2 trained, 1 failed');
    expect(f).toMatch(/BTC\/USDT +trained; v1\.0 serves it/);
    expect(f).toMatch(/ETH\/USDT +failed after 1 attempt: not enough candles/);
    await press(r, KEYS.down, KEYS.enter);
    await waitFor(() => results.length === 1, 'result');
    expect(results[0]).toEqual({ kind: 'later', engine });
    r.unmount();
  });

  it('continuing early (b): the summary says which training was refused and why, and which keeps running', async () => {
    const { r, results, engine } = setup();
    engine.result = (c) => (c.name === 'train' && c.req.symbol === 'ETH/USDT' ? { ok: false, message: 'ETH/USDT is blocked: too volatile' } : { ok: true, message: 'queued' });
    await waitForFrame(r, 'Where do candles come from?');
    for (const title of ['Universe', 'Core symbols', 'Training mode', 'Auto-training', 'Initial training of BTC/USDT, ETH/USDT']) {
      await press(r, KEYS.enter);
      await waitForFrame(r, title);
    }
    await press(r, KEYS.enter);
    await waitForFrame(r, 'not queued: ETH/USDT is blocked');
    engine.emit('job', jobView('1', 'BTC/USDT', { state: 'running', progress: { phase: 'gru', epoch: 4, epochs: 10, loss: 0.7, valMetric: null, fraction: 0.4, etaS: 12 } }));
    await waitForFrame(r, 'epoch 4/10');
    await press(r, 'b');
    const f = await waitForFrame(r, 'Start the bot now?');
    expect(f).toContain('Initial training: 0 of 2 trained, 1 failed');
    expect(f).toMatch(/BTC\/USDT +running \(40%\): keeps training in the background/);
    expect(f).toMatch(/ETH\/USDT +not queued: ETH\/USDT is blocked: too volatile/);
    await press(r, KEYS.enter);
    await waitFor(() => results.length === 1, 'result');
    expect(results[0].kind).toBe('start');
    r.unmount();
  });
});

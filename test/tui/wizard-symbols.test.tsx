/**
 * The wizard validates what it writes against the chosen source (issue 13 item 5): it offers what
 * the source lists, refuses a symbol the source does not list, refuses a CSV folder that is not
 * there, and leaves stablecoins and illiquid pairs out of a multi-symbol set with a warning. The
 * real wiring (tui/wizard-deps.ts) on the real simulator and files.
 */
import React from 'react';
import { render } from 'ink-testing-library';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/schema.js';
import { loadConfig } from '../../src/config/load.js';
import { makeWizardDeps } from '../../tui/wizard-deps.js';
import { Providers } from '../../tui/providers.js';
import { Wizard, type WizardResult } from '../../tui/screens/wizard/wizard.js';
import { defaultAnswers, wizardAnswersToPatch } from '../../tui/screens/wizard/answers.js';
import { KEYS, press, waitForFrame } from './helpers.js';

const dirs: string[] = [];
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), 'kilo-wizsym-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const noEngine = async () => {
  throw new Error('not used');
};

describe('wizard symbol checks (wiring)', () => {
  it('lists and checks symbols on the simulator; a CSV folder must exist and hold CSV files', async () => {
    const home = fresh();
    const deps = makeWizardDeps({ home, configPath: join(home, 'config.yaml'), base: defaultConfig(), startEngine: noEngine });
    const a = defaultAnswers(defaultConfig());
    const listing = await deps.listSymbols!(a);
    expect(listing.name).toBe('the simulator (seed 42)');
    expect(listing.symbols).toEqual(expect.arrayContaining(['BTC/USDT', 'USDC/USDT', 'NOVA/USDT']));
    expect(listing.symbols).not.toContain('DOGE/USDT');
    expect(await deps.checkSymbols!(a, ['BTC/USDT', 'DOGE/USDT', 'XYZ/USDT'])).toMatchObject({
      rejected: [
        { symbol: 'DOGE/USDT', reason: 'not listed on the simulator (seed 42)' },
        { symbol: 'XYZ/USDT', reason: 'not listed on the simulator (seed 42)' },
      ],
    });
    expect(await deps.checkCsvDir!('nowhere')).toBe(`folder not found: ${join(home, 'nowhere')}`);
    mkdirSync(join(home, 'empty'));
    expect(await deps.checkCsvDir!('empty')).toMatch(/^no \.csv files in /);
    writeFileSync(join(home, 'empty', 'BTC-USDT-1h.csv'), 'timestamp,open,high,low,close,volume\n');
    expect(await deps.checkCsvDir!('empty')).toBeNull();
  });

  it('save leaves a stablecoin out of the multi-symbol set with a warning, and keeps it in the universe', async () => {
    const home = fresh();
    const configPath = join(home, 'config.yaml');
    const deps = makeWizardDeps({ home, configPath, base: defaultConfig(), startEngine: noEngine });
    const a = { ...defaultAnswers(defaultConfig()), trainingMode: 'multi_symbol' as const, symbols: ['BTC/USDT', 'ETH/USDT', 'USDC/USDT'] };
    const notices = await deps.save(wizardAnswersToPatch(a));
    expect(notices).toEqual([expect.stringMatching(/^USDC\/USDT left out of model\.multi_symbol_symbols \(stablecoin\): daily volatility .* looks like a stablecoin$/)]);
    const { config } = await loadConfig(configPath);
    expect(config.model.multi_symbol_symbols).toEqual(['BTC/USDT', 'ETH/USDT']);
    expect(config.universe.symbols).toEqual(['BTC/USDT', 'ETH/USDT', 'USDC/USDT']);
  });
});

describe('wizard symbol checks (screen)', () => {
  it('refuses an unlisted symbol naming the reason and what the source lists, then accepts listed ones', async () => {
    const home = fresh();
    const results: WizardResult[] = [];
    const deps = makeWizardDeps({ home, configPath: join(home, 'config.yaml'), base: defaultConfig(), startEngine: noEngine });
    const r = render(
      <Providers theme={{ noColor: true }}>
        <Wizard deps={deps} onDone={(x) => results.push(x)} />
      </Providers>,
    );
    await waitForFrame(r, 'Where do candles come from?');
    await press(r, KEYS.enter);
    await waitForFrame(r, 'Listed on the simulator (seed 42) (11): ADA/USDT, AVAX/USDT, BNB/USDT, BTC/USDT');
    await press(r, ...Array(60).fill(KEYS.backspace), 'btc/usdt, xyz/usdt', KEYS.enter);
    const f = await waitForFrame(r, 'error: XYZ/USDT: not listed on the simulator (seed 42); the simulator (seed 42) lists ADA/USDT');
    expect(f).toContain('Universe: symbols to watch');
    await press(r, ...Array(30).fill(KEYS.backspace), 'btc/usdt, sol/usdt', KEYS.enter);
    await waitForFrame(r, 'Core symbols (trained first, always watched)');
    r.unmount();
    expect(results).toEqual([]);
  });
});

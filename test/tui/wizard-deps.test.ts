import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/schema.js';
import { loadConfig } from '../../src/config/load.js';
import { applyPatch, makeWizardDeps } from '../../tui/wizard-deps.js';
import { defaultAnswers, wizardAnswersToPatch } from '../../tui/screens/wizard/answers.js';

const dirs: string[] = [];
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), 'kilo-wizdeps-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const noEngine = async () => {
  throw new Error('not used');
};

describe('wizard wiring', () => {
  it('applyPatch sets dotted keys and validates', () => {
    const c = applyPatch(defaultConfig(), { 'data.source': 'csv', 'model.training_mode': 'multi_symbol' });
    expect(c.data.source).toBe('csv');
    expect(c.model.training_mode).toBe('multi_symbol');
    expect(() => applyPatch(defaultConfig(), { 'model.window': -1 })).toThrow();
  });

  it('save on a fresh home writes the commented template with the answers in it', async () => {
    const home = fresh();
    const path = join(home, 'config.yaml');
    const deps = makeWizardDeps({ home, configPath: path, base: defaultConfig(), startEngine: noEngine });
    const answers = { ...defaultAnswers(defaultConfig()), symbols: ['BTC/USDT', 'XRP/USDT'], coreSymbols: ['BTC/USDT'] };
    await deps.save(wizardAnswersToPatch(answers));
    const text = readFileSync(path, 'utf8');
    expect(text).toMatch(/^\s*#/m);
    const { config } = await loadConfig(path);
    expect(config.universe.symbols).toEqual(['BTC/USDT', 'XRP/USDT']);
    expect(config.universe.core_symbols).toEqual(['BTC/USDT']);
  });

  it('save on an existing config keeps its comments and other settings', async () => {
    const home = fresh();
    const path = join(home, 'config.yaml');
    writeFileSync(path, '# my own note\nmodel:\n  window: 64 # tuned by hand\ndata:\n  source: csv\n');
    const deps = makeWizardDeps({ home, configPath: path, base: (await loadConfig(path)).config, startEngine: noEngine });
    await deps.save({ 'data.source': 'sim', 'model.training_mode': 'multi_symbol' });
    const text = readFileSync(path, 'utf8');
    expect(text).toContain('# my own note');
    expect(text).toContain('# tuned by hand');
    const { config } = await loadConfig(path);
    expect(config.model.window).toBe(64);
    expect(config.data.source).toBe('sim');
    expect(config.model.training_mode).toBe('multi_symbol');
  });

  it('a patch the schema rejects leaves the file untouched', async () => {
    const home = fresh();
    const path = join(home, 'config.yaml');
    const before = '# keep me\ndata:\n  source: sim\n';
    writeFileSync(path, before);
    const deps = makeWizardDeps({ home, configPath: path, base: defaultConfig(), startEngine: noEngine });
    await expect(deps.save({ 'universe.symbols': ['not a symbol'] })).rejects.toThrow(/universe\.symbols/);
    expect(readFileSync(path, 'utf8')).toBe(before);
  });

  it('no models/ folder: no existing compatible model', async () => {
    const home = fresh();
    const deps = makeWizardDeps({ home, configPath: join(home, 'config.yaml'), base: defaultConfig(), startEngine: noEngine });
    expect(await deps.findExistingModel(defaultAnswers(defaultConfig()))).toBeNull();
    expect(existsSync(join(home, 'config.yaml'))).toBe(false);
  });
});

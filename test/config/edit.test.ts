import { describe, it, expect, beforeEach } from 'vitest';
import { mkdtemp, writeFile, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, ConfigError } from '../../src/config/load.js';
import { updateConfigFile, writeDefaultConfig, ConfigExistsError } from '../../src/config/edit.js';
import { defaultConfig } from '../../src/config/schema.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kilo-config-edit-'));
});

describe('updateConfigFile', () => {
  it('changes values and keeps comments and layout', async () => {
    const file = join(dir, 'config.yaml');
    await writeDefaultConfig(file);
    await updateConfigFile(file, { 'model.window': 64, 'data.source': 'exchange', 'universe.symbols': ['BTC/USDT', 'DOGE/USDT'] });
    const text = await readFile(file, 'utf8');
    expect(text).toContain('# Candles per input window.\n  window: 64\n');
    expect(text).toContain('# Where candles come from');
    const { config } = await loadConfig(file);
    expect(config.model.window).toBe(64);
    expect(config.data.source).toBe('exchange');
    expect(config.universe.symbols).toEqual(['BTC/USDT', 'DOGE/USDT']);
    // Everything else untouched.
    expect({ ...config, model: { ...config.model, window: 48 }, data: { ...config.data, source: 'sim' }, universe: { ...config.universe, symbols: defaultConfig().universe.symbols } }).toEqual(defaultConfig());
  });

  it('keeps inline comments on edited scalars and adds missing sections', async () => {
    const file = join(dir, 'c.yaml');
    await writeFile(file, '# mine\nexchange:\n  id: kraken # my exchange\n');
    await updateConfigFile(file, { 'exchange.id': 'okx', 'paper_trading.fee_rate': 0.002 });
    const text = await readFile(file, 'utf8');
    expect(text).toContain('# mine');
    expect(text).toContain('id: okx # my exchange');
    const { config } = await loadConfig(file);
    expect(config.exchange.id).toBe('okx');
    expect(config.paper_trading.fee_rate).toBe(0.002);
  });

  it('an invalid patch throws ConfigError and leaves the file untouched', async () => {
    const file = join(dir, 'config.yaml');
    await writeDefaultConfig(file);
    const before = await readFile(file, 'utf8');
    const err = await updateConfigFile(file, { 'model.window': 'wide' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems[0]).toMatchObject({ path: 'model.window', message: 'expected number, got string' });
    expect((err as ConfigError).problems[0].line).toBeGreaterThan(1);
    expect(await readFile(file, 'utf8')).toBe(before);
    expect((await readdir(dir)).filter((f) => f.startsWith('.kilo-tmp'))).toEqual([]);
  });

  it('an unknown key in the patch is refused', async () => {
    const file = join(dir, 'config.yaml');
    await writeDefaultConfig(file);
    const err = await updateConfigFile(file, { 'model.windw': 5 }).catch((e: unknown) => e);
    expect((err as ConfigError).problems).toEqual([expect.objectContaining({ path: 'model.windw', message: 'unknown key' })]);
  });

  it('a key below a scalar is refused by name, file untouched', async () => {
    const file = join(dir, 'config.yaml');
    await writeDefaultConfig(file);
    const before = await readFile(file, 'utf8');
    const err = await updateConfigFile(file, { 'exchange.id.sub': 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems[0].path).toBe('exchange.id.sub');
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it('writeDefaultConfig does not overwrite', async () => {
    const file = join(dir, 'config.yaml');
    await writeFile(file, 'x: 1\n');
    await expect(writeDefaultConfig(file)).rejects.toBeInstanceOf(ConfigExistsError);
    expect(await readFile(file, 'utf8')).toBe('x: 1\n');
  });
});

describe('kilo setup keeps the operator\'s own keys (issue 13 item 8)', () => {
  const USER = 'data:\n  source: sim\n# my own settings\nextra_user_key: 42\nmodel:\n  window: 32\n  my_note: keep me\n';

  it('parseKeepingUnknown warns about each unknown key with its line and uses the rest', async () => {
    const { parseKeepingUnknown } = await import('../../src/config/edit.js');
    const r = parseKeepingUnknown(USER, '/h/config.yaml');
    expect(r.config.model.window).toBe(32);
    expect(r.unknown.map((p) => p.path)).toEqual(['extra_user_key', 'model.my_note']);
    expect(r.warnings).toEqual([
      'config.yaml:4: extra_user_key: unknown key - kept in the file, not used by kilo',
      'config.yaml:7: model.my_note: unknown key - kept in the file, not used by kilo',
    ]);
    // Any other problem is still an error naming key and line.
    expect(() => parseKeepingUnknown(`${USER}  window_typo_value: 1\nexchange:\n  timeframe: 7m\n`, '/h/config.yaml')).toThrow(/exchange\.timeframe/);
  });

  it('the wizard\'s save keeps them in the file; a patch still cannot add an unknown key', async () => {
    const { makeWizardDeps } = await import('../../tui/wizard-deps.js');
    const file = join(dir, 'config.yaml');
    await writeFile(file, USER);
    const deps = makeWizardDeps({ home: dir, configPath: file, base: defaultConfig(), startEngine: async () => { throw new Error('not here'); } });
    await deps.save({ 'model.window': 64, 'data.source': 'csv' });
    const text = await readFile(file, 'utf8');
    expect(text).toContain('# my own settings\nextra_user_key: 42\n');
    expect(text).toContain('my_note: keep me');
    expect(text).toMatch(/window: 64/);
    await expect(updateConfigFile(file, { 'model.windw': 1 }, { keepUnknown: true })).rejects.toThrow(/model\.windw: unknown key/);
    expect(await readFile(file, 'utf8')).toBe(text);
  });

  it('kilo setup on such a file warns instead of stopping on the key (then needs a terminal)', async () => {
    const { runKilo } = await import('../helpers/artifact-fixtures.js');
    await writeFile(join(dir, 'config.yaml'), USER);
    const r = await runKilo(dir, ['setup']);
    expect(r.stderr).toContain('kilo: warning: config.yaml:4: extra_user_key: unknown key - kept in the file, not used by kilo');
    expect(r.stderr).not.toMatch(/^kilo: config\.yaml:4/m);
    expect(r.stderr).toMatch(/terminal/);
    expect(await readFile(join(dir, 'config.yaml'), 'utf8')).toBe(USER);
  });
});

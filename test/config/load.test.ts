import { describe, it, expect, beforeEach } from 'vitest';
import { mkdtemp, writeFile, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig, ConfigError, ConfigNotFoundError } from '../../src/config/load.js';
import { defaultConfig } from '../../src/config/schema.js';
import { CONFIG_TEMPLATE } from '../../src/config/template.js';

const repoRoot = resolve(import.meta.dirname, '../..');
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kilo-config-'));
});

async function problemsOf(text: string) {
  const file = join(dir, 'config.yaml');
  await writeFile(file, text);
  const err = await loadConfig(file).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

describe('loadConfig', () => {
  it('the shipped config.example.yaml equals defaultConfig()', async () => {
    const { config } = await loadConfig(join(repoRoot, 'config.example.yaml'));
    expect(config).toEqual(defaultConfig());
    expect(config.data.source).toBe('sim');
  });

  it('the template string is byte-identical to config.example.yaml', async () => {
    expect(CONFIG_TEMPLATE).toBe(await readFile(join(repoRoot, 'config.example.yaml'), 'utf8'));
  });

  it('an empty file gives the defaults', async () => {
    const file = join(dir, 'c.yaml');
    await writeFile(file, '# nothing here\n');
    expect((await loadConfig(file)).config).toEqual(defaultConfig());
  });

  it('a missing file is ConfigNotFoundError', async () => {
    await expect(loadConfig(join(dir, 'nope.yaml'))).rejects.toBeInstanceOf(ConfigNotFoundError);
  });

  it('wrong type names key and line', async () => {
    const e = await problemsOf('exchange:\n  id: binance\nmodel:\n  window: "big"\n');
    expect(e.problems).toEqual([{ path: 'model.window', line: 4, message: 'expected number, got string' }]);
    expect(e.message).toBe('config.yaml:4: model.window: expected number, got string');
  });

  it('unknown top-level and nested keys, one problem each', async () => {
    const e = await problemsOf('exchange:\n  id: binance\n  idd: kraken\nfoo: 1\n');
    expect(e.problems).toEqual([
      { path: 'exchange.idd', line: 3, message: 'unknown key' },
      { path: 'foo', line: 4, message: 'unknown key' },
    ]);
  });

  it('bad YAML syntax gives the line', async () => {
    const e = await problemsOf('exchange:\n  id: binance\n  quote: [USDT\nmodel:\n  window: 3\n');
    expect(e.problems.length).toBeGreaterThanOrEqual(1);
    expect(e.problems[0].message).toMatch(/^invalid YAML/);
    expect(e.problems[0].line).toBeGreaterThanOrEqual(3);
  });

  it('duplicate keys are a YAML error with the line', async () => {
    const e = await problemsOf('data:\n  source: sim\n  source: csv\n');
    expect(e.problems).toHaveLength(1);
    expect(e.problems[0].line).toBe(3);
    expect(e.problems[0].message).toMatch(/invalid YAML: .*unique/i);
  });

  it('out-of-range number', async () => {
    const e = await problemsOf('\n\nmodel:\n  window: 100000\n');
    expect(e.problems).toEqual([{ path: 'model.window', line: 4, message: 'must be <= 512, got 100000' }]);
  });

  it('negative value below a minimum', async () => {
    const e = await problemsOf('paper_trading:\n  fee_rate: -0.1\n');
    expect(e.problems).toEqual([{ path: 'paper_trading.fee_rate', line: 2, message: 'must be >= 0, got -0.1' }]);
  });

  it('bad enum value', async () => {
    const e = await problemsOf('data:\n  cache_dir: x\n  source: binance\n');
    expect(e.problems).toEqual([
      { path: 'data.source', line: 3, message: 'expected one of "exchange", "csv", "sim", got "binance"' },
    ]);
  });

  it('bad symbol inside a list names the index and its line', async () => {
    const e = await problemsOf('universe:\n  symbols:\n    - BTC/USDT\n    - btcusdt\n');
    expect(e.problems).toHaveLength(1);
    expect(e.problems[0]).toMatchObject({ path: 'universe.symbols.1', line: 4 });
    expect(e.problems[0].message).toContain('BTC/USDT');
  });

  it('a section that is not a map', async () => {
    const e = await problemsOf('exchange: binance\n');
    expect(e.problems).toEqual([{ path: 'exchange', line: 1, message: 'expected object, got string' }]);
  });

  it('several problems are all reported, in one error', async () => {
    const e = await problemsOf('model:\n  window: 0\n  horizon: "x"\nexchange:\n  sandbox: "yes"\n');
    expect(e.problems.map((p) => `${p.line}:${p.path}`).sort()).toEqual(['2:model.window', '3:model.horizon', '5:exchange.sandbox']);
    expect(e.message.split('\n')).toHaveLength(3);
  });

  it('a bad url is reported', async () => {
    const e = await problemsOf('exchange:\n  api_base_url: not a url\n');
    expect(e.problems[0]).toMatchObject({ path: 'exchange.api_base_url', line: 2 });
  });

  it('loading never writes', async () => {
    const file = join(dir, 'config.yaml');
    await writeFile(file, 'model:\n  window: -1\n');
    const before = await stat(file);
    await loadConfig(file).catch(() => undefined);
    const after = await stat(file);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(await readFile(file, 'utf8')).toBe('model:\n  window: -1\n');
  });
});

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

const ROOT = resolve(__dirname, '../..');
const DATA = resolve(ROOT, '../shared/data/ohlcv');

const kilo = (home: string, args: string[]) =>
  spawnSync(process.execPath, [join(ROOT, 'bin/kilo.js'), '--home', home, ...args], { encoding: 'utf8', timeout: 120_000 });

describe.skipIf(!existsSync(DATA))('kilo train / kilo eval from the command line', () => {
  let home: string;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'kilo-cli-train-'));
    await writeFile(
      join(home, 'config.yaml'),
      [
        'data:',
        '  source: csv',
        `  csv_dir: ${DATA}`,
        'model:',
        '  window: 12',
        'training:',
        '  quick:',
        '    epochs: 1',
        '    patience: 1',
        '    trees: 6',
        '    data_days: 60',
        '    ppo_steps: 256',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('trains one symbol, prints progress and metrics, and refuses to overwrite the version', () => {
    const r = kilo(home, ['train', '--symbol', 'btc/usdt', '--model', 'gbdt', '--quick', '--version', '0.7']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/fetched 1440 1h candles of BTC\/USDT/);
    expect(r.stdout).toMatch(/\[gbdt\]\s+\d+%\s+round 1\/6\s+loss \d\.\d{4}\s+val loss \d\.\d{4}/);
    const dir = join(home, 'models', 'v0.7', 'BTC-USDT');
    expect(r.stdout).toContain(`artifact: ${dir}`);
    expect(r.stdout).toMatch(/gbdt\s+\d+\.\d%\s+\d+\.\d%/);
    expect(r.stdout).toMatch(/base:majority/);
    const again = kilo(home, ['train', '--symbol', 'BTC/USDT', '--model', 'gbdt', '--quick', '--version', '0.7']);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/already exists.*versions are immutable/);
  });

  it('rejects bad options with exit code 2 and writes nothing', async () => {
    const bad = kilo(home, ['train', '--symbol', 'BTC/USDT', '--model', 'xgb']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--model: unknown model "xgb"/);
    const badSym = kilo(home, ['eval', '--symbol', 'BTCUSDT']);
    expect(badSym.status).toBe(2);
    expect(badSym.stderr).toMatch(/--symbol: expected a symbol like BTC\/USDT/);
    const folds = kilo(home, ['eval', '--symbol', 'BTC/USDT', '--folds', '0']);
    expect(folds.status).toBe(2);
    expect(await readdir(join(home, 'models'))).toEqual(['v0.7']);
  });

  it('eval retrains per fold and prints each model beside the baselines', () => {
    const r = kilo(home, ['eval', '--symbol', 'BTC/USDT', '--folds', '2', '--model', 'gbdt']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/fold 1\/2: training on \d+ candles, testing the next 216/);
    expect(r.stdout).toMatch(/all folds/);
    for (const name of ['gbdt', 'base:majority', 'base:persistence', 'base:ta']) expect(r.stdout).toContain(name);
  });
});

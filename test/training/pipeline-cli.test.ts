import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseCandleCsv } from '../../src/market/csv.js';
import { trainSymbolModels } from '../../src/training/pipeline.js';
import { candlesToColumns } from '../../src/training/pipeline-data.js';

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
    // The walk-forward table and, last, the one verdict line of the serving decision.
    expect(r.stdout).toMatch(/walk-forward out of sample: .*\d+ candles \(fee 0\.10 % \+ slippage 5 bps per side/);
    expect(r.stdout).toMatch(/\nbase:buy_and_hold +[+-]?\d/);
    const last = r.stdout.trim().split('\n').pop()!;
    expect(last).toMatch(/^verdict: (edge|no edge) - gbdt [+-]?[\d.]+ % vs TA [+-]?[\d.]+ %, no-trade 0 % over [\d,]+ candles \(90 % bound [+-]?[\d.]+ %.*; BTC\/USDT will (trade on the model|trade on the TA rule|hold \(no new entries\))$/);
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

  it('eval retrains per fold and prints each fold\'s PnL after costs beside the baselines, then the verdict', () => {
    const r = kilo(home, ['eval', '--symbol', 'BTC/USDT', '--folds', '2', '--model', 'gbdt']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/training 2 walk-forward fold\(s\) of BTC\/USDT/);
    expect(r.stdout).toMatch(/1 expanding-window fold model\(s\) \(the quick profile\) \+ the trained quick model on its own test slice/);
    expect(r.stdout).toMatch(/strategy +fold 1 +fold 2 +total +%\/30d +90% bound/);
    for (const name of ['gbdt', 'base:ta', 'base:buy_and_hold', 'base:no_trade', 'base:majority']) expect(r.stdout).toMatch(new RegExp(`\\n${name} +[+-]?\\d`));
    expect(r.stdout.trim().split('\n').pop()).toMatch(/^verdict: (edge|no edge) - gbdt .* over [\d,]+ candles .*; BTC\/USDT will /);
  });

  it('eval --version judges a saved artifact on the candles after its training end, then the verdict', async () => {
    // An artifact trained on data that ends 20 days before the CSV does.
    const candles = parseCandleCsv(readFileSync(join(DATA, 'BTC-USDT-1h.csv'), 'utf8')).candles.slice(-80 * 24, -20 * 24);
    await trainSymbolModels({
      kind: 'train', symbols: ['BTC/USDT'], trainingMode: 'single_symbol', symbolEncoding: 'one_hot', models: ['gbdt'],
      profile: { name: 'quick', epochs: 1, patience: 1, trees: 6, data_days: 60, batch_size: 256, ppo_steps: 256 },
      version: '0.9', modelsDir: join(home, 'models'), candles: [candlesToColumns('BTC/USDT', candles)],
      timeframe: '1h', window: 12, horizon: 1, labelThreshold: 0.002, valFraction: 0.15, testFraction: 0.15, rnnCell: 'gru', feeRate: 0.001, walkForwardFolds: 0,
    });
    const r = kilo(home, ['eval', '--symbol', 'BTC/USDT', '--version', '0.9', '--folds', '2']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/v0\.9 .* judged on \d+ candles after its training end/);
    expect(r.stdout).toMatch(/fold 2\/2\n/);
    expect(r.stdout).toMatch(/v0\.9 as saved, 2 consecutive fold\(s\) after its training end/);
    expect(r.stdout.trim().split('\n').pop()).toMatch(/^verdict: (edge|no edge) - ensemble .* over [\d,]+ candles .*; BTC\/USDT will /);
  });
});

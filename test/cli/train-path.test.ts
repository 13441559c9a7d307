/**
 * `kilo train` runs the engine's own training path (issue 12 item 9), through the real CLI on real
 * candles: the history policy refuses a short history and writes nothing; a first model is
 * installed; a retrain is judged by the gate against the serving champion and serving.json changes
 * only when it is promoted; --force-serve serves it anyway and says so (recorded as forced); in
 * multi_symbol mode with no configured set it trains the same set the engine would (the universe).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

const ROOT = resolve(__dirname, '../..');
const DATA = resolve(ROOT, '../shared/data/ohlcv');

const kilo = (home: string, args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/kilo.js'), '--home', home, ...args], { encoding: 'utf8', timeout: 180_000 });

const configYaml = (extra: string[] = []): string =>
  [
    'data:',
    '  source: csv',
    `  csv_dir: ${DATA}`,
    'universe:',
    '  symbols: [BTC/USDT, ETH/USDT]',
    'model:',
    '  window: 12',
    '  models: [gbdt]',
    ...extra,
    'auto_training:',
    '  gate_days: 10',
    'training:',
    '  walk_forward_folds: 0',
    '  quick: {epochs: 1, patience: 1, trees: 6, data_days: 60, batch_size: 256, ppo_steps: 256}',
    '',
  ].join('\n');

const json = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

describe.skipIf(!existsSync(DATA))('kilo train on the engine training path', () => {
  const homes: string[] = [];
  const home = async (extra: string[] = []): Promise<string> => {
    const h = await mkdtemp(join(tmpdir(), 'kilo-train-path-'));
    homes.push(h);
    await writeFile(join(h, 'config.yaml'), configYaml(extra));
    return h;
  };
  afterAll(async () => {
    for (const h of homes) await rm(h, { recursive: true, force: true });
  });

  let h: string;
  beforeAll(async () => {
    h = await home();
  });

  it('a first model is installed; a retrain is gated against the champion; --force-serve overrides the gate and says so', () => {
    const first = kilo(h, ['train', '-s', 'BTC/USDT', '--model', 'gbdt', '--quick']);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/training BTC\/USDT \(gbdt, quick profile: asked for \(--quick\)\) as v1\.0: .*; champion none/);
    expect(first.stdout).toMatch(/fetched 1440 1h candles of BTC\/USDT/);
    expect(first.stdout).toMatch(/\ngate: promoted - first model for BTC\/USDT \(quick recipe\)/);
    expect(first.stdout.trim().split('\n').pop()).toMatch(/^verdict: unknown - no walk-forward verdict/);
    expect(json(join(h, 'data', 'serving.json'))).toMatchObject({ 'BTC/USDT': '1.0' });
    // A fresh home's first promotion is not a lost serving.json (it once warned "rebuilt serving").
    expect(`${first.stdout}${first.stderr}`).not.toMatch(/rebuilt serving|are missing/);

    const second = kilo(h, ['train', '-s', 'BTC/USDT', '--model', 'gbdt', '--quick', '--force-train']);
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/as v1\.1: .*; champion v1\.0/);
    // No walk-forward verdict (folds 0): no evidence of an edge, never promoted; the champion keeps serving.
    expect(second.stdout).toMatch(/\ngate: no_edge - challenger v1\.1 [+-][\d.]+ %\/30d has no walk-forward verdict: never promoted; champion v1\.0 [+-][\d.]+ %\/30d stays\nv1\.0 keeps serving BTC\/USDT/);
    expect(json(join(h, 'data', 'serving.json'))).toMatchObject({ 'BTC/USDT': '1.0' });

    const forced = kilo(h, ['train', '-s', 'BTC/USDT', '--model', 'gbdt', '--quick', '--force-serve']);
    expect(forced.status, forced.stderr).toBe(0);
    expect(forced.stdout).toMatch(/\ngate: promoted \(forced by --force-serve\) - served by the operator \(--force-serve\) although the gate said no_edge: .*\nv1\.2 now serves BTC\/USDT/);
    expect(json(join(h, 'data', 'serving.json'))).toMatchObject({ 'BTC/USDT': '1.2' });
    const decisions = json(join(h, 'data', 'promotions.json')).decisions as { kind: string; challengerVersion: string; forced?: boolean; metric?: string; rows?: number }[];
    expect(decisions.map((d) => [d.challengerVersion, d.kind, d.forced ?? false])).toEqual([
      ['1.0', 'promoted', false],
      ['1.1', 'no_edge', false],
      ['1.2', 'promoted', true],
    ]);
    // Both retrains were scored on the shared window in the trader's terms, at least gate_days long.
    for (const d of decisions.slice(1)) {
      expect(d.metric).toBe('pnl_pct_30d');
      expect(d.rows).toBeGreaterThanOrEqual(10 * 24);
    }
  }, 600_000);

  it('the history policy refuses a short history and writes nothing', async () => {
    const short = await home(['  min_history_days_to_train: 3000']);
    const r = kilo(short, ['train', '-s', 'BTC/USDT', '--model', 'gbdt', '--quick']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/BTC\/USDT: not trained: only [\d.]+ days of history \(< 3000, model\.min_history_days_to_train\)/);
    expect(existsSync(join(short, 'models')) ? await readdir(join(short, 'models')) : []).toEqual([]);
  }, 300_000);

  it('multi_symbol mode with no configured set trains the universe, as the engine does', async () => {
    const multi = await home(['  training_mode: multi_symbol']);
    const r = kilo(multi, ['train', '-s', 'ETH/USDT', '--model', 'gbdt', '--quick']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/training ETH\/USDT, BTC\/USDT \(gbdt, quick profile/);
    expect(await readdir(join(multi, 'models', 'v1.0'))).toEqual(['multi']);
  }, 300_000);
});

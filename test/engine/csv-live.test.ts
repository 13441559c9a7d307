/**
 * data.source: csv drives the live engine (kilo run / the console): the market clock starts inside
 * the data (first candle + min_history_days_to_train + 30 days), not at the wall clock after the
 * files end, so symbols have their history, train, and trade one candle per round; at the end of
 * the data the engine says so and the clock stops.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { createEngine, type Engine } from '../../src/engine.js';
import { ManualClock } from '../../src/clock.js';
import { DATA, hasData, testConfig, waitFor } from './helpers.js';
import type { SignalView } from '../../src/engine-api.js';

const DAY = 86_400_000;

describe.skipIf(!hasData)('CSV folder as the live market', () => {
  let home: string;
  let engine: Engine | null = null;
  afterEach(async () => {
    await engine?.stop().catch(() => undefined);
    engine = null;
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('starts inside the data with more than 90 days of history, trains, and makes model signals', async () => {
    home = await mkdtemp(join(tmpdir(), 'kilo-csvlive-'));
    const config = testConfig((c) => {
      c.data.csv_dir = DATA;
      c.universe.symbols = ['BTC/USDT'];
    });
    // The wall clock is today (years after the files end); the market clock must not follow it.
    engine = await createEngine({ home, config, configPath: join(home, 'config.yaml'), clock: new ManualClock(Date.UTC(2026, 0, 1)) });
    const signals: SignalView[] = [];
    engine.on('signal', (s) => signals.push(s));
    await engine.start({ loop: false });
    const first = Date.UTC(2021, 3, 4, 20);
    const start = first + (config.model.min_history_days_to_train + 30) * DAY;
    expect(engine.marketNow()).toBe(start);
    expect(engine.getSnapshot().dataSource).toBe('CSV replay at 2021-08-02 20:00');
    await engine.runRound();
    await engine.idle();
    await engine.pumpQueue();
    await engine.idle();
    const logs = () => engine!.logger.entries().map((e) => e.message).join('\n');
    expect(logs()).not.toMatch(/days of history/);
    const model = await waitFor(() => engine!.registry.list().flatMap((v) => v.artifacts).find((a) => a.metadata?.trained_symbols.includes('BTC/USDT')), 'a BTC model');
    expect(model.metadata!.training_days).toBeGreaterThan(90);
    for (let i = 0; i < 4; i++) await engine.runRound();
    expect(engine.marketNow()).toBe(start + 4 * 3_600_000);
    expect(engine.getSnapshot().dataSource).toBe('CSV replay at 2021-08-03 00:00');
    const modelSignals = signals.filter((s) => s.modelVersion !== null && !s.fallback);
    expect(modelSignals.length).toBeGreaterThanOrEqual(3);
    expect(engine.getSnapshot().symbols[0]).toMatchObject({ state: 'live' });
    // The artifact says what trained it: this CSV folder, the file's sha256, the candles' range and hash.
    const ds = model.metadata!.data_source!;
    expect(ds.kind).toBe('csv');
    if (ds.kind === 'csv') {
      expect(ds.dir).toBe(DATA);
      expect(Object.keys(ds.files)).toEqual(['BTC-USDT-1h.csv']);
    }
    expect(ds.candles.to).toBeLessThan(start);
    expect(ds.candles.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('at the end of the data the engine says so once and the clock stops', async () => {
    home = await mkdtemp(join(tmpdir(), 'kilo-csvlive-'));
    const config = testConfig((c) => {
      c.data.csv_dir = DATA;
      c.data.csv_start = '2023-12-30T16:00Z';
      c.universe.symbols = ['BTC/USDT'];
      c.model.auto_train_new_symbols = false;
    });
    engine = await createEngine({ home, config, configPath: join(home, 'config.yaml'), clock: new ManualClock(Date.UTC(2026, 0, 1)) });
    await engine.start({ loop: false });
    for (let i = 0; i < 8; i++) await engine.runRound();
    // BTC's last candle opens 2023-12-30 18:00 and closes 19:00: the clock stops there.
    expect(engine.marketNow()).toBe(Date.UTC(2023, 11, 30, 19));
    expect(engine.getSnapshot().dataSource).toBe('CSV replay ended at 2023-12-30 19:00 (end of the data)');
    const ends = engine.logger.entries().filter((e) => /CSV replay reached the end of the data \(last candle 2023-12-30 18:00\)/.test(e.message));
    expect(ends).toHaveLength(1);
    expect(engine.getSnapshot().symbols[0].price).not.toBeNull();
  });

  it('kilo replay takes the folder from data.csv_dir when --csv is not given', async () => {
    home = await mkdtemp(join(tmpdir(), 'kilo-csvlive-'));
    await writeFile(join(home, 'config.yaml'), `data:\n  source: csv\n  csv_dir: ${DATA}\nmodel:\n  auto_train_new_symbols: false\n`);
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((res) => {
      const p = spawn(process.execPath, [join(import.meta.dirname, '../../bin/kilo.js'), '--home', home, 'replay', '--symbols', 'BTC/USDT', '--from', '2023-06-01', '--to', '2023-06-01T03:00Z', '--json']);
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('close', (code) => res({ code, stdout, stderr }));
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(summary).toMatchObject({ rounds: 3, symbols: ['BTC/USDT'], from: Date.UTC(2023, 5, 1) });
    expect(summary.last_prices['BTC/USDT']).toBeGreaterThan(20_000);
  });
});

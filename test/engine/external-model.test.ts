/** A model trained outside the engine (as `kilo train` in another terminal does) unblocks its symbol without a restart. */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { createEngine } from '../../src/engine.js';
import { CsvMarketSource } from '../../src/market/csv-source.js';
import { WorkerPool } from '../../src/training/pool.js';
import { buildJobSpec } from '../../src/training/pipeline-spec.js';
import { DATA, hasData, testConfig } from './helpers.js';

const START = Date.UTC(2023, 8, 1);
const HOUR = 3_600_000;

describe.skipIf(!hasData)('registry changes made outside the engine', () => {
  let home: string;
  afterAll(async () => {
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('sees a new artifact on its next scan and trades the symbol', async () => {
    home = await mkdtemp(join(tmpdir(), 'kilo-extmodel-'));
    const config = testConfig((c) => {
      c.universe.symbols = ['ETH/USDT'];
      c.model.auto_train_new_symbols = false;
    });
    const clock = new ManualClock(START);
    const engine = await createEngine({ home, config, configPath: join(home, 'config.yaml'), clock, marketClock: clock });
    await engine.start({ loop: false });
    await engine.runRound();
    expect(engine.getSnapshot().symbols[0]).toMatchObject({ symbol: 'ETH/USDT', state: 'blocked' });

    const candles = await new CsvMarketSource(DATA, clock).fetchCandles('ETH/USDT', '1h', START - 120 * 86_400_000, START);
    const pool = new WorkerPool({ maxConcurrent: 1, timeoutMs: 120_000 });
    await pool.run(buildJobSpec(config, { symbols: ['ETH/USDT'], candles: { 'ETH/USDT': candles }, models: ['gbdt'], quick: true, version: '1.0', modelsDir: join(home, 'models') }));
    await pool.close();

    clock.advance(HOUR);
    await engine.runRound();
    const row = engine.getSnapshot().symbols[0];
    expect(row).toMatchObject({ state: 'live', modelVersion: '1.0' });
    expect(row.lastSignal?.modelVersion).toBe('1.0');
    expect(engine.logger.entries().some((e) => /model registry changed/.test(e.message))).toBe(true);
    await engine.stop();
  });
});

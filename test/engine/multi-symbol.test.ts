/** multi_symbol mode in the engine: one shared model over the universe covers every symbol. */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtemp, rm, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { createEngine } from '../../src/engine.js';
import { hasData, testConfig } from './helpers.js';

const START = Date.UTC(2023, 8, 1);
const HOUR = 3_600_000;

describe.skipIf(!hasData)('engine in multi_symbol mode', () => {
  let home: string;
  afterAll(async () => {
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('trains one shared one_hot model for the universe and serves both symbols from it', async () => {
    home = await mkdtemp(join(tmpdir(), 'kilo-multi-'));
    const config = testConfig((c) => {
      c.universe.symbols = ['BTC/USDT', 'ETH/USDT'];
      c.model.training_mode = 'multi_symbol';
      c.model.symbol_encoding = 'one_hot';
    });
    const clock = new ManualClock(START);
    const engine = await createEngine({ home, config, configPath: join(home, 'config.yaml'), clock, marketClock: clock });
    await engine.start({ loop: false });
    await engine.runRound();
    await engine.idle();
    clock.advance(HOUR);
    await engine.runRound();
    await engine.idle();
    clock.advance(HOUR);
    await engine.runRound();
    expect(await readdir(join(home, 'models'))).toEqual(['v1.0']);
    expect(await readdir(join(home, 'models', 'v1.0'))).toEqual(['multi']);
    const rows = engine.getSnapshot().symbols;
    for (const r of rows) expect(r).toMatchObject({ state: 'live', modelVersion: '1.0' });
    expect(rows.map((r) => r.lastSignal?.modelVersion)).toEqual(['1.0', '1.0']);
    // The second symbol's queue entry found itself covered: no second training.
    expect(engine.queue.list().map((e) => e.state).sort()).toEqual(['done', 'done']);
    expect(engine.promotions.list()).toHaveLength(1);
    await engine.stop();
  });
});

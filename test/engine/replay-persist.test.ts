/**
 * A replay's engine (EngineOptions.replay) writes its state every persistEveryRounds rounds and
 * completely at stop, not every round; the live default still writes every round.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { createEngine } from '../../src/engine.js';
import { hasData, testConfig } from './helpers.js';

const HOUR = 3_600_000;
const START = Date.UTC(2023, 2, 1);

const readState = async (home: string): Promise<{ marketTime: number | null; broker: { cash: number } | null } | null> => {
  try {
    return JSON.parse(await readFile(join(home, 'data', 'engine-state.json'), 'utf8'));
  } catch {
    return null;
  }
};

describe.skipIf(!hasData)('replay persistence', () => {
  const homes: string[] = [];
  afterAll(async () => {
    for (const h of homes) await rm(h, { recursive: true, force: true });
  });

  async function open(replay?: { persistEveryRounds: number }) {
    const home = await mkdtemp(join(tmpdir(), 'kilo-replay-persist-'));
    homes.push(home);
    const config = testConfig((c) => {
      c.universe.symbols = ['BTC/USDT'];
      c.auto_training.enabled = false;
      c.model.auto_train_new_symbols = false;
      c.model.block_untrained_symbols = false;
    });
    const clock = new ManualClock(START);
    const engine = await createEngine({ home, config, configPath: join(home, 'config.yaml'), marketClock: clock, clock, api: false, replay });
    await engine.start({ loop: false });
    return { home, engine, clock };
  }

  it('writes engine state every persistEveryRounds rounds and at stop, with the final market time', async () => {
    const { home, engine, clock } = await open({ persistEveryRounds: 3 });
    await engine.runRound();
    clock.advance(HOUR);
    await engine.runRound();
    clock.advance(HOUR);
    expect(await readState(home)).toBeNull();
    await engine.runRound();
    expect((await readState(home))?.marketTime).toBe(START + 2 * HOUR);
    clock.advance(HOUR);
    await engine.runRound();
    expect((await readState(home))?.marketTime).toBe(START + 2 * HOUR);
    await engine.stop();
    const end = await readState(home);
    expect(end?.marketTime).toBe(START + 3 * HOUR);
    expect(end?.broker?.cash).toBe(engine.broker.toJSON().cash);
    // The .bak trails the file and is complete too.
    const bak = JSON.parse(await readFile(join(home, 'data', 'engine-state.json.bak'), 'utf8'));
    expect(bak.marketTime).toBe(START + 3 * HOUR);
  });

  it('a live engine still writes its state every round', async () => {
    const { home, engine, clock } = await open();
    await engine.runRound();
    expect((await readState(home))?.marketTime).toBe(START);
    clock.advance(HOUR);
    await engine.runRound();
    expect((await readState(home))?.marketTime).toBe(START + HOUR);
    await engine.stop();
  });
});

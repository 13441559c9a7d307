/**
 * A repeating condition is logged when it starts, changes and ends, not every round (issue 17
 * item 9): 5,000 configured symbols the simulator does not list once wrote 4.7 MB of log in three
 * rounds. Now they are skipped with one line naming the first few and the count, and the log of a
 * few rounds stays small.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { createEngine, type Engine } from '../../src/engine.js';
import { defaultConfig } from '../../src/config/schema.js';

describe('log floods', () => {
  let home = '';
  let engine: Engine | null = null;
  afterEach(async () => {
    await engine?.stop().catch(() => undefined);
    engine = null;
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('5,000 unknown symbols on the simulator over 4 rounds: one warning with the count, log < 50 KB', async () => {
    home = await mkdtemp(join(tmpdir(), 'kilo-flood-'));
    const config = defaultConfig();
    const unknown = Array.from({ length: 5000 }, (_, i) => `U${String(i).padStart(4, '0')}/USDT`);
    config.universe.symbols = ['BTC/USDT', ...unknown];
    config.universe.core_symbols = [];
    // Refreshed every round: the same condition found again must not be logged again.
    config.universe.refresh_interval_h = 0.001;
    config.model.auto_train_new_symbols = false;
    config.logging.file = 'data/trading.log';
    const clock = new ManualClock(Date.UTC(2024, 0, 1));
    engine = await createEngine({ home, config, configPath: join(home, 'config.yaml'), clock, marketClock: clock, env: {}, api: false });
    await engine.start({ loop: false });
    for (let i = 0; i < 4; i++) {
      clock.advance(3_600_000);
      await engine.runRound();
    }
    expect(engine.getSnapshot().symbols.map((s) => s.symbol)).toEqual(['BTC/USDT']);
    expect(engine.getSnapshot().coverage.skipped).toHaveLength(5000);
    await engine.stop();
    engine = null;
    const log = await readFile(join(home, 'data', 'trading.log'), 'utf8');
    const skipped = log.split('\n').filter((l) => /skipped/.test(l));
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatch(/config: 5000 symbols skipped: not listed on the simulator \(seed 42\): U0000\/USDT \(universe\.symbols\[1\]\), .* and 4990 more/);
    expect((await stat(join(home, 'data', 'trading.log'))).size).toBeLessThan(50_000);
  });
});

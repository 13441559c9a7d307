/**
 * The training entry points refuse a symbol the source does not list, before anything is queued or
 * trained (issue 13 item 5): `:train` / the API's train (the engine's command) and `kilo train`.
 */
import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { createEngine } from '../../src/engine.js';
import { defaultConfig } from '../../src/config/schema.js';
import { runKilo } from '../helpers/artifact-fixtures.js';

describe('training entry points validate the symbol', () => {
  it(':train DOGE/USDT on the simulator: refused with the reason, nothing queued, never retried', async () => {
    const home = await mkdtemp(join(tmpdir(), 'kilo-entry-train-'));
    const config = defaultConfig();
    config.universe.symbols = ['BTC/USDT'];
    config.universe.core_symbols = [];
    config.model.auto_train_new_symbols = false;
    config.logging.file = 'data/trading.log';
    const clock = new ManualClock(Date.UTC(2024, 0, 1));
    const engine = await createEngine({ home, config, configPath: join(home, 'config.yaml'), clock, marketClock: clock, env: {}, api: false });
    try {
      await engine.start({ loop: false });
      const r = await engine.train({ symbol: 'DOGE/USDT', reason: 'operator (console)' });
      expect(r).toEqual({ ok: false, message: 'DOGE/USDT: not listed on the simulator (seed 42); not queued' });
      for (let i = 0; i < 3; i++) {
        clock.advance(3_600_000);
        await engine.runRound();
      }
      expect(engine.getSnapshot().jobs.filter((j) => j.symbol === 'DOGE/USDT')).toEqual([]);
      const log = await readFile(join(home, 'data', 'trading.log'), 'utf8').catch(() => '');
      expect(log).not.toMatch(/DOGE\/USDT/);
    } finally {
      await engine.stop();
      await rm(home, { recursive: true, force: true });
    }
  });

  it('kilo train -s DOGE/USDT on the simulator: exit 2 naming the reason, nothing written', async () => {
    const home = await mkdtemp(join(tmpdir(), 'kilo-entry-train-'));
    const r = await runKilo(home, ['train', '-s', 'DOGE/USDT', '--quick']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('DOGE/USDT: not listed on the simulator (seed 42); not trained');
    expect(existsSync(join(home, 'models'))).toBe(false);
    await rm(home, { recursive: true, force: true });
  });
});

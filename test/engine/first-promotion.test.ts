/**
 * A fresh home's first model: the promotion writes promotions.json and then serving.json. The
 * serving write used to find serving.json missing with a decision already on record and warn that
 * it had "rebuilt serving" from promotions.json, a loss that never happened. It is silent now; a
 * serving.json deleted while the engine runs still warns (test/registry/serving-file.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { createEngine, type Engine } from '../../src/engine.js';
import { testConfig, waitFor } from './helpers.js';

describe("a fresh home's first promotion", () => {
  let home = '';
  let engine: Engine | null = null;
  afterEach(async () => {
    await engine?.stop().catch(() => undefined);
    engine = null;
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('serves the model without a recovery warning', async () => {
    home = await mkdtemp(join(tmpdir(), 'kilo-firstpromo-'));
    const clock = new ManualClock(Date.UTC(2026, 0, 10));
    const config = testConfig((c) => {
      c.data.source = 'sim';
      c.model.auto_train_new_symbols = false;
      c.auto_training.enabled = false;
    });
    engine = await createEngine({ home, config, configPath: join(home, 'config.yaml'), clock, marketClock: clock, api: false });
    await engine.start({ loop: false });
    expect((await engine.train({ symbol: 'BTC/USDT', quick: true, reason: 'first' })).ok).toBe(true);
    const e = engine;
    await waitFor(async () => {
      await e.pumpQueue();
      await e.idle();
      return e.queue.list().find((j) => j.symbol === 'BTC/USDT' && j.state === 'done');
    }, 'the first training', 120_000, 100);
    expect(JSON.parse(await readFile(join(home, 'data', 'serving.json'), 'utf8'))).toEqual({ 'BTC/USDT': '1.0' });
    const warned = e.logger.entries().filter((l) => l.level === 'warn' || l.level === 'error').map((l) => l.message);
    expect(warned.filter((m) => /serving/.test(m))).toEqual([]);
  }, 180_000);
});

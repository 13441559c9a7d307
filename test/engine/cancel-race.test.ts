/**
 * An operator's cancel that lands while the trainer is starting the job (issue 14: seen as
 * "timed out waiting for ETH job cancelled" on a loaded machine, the training then ran to the end).
 * Two windows: before the queue records the start (the start used to overwrite the cancel), and
 * after the queue wrote "running" but before the running job was registered (the cancel used to
 * find nothing to abort and still answer ok). The real engine on the simulator; the queue's
 * markRunning is wrapped so the cancel lands exactly in each window.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { createEngine, type Engine } from '../../src/engine.js';
import { testConfig, waitFor } from './helpers.js';

describe('a cancel that races the start of its job', () => {
  let home = '';
  let engine: Engine | null = null;
  afterEach(async () => {
    await engine?.stop().catch(() => undefined);
    engine = null;
    if (home) await rm(home, { recursive: true, force: true });
  });

  async function setup(): Promise<Engine> {
    home = await mkdtemp(join(tmpdir(), 'kilo-cancelrace-'));
    const clock = new ManualClock(Date.UTC(2026, 0, 10));
    const config = testConfig((c) => {
      c.data.source = 'sim';
      c.universe.symbols = ['BTC/USDT'];
      c.model.auto_train_new_symbols = false;
      c.auto_training.enabled = false;
    });
    engine = await createEngine({ home, config, configPath: join(home, 'config.yaml'), clock, marketClock: clock, api: false });
    await engine.start({ loop: false });
    return engine;
  }

  for (const when of ['before the queue records the start', 'after the queue wrote running'] as const) {
    it(`honours the cancel ${when}: the job ends cancelled and no training runs`, async () => {
      const e = await setup();
      const queue = e.queue;
      const markRunning = queue.markRunning.bind(queue);
      let answer = '';
      queue.markRunning = async (id, now) => {
        if (when === 'before the queue records the start') {
          answer = (await e.cancelJob(id)).message;
          return markRunning(id, now);
        }
        const entry = await markRunning(id, now);
        answer = (await e.cancelJob(id)).message;
        return entry;
      };
      const r = await e.train({ symbol: 'BTC/USDT', quick: true, reason: 'race test' });
      expect(r.ok, r.message).toBe(true);
      // train() starts the queue pump itself; wait until the wrapped start has run, then for the job.
      await waitFor(async () => {
        await e.pumpQueue();
        return answer;
      }, 'the start of the job', 60_000, 50);
      await e.idle();
      expect(answer).toMatch(/^cancelled /);
      const job = queue.list().find((j) => j.symbol === 'BTC/USDT')!;
      expect(job.state).toBe('cancelled');
      expect(e.registry.list()).toHaveLength(0);
    }, 120_000);
  }
});

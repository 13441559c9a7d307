/**
 * A symbol's model is loaded once when it first serves. Its first signal without an edge starts a
 * fallback (a 'serving' note in the engine state), and that note used to drop the predictor, so
 * every model without an edge was loaded twice right after it landed (twice the load, and a tfjs
 * model disposed and built again). Now only a new serving folder replaces it. A real engine on the
 * simulator that trains the symbol's first model itself (trees only, no walk-forward verdict).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { createEngine } from '../../src/engine.js';
import type { LogEntry, SignalView } from '../../src/engine-api.js';
import { testConfig } from './helpers.js';

const HOUR = 3_600_000;
const SYM = 'BTC/USDT';

describe('a model is loaded once when it first serves', () => {
  let home: string;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'kilo-predictor-memory-'));
  });
  afterAll(async () => {
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('its first signals without an edge (a fallback to hold) do not reload it', async () => {
    const config = testConfig((c) => {
      c.data.source = 'sim';
      c.data.sim_seed = 7;
      c.universe.symbols = [SYM];
      c.model.require_edge = true;
      c.training.walk_forward_folds = 0;
      c.heartbeat_interval_s = 3600;
    });
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const engine = await createEngine({ home, config, configPath: join(home, 'config.yaml'), marketClock: clock, clock, api: false });
    const logs: LogEntry[] = [];
    const signals: SignalView[] = [];
    engine.on('log', (l) => logs.push(l));
    engine.on('signal', (s) => signals.push(s));
    try {
      await engine.start({ loop: false });
      await engine.runRound();
      await engine.idle();
      for (let i = 0; i < 6; i++) {
        clock.advance(HOUR);
        await engine.runRound();
      }
      const served = signals.filter((s) => s.symbol === SYM && s.modelVersion === '1.0');
      expect(served.length).toBeGreaterThanOrEqual(5);
      // No verdict and the gate on: the model holds, which the state records as a fallback.
      expect(served.every((s) => s.traded?.via === 'hold' || s.traded?.via === 'ta')).toBe(true);
      const loads = logs.filter((l) => l.message.startsWith(`${SYM}: loaded model 1.0`));
      expect(loads.map((l) => l.message)).toHaveLength(1);
    } finally {
      await engine.stop();
    }
  }, 300_000);
});

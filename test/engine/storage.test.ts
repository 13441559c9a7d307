/** Model storage full: the engine cleans up an old, unused, unprotected version and then trains. */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { createEngine } from '../../src/engine.js';
import { writeArtifact } from '../helpers/artifact-fixtures.js';
import { hasData, testConfig } from './helpers.js';

const START = Date.UTC(2023, 8, 1);

describe.skipIf(!hasData)('storage limit', () => {
  let home: string;
  afterAll(async () => {
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('removes an old unused version to make room, never a serving one, and trains', async () => {
    home = await mkdtemp(join(tmpdir(), 'kilo-storage-'));
    const models = join(home, 'models');
    // An old XRP model nobody uses (2 MB) and an old BTC model that serves BTC (1 MB); ETH needs training.
    const old = await writeArtifact(models, { version: '0.1', symbols: ['XRP/USDT'], trainingEnd: START - 400 * 86_400_000, files: { 'gbdt_model_XRP-USDT.json': 2_000_000 } });
    const serving = await writeArtifact(models, { version: '0.2', symbols: ['BTC/USDT'], trainingEnd: START - 400 * 86_400_000, files: { 'gbdt_model_BTC-USDT.json': 1_000_000 } });
    const config = testConfig((c) => {
      c.universe.symbols = ['BTC/USDT', 'ETH/USDT'];
      c.resources.storage_limit_mb = 4;
      c.resources.cleanup_max_age_days = 90;
      c.resources.cleanup_keep_top_n = 0;
    });
    const clock = new ManualClock(START);
    const engine = await createEngine({ home, config, configPath: join(home, 'config.yaml'), clock, marketClock: clock });
    await engine.start({ loop: false });
    await engine.runRound();
    await engine.idle();
    expect(existsSync(old)).toBe(false);
    expect(existsSync(serving)).toBe(true);
    expect(engine.logger.entries().some((e) => /storage cleanup removed v0\.1 .*days old > 90/.test(e.message))).toBe(true);
    await engine.runRound();
    expect(engine.getSnapshot().symbols.find((r) => r.symbol === 'ETH/USDT')?.state).toBe('live');
    await engine.stop();
  });
});

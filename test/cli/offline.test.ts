/**
 * `kilo --offline` (issue 13 items 1 and 5): the simulator runs only when data.source is sim or the
 * operator asks for it with --offline, and then it says so; without the flag a configured
 * exchange is never replaced by synthetic prices (test/engine/exchange-down.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runKilo, tempHome } from '../helpers/artifact-fixtures.js';

describe('kilo --offline', () => {
  let home = '';
  beforeAll(async () => {
    home = await tempHome('kilo-offline-');
    // An exchange that cannot be reached from here: only --offline may stand the simulator in.
    await writeFile(join(home, 'config.yaml'), 'data:\n  source: exchange\nexchange:\n  id: binance\n');
  });
  afterAll(async () => {
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('data fetch uses the simulator, says so, and stores under the simulator, not the exchange', async () => {
    const r = await runKilo(home, ['--offline', 'data', 'fetch', '--symbol', 'BTC/USDT', '--days', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('--offline: the simulator (seed 42) instead of data.source exchange');
    expect(r.stdout).toMatch(/fetching BTC\/USDT 1h, 2 days, from simulator seed 42/);
    expect(existsSync(join(home, 'data', 'candles', 'sim-42'))).toBe(true);
    expect(existsSync(join(home, 'data', 'candles', 'binance'))).toBe(false);
  });

  it('coverage and signal validate symbols against the simulator it stands in for', async () => {
    const cov = await runKilo(home, ['--offline', 'coverage', '--json']);
    expect(cov.code, cov.stderr).toBe(0);
    expect(JSON.parse(cov.stdout).notes.join('\n')).toContain('--offline: the simulator (seed 42) instead of data.source exchange');
    const sig = await runKilo(home, ['--offline', 'signal', '-s', 'DOGE/USDT', '--json']);
    expect(sig.code).toBe(3);
    expect(JSON.parse(sig.stdout)).toMatchObject({ error: 'Asset not supported', reason: 'not listed on the simulator (seed 42)' });
  });
});

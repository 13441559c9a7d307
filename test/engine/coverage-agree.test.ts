/**
 * `kilo coverage` and a running engine judge the same home the same way (issue 13 item 6): the
 * command, run before any engine saved anything, computes the universe (core symbols included,
 * unlisted ones skipped with their key) and judges the unknown-tier symbols from the source's
 * candles with the engine's own functions; the engine then does it live. Per symbol: the same
 * state, tier and reason.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createEngine, type Engine } from '../../src/engine.js';
import { loadConfig } from '../../src/config/load.js';
import { runKilo, tempHome } from '../helpers/artifact-fixtures.js';
import { waitFor } from './helpers.js';

interface Row {
  symbol: string;
  tier: string;
  state: string;
  reason: string;
}

const CONFIG = `data:
  source: sim
universe:
  core_symbols: [ETH/USDT]
  symbols: [BTC/USDT, SOL/USDT, USDC/USDT, NOVA/USDT, AVAX/USDT, XMR/USDT]
assets:
  pre_trained: [BTC/USDT, ETH/USDT]
  unsupported: [AVAX/USDT]
model:
  auto_train_new_symbols: false
logging:
  file: data/trading.log
`;

describe('kilo coverage agrees with the engine', () => {
  let home = '';
  let engine: Engine | null = null;
  afterEach(async () => {
    await engine?.stop().catch(() => undefined);
    engine = null;
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('same universe, skipped symbols, states and reasons on the simulator', async () => {
    home = await tempHome('kilo-cov-agree-');
    const configPath = join(home, 'config.yaml');
    await writeFile(configPath, CONFIG);

    const cli = await runKilo(home, ['coverage', '--json']);
    expect(cli.code, cli.stderr).toBe(0);
    const before = JSON.parse(cli.stdout) as { universe: string[]; skipped: unknown[]; rows: Row[] };
    // Core symbols first; the stablecoin and the 21-day-old coin are judged, not "to be queued".
    expect(before.universe).toEqual(['ETH/USDT', 'BTC/USDT', 'SOL/USDT', 'USDC/USDT', 'NOVA/USDT', 'AVAX/USDT']);
    const byState = Object.fromEntries(before.rows.map((r) => [r.symbol, r.state]));
    expect(byState).toEqual({
      'ETH/USDT': 'blocked',
      'BTC/USDT': 'blocked',
      'SOL/USDT': 'blocked',
      'USDC/USDT': 'unsupported',
      'NOVA/USDT': 'blocked',
      'AVAX/USDT': 'unsupported',
    });
    expect(before.rows.find((r) => r.symbol === 'USDC/USDT')!.reason).toMatch(/stablecoin/);
    expect(before.rows.find((r) => r.symbol === 'NOVA/USDT')!.reason).toMatch(/^history 21 days < 90 needed/);

    const { config } = await loadConfig(configPath);
    engine = await createEngine({ home, config, configPath, env: {}, api: false });
    await engine.start({ loop: false });
    // The engine judges unknown-tier symbols in the background; rounds until both are judged.
    const rows = await waitFor(async () => {
      await engine!.runRound();
      const c = engine!.getSnapshot().coverage;
      const pending = c.rows.some((r) => /judged first/.test(r.reason));
      return pending ? null : c;
    }, 'the engine to judge USDC/USDT and NOVA/USDT', 60_000, 50);

    const pick = (r: Row): Row => ({ symbol: r.symbol, tier: r.tier, state: r.state, reason: r.reason });
    expect(rows.universe).toEqual(before.universe);
    expect(rows.skipped).toEqual(before.skipped);
    expect(rows.rows.map(pick)).toEqual(before.rows.map(pick));
  });
});

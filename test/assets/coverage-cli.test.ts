import { describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runKilo, tempHome, writeArtifact } from '../helpers/artifact-fixtures.js';

describe('kilo coverage', () => {
  it('reports trained, untrained, queued and blocked symbols from the files alone', async () => {
    const home = await tempHome();
    await writeFile(join(home, 'config.yaml'), 'universe:\n  symbols: [BTC/USDT, LINK/USDT, DOT/USDT, XMR/USDT]\nassets:\n  unsupported: [XMR/USDT]\n');
    await writeArtifact(join(home, 'models'), { version: '1.0', symbols: ['BTC/USDT'] });
    expect((await runKilo(home, ['queue', 'add', 'LINK/USDT'])).code).toBe(0);
    const r = await runKilo(home, ['coverage', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.trained).toEqual(['BTC/USDT']);
    // The engine's universe: core symbols (default BTC, ETH) first, then the list; XMR/USDT is not
    // listed on the simulator, so it is skipped with the key that names it, as the engine does.
    expect(out.universe).toEqual(['BTC/USDT', 'ETH/USDT', 'LINK/USDT', 'DOT/USDT']);
    expect(out.skipped).toEqual([{ key: 'universe.symbols[3]', symbol: 'XMR/USDT', reason: 'not listed on the simulator (seed 42)' }]);
    expect(out.untrained).toEqual(['ETH/USDT', 'LINK/USDT', 'DOT/USDT']);
    expect(out.queued).toEqual(['LINK/USDT']);
    expect(out.blocked).toEqual([
      { symbol: 'ETH/USDT', reason: 'untrained; will be queued for training' },
      { symbol: 'DOT/USDT', reason: 'untrained; will be queued for training' },
    ]);
    expect(out.rows.find((x: { symbol: string }) => x.symbol === 'XMR/USDT')).toBeUndefined();
    const text = await runKilo(home, ['coverage']);
    expect(text.stdout).toContain('Blocked (2):\n  ETH/USDT     untrained; will be queued for training\n  DOT/USDT     untrained; will be queued for training');
    expect(text.stdout).toMatch(/BTC\/USDT\n {4}v1\.0 .* serving/);
    expect(text.stdout).toContain('Skipped, not traded (1):\n  XMR/USDT     universe.symbols[3]: not listed on the simulator (seed 42)');
    expect(text.stdout).toContain('Config: block_untrained_symbols: on; auto_train_new_symbols: on');
  });

  it('takes a top_volume universe from the market source (the offline simulator here)', async () => {
    const home = await tempHome();
    await writeFile(join(home, 'config.yaml'), 'universe:\n  mode: top_volume\n  top_n: 3\n  core_symbols: [DOGE/USDT, LINK/USDT]\n');
    const r = await runKilo(home, ['coverage', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.universe_mode).toBe('top_volume');
    // Core symbols first (DOGE/USDT is not listed on the simulator: skipped, as the engine does), then the 3 most traded USDT pairs.
    expect(out.skipped).toEqual([{ key: 'universe.core_symbols[0]', symbol: 'DOGE/USDT', reason: 'not listed on the simulator (seed 42)' }]);
    expect(out.universe[0]).toBe('LINK/USDT');
    expect(out.universe).toHaveLength(4);
    expect(out.universe.every((s: string) => s.endsWith('/USDT'))).toBe(true);
    expect(out.rows.map((x: { symbol: string }) => x.symbol)).toEqual(out.universe);
  });

  it('names the key and line of a bad config and exits 2', async () => {
    const home = await tempHome();
    await writeFile(join(home, 'config.yaml'), 'model:\n  training_mode: sideways\n');
    const r = await runKilo(home, ['coverage']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/model\.training_mode/);
  });
});

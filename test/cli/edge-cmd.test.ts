/**
 * `kilo edge` with no engine running: the override goes to the state file under the home lock (the
 * next engine start applies it), bad input is refused with exit 2 and nothing written, and the
 * per-symbol listing (--json, snake_case) comes from the files' projection.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

const ROOT = resolve(__dirname, '../..');
const kilo = (home: string, args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/kilo.js'), '--home', home, ...args], { encoding: 'utf8', timeout: 120_000 });

describe('kilo edge on the files', () => {
  let home = '';
  afterAll(async () => {
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('sets, shows and clears the operator override; refuses a bad mode', async () => {
    home = await mkdtemp(join(tmpdir(), 'kilo-edge-cmd-'));
    await writeFile(join(home, 'config.yaml'), 'data:\n  source: sim\nuniverse:\n  symbols: [BTC/USDT, ETH/USDT]\n  core_symbols: []\n');
    const bad = kilo(home, ['edge', 'BTC/USDT', 'maybe']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/mode must be on, off or auto, got "maybe"/);
    expect(existsSync(join(home, 'data', 'engine-state.json'))).toBe(false);

    const on = kilo(home, ['edge', 'btc/usdt', 'on', '--reason', 'trusted by the desk']);
    expect(on.status, on.stderr).toBe(0);
    expect(on.stdout).toBe('BTC/USDT: its model trades whatever its verdict (operator override)\n');
    const state = JSON.parse(readFileSync(join(home, 'data', 'engine-state.json'), 'utf8'));
    expect(state.edgeOverrides['BTC/USDT']).toMatchObject({ on: true, reason: 'trusted by the desk' });

    const list = kilo(home, ['edge', '--json']);
    expect(list.status, list.stderr).toBe(0);
    const rows = JSON.parse(list.stdout) as { symbol: string; model_version: string | null; edge: unknown }[];
    expect(rows.map((r) => r.symbol).sort()).toEqual(['BTC/USDT', 'ETH/USDT']);
    // No model serves either yet: no verdict to show.
    for (const r of rows) expect(r).toMatchObject({ model_version: null, edge: null });

    const auto = kilo(home, ['edge', 'BTC/USDT', 'auto']);
    expect(auto.status, auto.stderr).toBe(0);
    expect(auto.stdout).toMatch(/BTC\/USDT: operator override cleared; the edge gate applies/);
    expect(JSON.parse(readFileSync(join(home, 'data', 'engine-state.json'), 'utf8')).edgeOverrides).toEqual({});
  }, 300_000);
});

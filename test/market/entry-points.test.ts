/**
 * Every wired entry point refuses a symbol its source does not list, with the reason, before
 * anything is written: `kilo queue add`, `kilo signal` (JSON "Asset not supported", exit 3),
 * `kilo data fetch`, and the configured universe (skipped, warned once naming the key). `kilo data
 * fetch` against an unreachable exchange fails naming the cause instead of fetching simulator data.
 */
import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { ManualClock } from '../../src/clock.js';
import { createEngine } from '../../src/engine.js';
import { defaultConfig } from '../../src/config/schema.js';
import { startBinanceServer } from '../helpers/binance-server.js';

const repo = resolve(import.meta.dirname, '../..');

function kilo(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [join(repo, 'bin/kilo.js'), ...args], { env: { ...process.env, KILO_API_KEY: '', KILO_API_SECRET: '' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => res({ code, stdout, stderr }));
  });
}

describe('symbols are validated at every wired entry point', () => {
  it('kilo queue add BTC/XYZ on the simulator: refused with the reason, exit 2, nothing queued', async () => {
    const home = await mkdtemp(join(tmpdir(), 'kilo-entry-'));
    const r = await kilo(['--home', home, 'queue', 'add', 'BTC/XYZ']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('BTC/XYZ: not listed on the simulator (seed 42); not queued');
    expect(existsSync(join(home, 'data', 'new_symbol_training_queue.json'))).toBe(false);
    const ok = await kilo(['--home', home, 'queue', 'add', 'sol/usdt']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/queued SOL\/USDT as q1/);
  });

  it('kilo signal -s DOGE/USDT --json on the simulator: "Asset not supported", not listed, exit 3', async () => {
    const home = await mkdtemp(join(tmpdir(), 'kilo-entry-'));
    const r = await kilo(['--home', home, 'signal', '-s', 'DOGE/USDT', '--json']);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: 'Asset not supported', reason: 'not listed on the simulator (seed 42)' });
  });

  it('kilo data fetch: an unlisted symbol is refused (exit 2); an unreachable exchange exits 1 naming it', async () => {
    const home = await mkdtemp(join(tmpdir(), 'kilo-entry-'));
    const r = await kilo(['--home', home, 'data', 'fetch', '--symbol', 'XYZ/USDT', '--days', '2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--symbol XYZ/USDT: not listed on the simulator (seed 42)');
    const down = await startBinanceServer({ symbols: ['BTC/USDT'] });
    await down.close();
    await writeFile(join(home, 'config.yaml'), `data:\n  source: exchange\nexchange:\n  api_base_url: ${down.url}\n  max_retries: 0\n  timeout_ms: 500\n`);
    const d = await kilo(['--home', home, 'data', 'fetch', '--symbol', 'BTC/USDT', '--days', '2']);
    expect(d.code).toBe(1);
    expect(d.stderr).toMatch(/data fetch BTC\/USDT: waiting for binance since \d\d:\d\d UTC, retry in 30 s \(binance unreachable at http:\/\/127\.0\.0\.1:\d+/);
    expect(d.stdout + d.stderr).not.toMatch(/simulator/);
  });

  it('the configured universe: an unlisted symbol is skipped, warned once naming its key', async () => {
    const home = await mkdtemp(join(tmpdir(), 'kilo-entry-'));
    const config = defaultConfig();
    config.universe.symbols = ['BTC/USDT', 'XYZ/USDT'];
    config.universe.refresh_interval_h = 0.001;
    config.model.auto_train_new_symbols = false;
    const clock = new ManualClock(Date.UTC(2024, 0, 1));
    const engine = await createEngine({ home, config, configPath: join(home, 'config.yaml'), clock, marketClock: clock });
    await engine.start({ loop: false });
    for (let i = 0; i < 3; i++) {
      clock.advance(3_600_000);
      await engine.runRound();
    }
    const logs = engine.logger.entries().map((e) => e.message);
    expect(logs.filter((m) => m.includes('XYZ/USDT'))).toEqual(['config universe.symbols[1]: XYZ/USDT skipped: not listed on the simulator (seed 42)']);
    expect(engine.getSnapshot().symbols.map((s) => s.symbol)).toEqual(['BTC/USDT', 'ETH/USDT']);
    await engine.stop();
  });
});

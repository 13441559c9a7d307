/** One engine per home: a live engine's lock refuses a second one; a dead one's lock is taken over. */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockHome, EngineRunningError } from '../../src/engine/home-lock.js';

describe('home lock', () => {
  let home: string;
  afterAll(async () => {
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('refuses while the holder lives, takes over after it died and sweeps interrupted temp files', async () => {
    home = await mkdtemp(join(tmpdir(), 'kilo-lock-'));
    await mkdir(join(home, 'data', 'candles'), { recursive: true });
    await mkdir(join(home, 'models', '.tmp-abc'), { recursive: true });
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    await writeFile(join(home, 'data', 'engine.lock'), `${child.pid}\n`);
    await writeFile(join(home, 'data', '.kilo-tmp-performance.json.123.ab'), '{"half');
    await writeFile(join(home, 'data', 'candles', '.kilo-tmp-BTC-USDT-1h.csv.1.cd'), 'timestamp,');
    await expect(lockHome(home)).rejects.toThrow(EngineRunningError);
    await expect(lockHome(home)).rejects.toThrow(new RegExp(`pid ${child.pid}`));
    // Nothing was swept while the other engine lives.
    expect(existsSync(join(home, 'data', '.kilo-tmp-performance.json.123.ab'))).toBe(true);

    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const lock = await lockHome(home);
    expect(lock.swept.length).toBe(3);
    expect(existsSync(join(home, 'data', '.kilo-tmp-performance.json.123.ab'))).toBe(false);
    expect(existsSync(join(home, 'models', '.tmp-abc'))).toBe(false);
    await lock.release();
    expect(existsSync(join(home, 'data', 'engine.lock'))).toBe(false);
  });
});

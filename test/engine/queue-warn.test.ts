/**
 * What the queue finds while the engine runs reaches the engine's log (issue 13/17 follow-up): a
 * bad entry written into the queue file after start is rejected naming file and entry, once.
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { createEngine } from '../../src/engine.js';
import { defaultConfig } from '../../src/config/schema.js';

describe('the queue warns through the engine logger', () => {
  it('a bad entry written in while running is logged once, naming file and entry', async () => {
    const home = await mkdtemp(join(tmpdir(), 'kilo-qwarn-'));
    const config = defaultConfig();
    config.universe.symbols = ['BTC/USDT'];
    config.universe.core_symbols = [];
    config.model.auto_train_new_symbols = false;
    const clock = new ManualClock(Date.UTC(2024, 0, 1));
    const engine = await createEngine({ home, config, configPath: join(home, 'config.yaml'), clock, marketClock: clock, env: {}, api: false });
    try {
      await engine.start({ loop: false });
      await engine.queue.add('ETH/USDT', { reason: 'test' });
      const qfile = engine.queue.file;
      const data = JSON.parse(await readFile(qfile, 'utf8'));
      data.entries.push({ ...data.entries[0], id: 'q7', symbol: 'X/../../planted' });
      await writeFile(qfile, JSON.stringify(data));
      // Any change reads the file again first.
      await engine.queue.add('SOL/USDT', { reason: 'test' });
      await engine.queue.add('ADA/USDT', { reason: 'test' });
      const warned = engine.logger.entries().filter((e) => e.message.includes('entry q7'));
      expect(warned.map((e) => [e.level, e.message])).toEqual([['warn', `queue: ${qfile}: entry q7: symbol "X/../../planted" is not a symbol like BTC/USDT; entry rejected, never retried`]]);
    } finally {
      await engine.stop();
      await rm(home, { recursive: true, force: true });
    }
  });
});

import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { defaultConfig } from '../../src/config/schema.js';
import type { LogEntry } from '../../src/engine-api.js';
import { Logger, formatLogLine, loggerOptionsFromConfig } from '../../src/log/logger.js';

let dir: string;
const loggers: Logger[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kilo-log-'));
});
afterEach(async () => {
  for (const l of loggers.splice(0)) l.close();
  await rm(dir, { recursive: true, force: true });
});
const make = (opts: ConstructorParameters<typeof Logger>[0]) => {
  const l = new Logger(opts);
  loggers.push(l);
  return l;
};

describe('Logger', () => {
  it('rotates by size and keeps exactly keepFiles old files, losing no recent line', () => {
    const file = join(dir, 'data', 'trading.log');
    const log = make({ file, maxBytes: 300, keepFiles: 2, clock: new ManualClock(0) });
    for (let i = 1; i <= 40; i++) log.info(`line ${String(i).padStart(3, '0')} ${'x'.repeat(20)}`);
    expect(existsSync(file)).toBe(true);
    expect(existsSync(`${file}.1`)).toBe(true);
    expect(existsSync(`${file}.2`)).toBe(true);
    expect(existsSync(`${file}.3`)).toBe(false);
    for (const f of [file, `${file}.1`, `${file}.2`]) expect(statSync(f).size).toBeLessThanOrEqual(300);
    const text = [`${file}.2`, `${file}.1`, file].map((f) => readFileSync(f, 'utf8')).join('');
    const nums = [...text.matchAll(/line (\d{3})/g)].map((m) => Number(m[1]));
    // the kept files hold a contiguous tail ending at the last line
    expect(nums.at(-1)).toBe(40);
    expect(nums).toEqual(Array.from({ length: nums.length }, (_, i) => 40 - nums.length + 1 + i));
    expect(nums.length).toBeGreaterThan(10);
  });

  it('appends to an existing file and counts its size toward rotation', () => {
    const file = join(dir, 'trading.log');
    writeFileSync(file, 'y'.repeat(250) + '\n');
    const log = make({ file, maxBytes: 300, keepFiles: 1, clock: new ManualClock(0) });
    log.info('a'.repeat(60));
    expect(readFileSync(`${file}.1`, 'utf8')).toBe('y'.repeat(250) + '\n');
    expect(readFileSync(file, 'utf8')).toContain('a'.repeat(60));
  });

  it('keeps a bounded ring with increasing seq numbers and filters by level', () => {
    const log = make({ ringSize: 5, level: 'info' });
    expect(log.debug('hidden')).toBeNull();
    for (let i = 0; i < 12; i++) log.info(`m${i}`);
    const e = log.entries();
    expect(e.map((x) => x.seq)).toEqual([8, 9, 10, 11, 12]);
    expect(e.map((x) => x.message)).toEqual(['m7', 'm8', 'm9', 'm10', 'm11']);
    expect(log.entries(10).map((x) => x.seq)).toEqual([11, 12]);
  });

  it('redacts secrets in the file, the ring and what subscribers get', () => {
    const file = join(dir, 'trading.log');
    const key = 'AKIA-9f8e7d6c5b4a';
    const secret = 's3cr3t-zZ/+==';
    const log = make({ file, secrets: [key, secret, ''], clock: new ManualClock(Date.UTC(2026, 10, 21, 5)) });
    const seen: LogEntry[] = [];
    log.subscribe((e) => seen.push(e));
    log.error(`auth failed for key=${key} secret=${secret} (again ${key})`, 'BTC/USDT');
    const line = readFileSync(file, 'utf8');
    expect(line).toBe('2026-11-21T05:00:00.000Z ERROR [BTC/USDT] auth failed for key=*** secret=*** (again ***)\n');
    for (const text of [line, JSON.stringify(log.entries()), JSON.stringify(seen)]) {
      expect(text).not.toContain(key);
      expect(text).not.toContain(secret);
    }
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ seq: 1, level: 'error', symbol: 'BTC/USDT' });
  });

  it('survives a throwing subscriber and stops calling an unsubscribed one', () => {
    const log = make({});
    const got: number[] = [];
    log.subscribe(() => {
      throw new Error('boom');
    });
    const off = log.subscribe((e) => got.push(e.seq));
    log.warn('one');
    off();
    log.warn('two');
    expect(got).toEqual([1]);
    expect(log.entries()).toHaveLength(2);
  });

  it('reports a file it cannot write and keeps logging in memory', () => {
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, 'x');
    const errors: Error[] = [];
    const log = make({ file: join(blocker, 'trading.log'), onFileError: (e) => errors.push(e) });
    log.info('still here');
    expect(errors.length).toBe(1);
    expect(log.entries()[0].message).toBe('still here');
  });

  it('formats multi-line messages with indented continuations and resolves the config path', () => {
    expect(formatLogLine({ seq: 1, at: 0, level: 'warn', message: 'a\nb' })).toBe('1970-01-01T00:00:00.000Z WARN  a\n    b\n');
    const cfg = defaultConfig().logging;
    expect(loggerOptionsFromConfig(cfg, '/home/k')).toEqual({ file: '/home/k/data/trading.log', maxBytes: 5 * 1024 * 1024, keepFiles: 3, level: 'info' });
  });
});

describe('repeating conditions', () => {
  it('are logged when they start, when they change and when they end (with a count), not every time', async () => {
    const { Logger } = await import('../../src/log/logger.js');
    const log = new Logger();
    for (let round = 0; round < 100; round++) log.condition('unknown:XYZ/USDT', 'warn', 'XYZ/USDT is not listed on binance; skipped', 'XYZ/USDT');
    log.condition('unknown:XYZ/USDT', 'warn', 'XYZ/USDT is not listed on binance (markets refreshed); skipped', 'XYZ/USDT');
    log.endCondition('unknown:XYZ/USDT', 'XYZ/USDT is listed again');
    log.endCondition('unknown:XYZ/USDT');
    const lines = log.entries().map((e) => `${e.level} ${e.message}`);
    expect(lines).toEqual([
      'warn XYZ/USDT is not listed on binance; skipped',
      'warn XYZ/USDT is not listed on binance (markets refreshed); skipped',
      'info XYZ/USDT is listed again (seen 1 time)',
    ]);
    expect(log.hasCondition('unknown:XYZ/USDT')).toBe(false);
  });
});

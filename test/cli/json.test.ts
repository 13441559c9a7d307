/**
 * One JSON convention for every `--json` output (issue 13 item 8): snake_case keys, and under
 * `--json` an error is JSON on stdout with a non-zero exit. Every command that takes `--json` is
 * run through the real CLI with a bad input (and the read-only ones with a good one), its stdout
 * parsed as JSON and every key checked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { jsonError, snakeKey, snakeKeys, toJsonText, wantsJson } from '../../src/cli/json.js';
import { runKilo, tempHome, writeArtifact } from '../helpers/artifact-fixtures.js';

/** 15 node processes a test: a bound for a loaded 2-core machine, not a speed claim. */
const SLOW = 900_000;

/** Every key that is an identifier is snake_case; keys that are data (symbols, versions, file names) are exempt. */
function camelKeys(value: unknown, at = '$'): string[] {
  if (value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.flatMap((x, i) => camelKeys(x, `${at}[${i}]`));
  return Object.entries(value).flatMap(([k, x]) => [...(/^[A-Za-z][A-Za-z0-9]*$/.test(k) && k !== k.toLowerCase() ? [`${at}.${k}`] : []), ...camelKeys(x, `${at}.${k}`)]);
}

/** Run the commands a few at a time (each is a node process). */
async function runAll(jobs: [string, string, string[]][]): Promise<Map<string, Awaited<ReturnType<typeof runKilo>>>> {
  const out = new Map<string, Awaited<ReturnType<typeof runKilo>>>();
  const queue = [...jobs];
  await Promise.all(
    Array.from({ length: 3 }, async () => {
      for (let j = queue.shift(); j; j = queue.shift()) out.set(j[0], await runKilo(j[1], j[2]));
    }),
  );
  return out;
}

describe('the JSON helpers', () => {
  it('snake_cases identifier keys deeply and keeps keys that are data', () => {
    expect(snakeKey('modelVersion')).toBe('model_version');
    expect(snakeKey('etaS')).toBe('eta_s');
    expect(snakeKey('unrealisedPnl')).toBe('unrealised_pnl');
    expect(snakeKey('already_snake')).toBe('already_snake');
    expect(snakeKey('BTC/USDT')).toBe('BTC/USDT');
    expect(snakeKey('1.0/BTC-USDT')).toBe('1.0/BTC-USDT');
    const v = snakeKeys({ modelVersion: '1.0', bySymbol: { 'BTC/USDT': { lastPrice: 1 } }, list: [{ entryPrice: 2, gone: undefined }], at: new Date(0), m: new Map([['k', { aB: 1 }]]) });
    expect(v).toEqual({ model_version: '1.0', by_symbol: { 'BTC/USDT': { last_price: 1 } }, list: [{ entry_price: 2 }], at: '1970-01-01T00:00:00.000Z', m: { k: { a_b: 1 } } });
    expect(camelKeys(v)).toEqual([]);
    expect(JSON.parse(toJsonText({ aB: [undefined] }))).toEqual({ a_b: [null] });
    expect(JSON.parse(jsonError('bad', 2, { symbolName: 'X' }))).toEqual({ error: 'bad', exit_code: 2, symbol_name: 'X' });
    expect(wantsJson(['models', '--json'])).toBe(true);
    expect(wantsJson(['signal', '--', '--json'])).toBe(false);
  });
});

describe('every --json command', () => {
  let home = '';
  let bad = '';
  beforeAll(async () => {
    home = await tempHome('kilo-json-');
    await writeFile(join(home, 'config.yaml'), 'universe:\n  symbols: [BTC/USDT, SOL/USDT]\n');
    await writeArtifact(join(home, 'models'), { version: '1.0', symbols: ['BTC/USDT'] });
    await mkdir(join(home, 'data'), { recursive: true });
    bad = await tempHome('kilo-json-bad-');
    await writeFile(join(bad, 'config.yaml'), 'model:\n  training_mode: sideways\n');
  });
  afterAll(async () => {
    for (const h of [home, bad]) if (h) await rm(h, { recursive: true, force: true });
  });

  it('a bad input: JSON on stdout with an error and a non-zero exit, snake_case keys', async () => {
    const cases: [string, string, string[]][] = [
      ['signal: unknown symbol', home, ['signal', '-s', 'BTC/XYZ', '--json']],
      ['signal: bad syntax', home, ['signal', '-s', '../x', '--json']],
      ['models: bad rollback symbol', home, ['models', '--rollback', 'bad', '--json']],
      ['models: bad config', bad, ['models', '--json']],
      ['history: bad symbol', home, ['history', 'BAD', '--json']],
      ['queue add: unlisted', home, ['queue', 'add', 'BTC/XYZ', '--json']],
      ['queue cancel: no such entry', home, ['queue', 'cancel', 'q99', '--json']],
      ['coverage: bad config', bad, ['coverage', '--json']],
      ['status: bad config', bad, ['status', '--json']],
      ['positions: unknown option', home, ['positions', '--json', '--bogus']],
      ['trades: bad --since', home, ['trades', '--json', '--since', 'garbage']],
      ['data check: bad symbol', home, ['data', 'check', '--symbol', '../etc', '--json']],
      ['doctor: bad config', bad, ['doctor', '--json']],
      ['replay: bad symbol', home, ['replay', '--symbols', 'BAD', '--json']],
      ['run: bad config', bad, ['run', '--headless', '--json', '--iterations', '1']],
    ];
    const results = await runAll(cases);
    const failures: string[] = [];
    for (const [name] of cases) {
      const r = results.get(name)!;
      let out: unknown;
      try {
        out = JSON.parse(r.stdout);
      } catch {
        failures.push(`${name}: stdout is not JSON: ${JSON.stringify(r.stdout.slice(0, 200))} (stderr ${r.stderr.slice(0, 200)})`);
        continue;
      }
      if (r.code === 0) failures.push(`${name}: exit 0`);
      const camel = camelKeys(out);
      if (camel.length) failures.push(`${name}: camelCase keys ${camel.join(', ')}`);
      // doctor answers a failing check list; every other command an error object.
      const o = out as { error?: unknown; ok?: unknown; exit_code?: unknown };
      if (name.startsWith('doctor')) {
        if (o.ok !== false) failures.push(`${name}: ok is not false`);
      } else if (typeof o.error !== 'string' || !o.error) failures.push(`${name}: no "error" string in ${r.stdout.slice(0, 200)}`);
      else if (o.exit_code !== undefined && o.exit_code !== r.code) failures.push(`${name}: exit_code ${String(o.exit_code)} but exit ${r.code}`);
    }
    expect(failures).toEqual([]);
    // The README's promise for a symbol a source does not list.
    expect(results.get('signal: unknown symbol')!.code).toBe(3);
    expect(JSON.parse(results.get('signal: unknown symbol')!.stdout)).toMatchObject({ error: 'Asset not supported', reason: 'not listed on the simulator (seed 42)' });
    expect(JSON.parse(results.get('coverage: bad config')!.stdout)).toEqual({ error: expect.stringMatching(/config\.yaml:2: model\.training_mode/), exit_code: 2 });
  }, SLOW);

  it('a good input: JSON with snake_case keys only', async () => {
    const cases: [string, string, string[]][] = [
      ['models', home, ['models', '--json']],
      ['coverage', home, ['coverage', '--json']],
      ['status', home, ['status', '--json']],
      ['positions', home, ['positions', '--json']],
      ['trades', home, ['trades', '--json']],
      ['queue', home, ['queue', '--json']],
      ['history', home, ['history', 'BTC/USDT', '--json']],
      ['data check', home, ['data', 'check', '--json']],
    ];
    const results = await runAll(cases);
    const failures: string[] = [];
    for (const [name] of cases) {
      const r = results.get(name)!;
      if (r.code !== 0) failures.push(`${name}: exit ${r.code}: ${r.stderr.slice(0, 200)}`);
      try {
        const camel = camelKeys(JSON.parse(r.stdout));
        if (camel.length) failures.push(`${name}: camelCase keys ${camel.slice(0, 10).join(', ')}`);
      } catch {
        failures.push(`${name}: stdout is not JSON: ${r.stdout.slice(0, 200)}`);
      }
    }
    expect(failures).toEqual([]);
    // The snapshot inside status is converted too (modelVersion was the reported mix-up).
    const status = JSON.parse(results.get('status')!.stdout) as { snapshot: { symbols: { symbol: string; model_version: string | null }[] } };
    expect(status.snapshot.symbols.find((s) => s.symbol === 'BTC/USDT')).toHaveProperty('model_version');
  }, SLOW);

  it('kilo run --headless --json: every line JSON with snake_case keys', async () => {
    const r = await runKilo(home, ['run', '--headless', '--json', '--iterations', '2']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(lines.some((l) => l.type === 'heartbeat')).toBe(true);
    expect(lines.flatMap((l) => camelKeys(l))).toEqual([]);
  }, SLOW);
});

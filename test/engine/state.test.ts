/**
 * EngineState: the one owner of what the engine remembers. Persistence (atomic + .bak, recovery
 * with one warning), the first file format carried over, the operator's pin against an edited
 * config, and symbols from the file validated like typed ones.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../../src/config/schema.js';
import { EngineState } from '../../src/engine/state.js';
import { readStateFile } from '../../src/engine/state-file.js';
import { ConditionLog } from '../../src/engine/condition-log.js';
import { Logger } from '../../src/log/logger.js';

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kilo-state-'));
  file = join(dir, 'engine-state.json');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const signal = (symbol: string, at: number) => ({ symbol, at, direction: 'bullish' as const, confidence: 0.7, contributions: { gbdt: 0.4 }, modelVersion: '1.0' });

describe('EngineState', () => {
  it('keeps blocks, requests, signals, usage, trades and per-symbol PnL across a restart', async () => {
    const s = await EngineState.open(file, defaultConfig());
    s.block('SOL/USDT', 'maintenance');
    s.request('ETH/USDT', { quick: false, models: ['gbdt'] });
    s.recordSignal(signal('BTC/USDT', 1000));
    s.countUse('1.0');
    s.countUse('1.0');
    s.recordTrade({ at: 1, symbol: 'BTC/USDT', side: 'buy', qty: 1, price: 100, fee: 0.1, reason: 'bullish 0.70' });
    s.recordTrade({ at: 2, symbol: 'BTC/USDT', side: 'sell', qty: 1, price: 110, fee: 0.11, reason: 'bearish 0.60', realisedPnl: 9.79 });
    s.recordJobCurve('q1', [1.1, 0.9], [0.5, 0.52]);
    await s.flush();

    const again = await EngineState.open(file, defaultConfig());
    expect(again.blocks()).toEqual({ 'SOL/USDT': 'maintenance' });
    expect(again.requestFor('ETH/USDT')).toEqual({ quick: false, models: ['gbdt'] });
    expect(again.lastSignal('BTC/USDT')).toEqual(signal('BTC/USDT', 1000));
    expect(again.usage()).toEqual({ '1.0': 2 });
    expect(again.trades().map((t) => t.side)).toEqual(['sell', 'buy']);
    expect(again.trades(2).map((t) => t.at)).toEqual([2]);
    expect(again.symbolPnl('BTC/USDT')).toEqual({ realised: 9.79, fees: 0.21000000000000002, trades: 2 });
    expect(again.jobCurve('q1')).toEqual({ loss: [1.1, 0.9], val: [0.5, 0.52] });
    // Written through the guarded store: a last good copy sits beside it.
    expect(JSON.parse(await readFile(`${file}.bak`, 'utf8'))).toEqual(JSON.parse(await readFile(file, 'utf8')));
  });

  it('a corrupt file is recovered from its .bak with exactly one warning, the bad bytes kept aside', async () => {
    const s = await EngineState.open(file, defaultConfig());
    s.block('SOL/USDT', 'maintenance');
    await s.flush();
    await writeFile(file, '{"version": 2, "manualBlocks": {"SOL');
    const warnings: string[] = [];
    const again = await EngineState.open(file, defaultConfig(), (m) => warnings.push(m));
    expect(again.blocks()).toEqual({ 'SOL/USDT': 'maintenance' });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/engine-state\.json was corrupt .*recovered the last good copy/);
    expect((await readdir(dir)).some((f) => f.startsWith('engine-state.json.corrupt-'))).toBe(true);
    // Recovered once: the next open is silent.
    const quiet: string[] = [];
    await EngineState.open(file, defaultConfig(), (m) => quiet.push(m));
    expect(quiet).toEqual([]);
  });

  it('reads the first format (market time, blocks, broker) and carries it over', async () => {
    await writeFile(file, JSON.stringify({ version: 1, marketTime: 1234, manualBlocks: { 'ADA/USDT': 'x' }, broker: null }));
    const s = await EngineState.open(file, defaultConfig());
    expect(s.marketTime).toBe(1234);
    expect(s.blocks()).toEqual({ 'ADA/USDT': 'x' });
    await s.flush();
    expect(JSON.parse(await readFile(file, 'utf8')).version).toBe(2);
  });

  it('refuses a symbol from the file that is not a symbol, naming the file and the key', async () => {
    await writeFile(file, JSON.stringify({ version: 1, marketTime: null, manualBlocks: { 'X/../../etc': 'x' }, broker: null }));
    await expect(EngineState.open(file, defaultConfig())).rejects.toThrow(/engine-state\.json.*manualBlocks\.X\/\.\.\/\.\.\/etc/);
    const ro = await readStateFile(file);
    expect(ro.warnings.join('\n')).toMatch(/manualBlocks\.X\/\.\.\/\.\.\/etc/);
    expect(ro.data.manualBlocks).toEqual({});
  });

  it("the operator's pin stands across restarts until config.yaml's own pin is edited", async () => {
    const cfg = defaultConfig();
    const s = await EngineState.open(file, cfg);
    expect(s.pinned).toBeNull();
    s.setPin('1.1', 5, 'pinned by the operator');
    expect(s.effectiveConfig().model.pinned_version).toBe('1.1');
    expect(s.effectiveConfig()).toBe(s.effectiveConfig());
    await s.flush();
    expect((await EngineState.open(file, cfg)).pinned).toBe('1.1');
    const edited = defaultConfig();
    edited.model.pinned_version = '1.0';
    expect((await EngineState.open(file, edited)).pinned).toBe('1.0');
    expect(s.servingEvents().map((e) => [e.kind, e.version])).toEqual([['pin', '1.1']]);
  });

  it('records a fallback when it starts and when it ends, not every round', async () => {
    const s = await EngineState.open(file, defaultConfig());
    for (let i = 0; i < 5; i++) s.noteFallback('DOT/USDT', 'ta', null, 'untrained; TA-only signal', i);
    s.noteFallback('DOT/USDT', null, '1.0', 'own model', 10);
    s.noteFallback('DOT/USDT', null, '1.0', 'own model', 11);
    expect(s.servingEvents('DOT/USDT').map((e) => [e.at, e.kind])).toEqual([
      [10, 'fallback_end'],
      [0, 'fallback'],
    ]);
  });

  it('the buy-and-hold benchmark holds each symbol from the first price seen', async () => {
    const s = await EngineState.open(file, defaultConfig());
    s.recordBenchmark(new Map([['BTC/USDT', 100]]), 1000, 10);
    s.recordBenchmark(new Map([['BTC/USDT', 110], ['ETH/USDT', 50]]), 1000, 10);
    s.recordBenchmark(new Map([['BTC/USDT', 121], ['ETH/USDT', 40]]), 1000, 10);
    // (1.21 + 0.8) / 2 x 1000
    const curve = s.data.benchmark.curve;
    expect(curve).toHaveLength(3);
    [1000, 1050, 1005].forEach((v, i) => expect(curve[i]).toBeCloseTo(v, 9));
  });
});

describe('ConditionLog', () => {
  it('logs a repeating condition when it starts, when it changes (numbers aside), and when it ends with a count', () => {
    const logger = new Logger({ level: 'debug' });
    const c = new ConditionLog(logger);
    for (let i = 0; i < 5; i++) c.report('market data X', `X/USDT: failed at t=${1000 + i}: ECONNREFUSED`);
    c.report('market data X', 'X/USDT: failed: 429 rate limited');
    c.report('market data X', null);
    c.report('market data X', null);
    const lines = logger.entries().map((e) => `${e.level} ${e.message}`);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe('warn X/USDT: failed at t=1000: ECONNREFUSED');
    expect(lines[1]).toBe('warn X/USDT: failed: 429 rate limited');
    expect(lines[2]).toMatch(/^info resolved: X\/USDT: failed: 429 rate limited \(seen 1 time\)$/);
  });
});

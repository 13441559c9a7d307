/**
 * The live engine end to end on real candles (CSV source over ../shared/data/ohlcv) with a
 * simulated market clock, real worker-thread training (trees only, to stay fast) and real files.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { createEngine, type Engine } from '../../src/engine.js';
import type { PromotionDecision, TradeEvent } from '../../src/engine-api.js';
import { hasData, testConfig, waitFor } from './helpers.js';

const HOUR = 3_600_000;
const START = Date.UTC(2023, 8, 1); // 2023-09-01: FDUSD has ~5 weeks of history, BTC years

describe.skipIf(!hasData)('engine on real candles', () => {
  let home: string;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'kilo-engine-'));
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  const config = testConfig((c) => {
    c.universe.symbols = ['BTC/USDT', 'FDUSD/USDT', 'USDC/USDT'];
    c.assets.quick_train = ['BTC/USDT'];
  });

  async function open(clockAt: number, over: Partial<Parameters<typeof createEngine>[0]> = {}): Promise<{ engine: Engine; clock: ManualClock }> {
    const clock = new ManualClock(clockAt);
    const engine = await createEngine({ home, config, configPath: join(home, 'config.yaml'), marketClock: clock, clock, ...over });
    await engine.start({ loop: false });
    return { engine, clock };
  }

  let servingVersion: string | null = null;
  let stateAfterFirstRun: unknown;

  it('blocks and queues an untrained symbol, trains it on a worker, then unblocks it without a restart; short history stays blocked; a stablecoin is rejected', async () => {
    const { engine, clock } = await open(START);
    const trades: TradeEvent[] = [];
    engine.on('trade', (t) => trades.push(t));
    const jobEvents: string[] = [];
    engine.on('job', (j) => jobEvents.push(`${j.symbol} ${j.state}`));

    await engine.runRound();
    const row = (s: string) => engine.getSnapshot().symbols.find((r) => r.symbol === s)!;
    expect(['blocked', 'queued', 'training']).toContain(row('BTC/USDT').state);
    expect(engine.queue.list().some((e) => e.symbol === 'BTC/USDT' && (e.state === 'queued' || e.state === 'running'))).toBe(true);

    // Unknown symbols are judged from their history in the background.
    await waitFor(() => row('USDC/USDT').state === 'unsupported' && row('FDUSD/USDT').state === 'blocked', 'USDC and FDUSD judged', 30_000);
    expect(row('USDC/USDT').stateReason).toMatch(/stablecoin/);
    expect(row('FDUSD/USDT').stateReason).toMatch(/history 3\d days < 90/);

    // Rounds go on while BTC trains; nothing trades while it is blocked.
    for (let i = 0; i < 3; i++) {
      clock.advance(HOUR);
      await engine.runRound();
    }
    await engine.idle();
    expect(trades.filter((t) => t.symbol === 'BTC/USDT')).toEqual([]);

    clock.advance(HOUR);
    await engine.runRound();
    const btc = row('BTC/USDT');
    expect(btc.state).toBe('live');
    expect(btc.modelVersion).toBe('1.0');
    expect(btc.lastSignal?.modelVersion).toBe('1.0');
    expect(btc.lastSignal?.fallback).toBeFalsy();
    servingVersion = btc.modelVersion;
    // Listeners (the wizard's initial-training step) see the job finish, not only its progress.
    expect(jobEvents).toContain('BTC/USDT running');
    expect(jobEvents.filter((e) => e === 'BTC/USDT done')).toHaveLength(1);
    const decisions = engine.promotions.list();
    expect(decisions[0]).toMatchObject({ symbol: 'BTC/USDT', kind: 'promoted', challengerVersion: '1.0' });

    // Short history and stablecoins never trade and are never queued.
    for (let i = 0; i < 30; i++) {
      clock.advance(HOUR);
      await engine.runRound();
    }
    expect(trades.some((t) => t.symbol === 'FDUSD/USDT' || t.symbol === 'USDC/USDT')).toBe(false);
    expect(engine.queue.list().some((e) => e.symbol === 'USDC/USDT' || e.symbol === 'FDUSD/USDT')).toBe(false);
    expect(engine.outcomes.symbolStats('BTC/USDT').signals).toBeGreaterThan(0);
    await engine.stop();
    stateAfterFirstRun = engine.outcomes.toJSON();
    const log = await readFile(join(home, 'data', 'trading.log'), 'utf8');
    expect(log).toMatch(/BTC\/USDT queued for training/);
    expect(log).toMatch(/heartbeat|BTC\/USDT.*win rate/i);
  });

  it('restores performance stats exactly after a restart and keeps serving the same model', async () => {
    const { engine } = await open(START);
    expect(engine.outcomes.toJSON()).toEqual(stateAfterFirstRun);
    const snap = engine.getSnapshot();
    expect(snap.symbols.find((r) => r.symbol === 'BTC/USDT')?.modelVersion).toBe(servingVersion);
    // The market clock resumes from the saved market time, not from the start again.
    expect(engine.marketNow()).toBeGreaterThanOrEqual(START);
    await engine.stop({});
  });

  it('a failing retrain keeps the champion and is recorded', async () => {
    const failing = new URL('./failing-worker.ts', import.meta.url);
    const { engine, clock } = await open(START + 40 * HOUR, { workerEntry: failing });
    const decisions: PromotionDecision[] = [];
    engine.on('promotion', (d) => decisions.push(d));
    await engine.runRound();
    const res = await engine.train({ symbol: 'BTC/USDT', reason: 'test retrain' });
    expect(res.ok).toBe(true);
    await waitFor(async () => {
      await engine.idle();
      return decisions.length > 0;
    }, 'a decision');
    expect(decisions[0]).toMatchObject({ symbol: 'BTC/USDT', kind: 'failed', challengerVersion: null, championVersion: servingVersion });
    expect(decisions[0].reason).toMatch(/champion kept/);
    clock.advance(HOUR);
    await engine.runRound();
    const btc = engine.getSnapshot().symbols.find((r) => r.symbol === 'BTC/USDT')!;
    expect(btc.modelVersion).toBe(servingVersion);
    expect(btc.state).toBe('live');
    await engine.stop();
  });

  it('an operator block stops trading at once and unblock restores it', async () => {
    const { engine, clock } = await open(START + 80 * HOUR);
    expect((await engine.block('BTC/USDT', 'maintenance')).ok).toBe(true);
    const trades: TradeEvent[] = [];
    engine.on('trade', (t) => trades.push(t));
    for (let i = 0; i < 24; i++) {
      clock.advance(HOUR);
      await engine.runRound();
    }
    const row = engine.getSnapshot().symbols.find((r) => r.symbol === 'BTC/USDT')!;
    expect(row.state).toBe('blocked');
    expect(row.stateReason).toMatch(/maintenance/);
    expect(trades.filter((t) => t.symbol === 'BTC/USDT')).toEqual([]);
    expect((await engine.unblock('BTC/USDT')).ok).toBe(true);
    expect(engine.getSnapshot().symbols.find((r) => r.symbol === 'BTC/USDT')!.state).toBe('live');
    await engine.stop();
  });
});

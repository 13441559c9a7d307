/**
 * While the exchange is unreachable (nothing cached, the engine "waiting"), a queued training is
 * not started: it would fail to fetch its history and burn an attempt each time. It starts once
 * the exchange answers. Through the loopback exchange (test/helpers/binance-server.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { createEngine, type Engine } from '../../src/engine.js';
import { startBinanceServer, type BinanceServer } from '../helpers/binance-server.js';
import { hasData, testConfig, waitFor } from './helpers.js';

describe.skipIf(!hasData)('trainings while the exchange is waiting', () => {
  let home = '';
  let srv: BinanceServer | null = null;
  let engine: Engine | null = null;
  afterEach(async () => {
    await engine?.stop().catch(() => undefined);
    engine = null;
    await srv?.close();
    srv = null;
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('a queued job waits without burning attempts, then starts when the exchange answers', async () => {
    home = await mkdtemp(join(tmpdir(), 'kilo-trainwait-'));
    const clock = new ManualClock(Date.UTC(2023, 5, 1, 12, 4));
    srv = await startBinanceServer({ symbols: ['BTC/USDT'], now: () => clock.now() });
    srv.failNext({ kind: 'status', status: 503 }, 100_000);
    const config = testConfig((c) => {
      c.data.source = 'exchange';
      c.exchange.api_base_url = srv!.url;
      c.exchange.max_retries = 1;
      c.exchange.timeout_ms = 2000;
      c.universe.symbols = ['BTC/USDT'];
      c.model.auto_train_new_symbols = false;
    });
    engine = await createEngine({ home, config, configPath: join(home, 'config.yaml'), clock, marketClock: clock, env: {}, api: false });
    await engine.start({ loop: false });
    expect(engine.source.waiting).toMatch(/^waiting for binance/);
    await engine.queue.add('BTC/USDT', { reason: 'test', priority: 100 });
    for (let i = 0; i < 4; i++) {
      await engine.runRound();
      await engine.pumpQueue();
      clock.advance(60_000);
    }
    const entry = engine.queue.list().find((e) => e.symbol === 'BTC/USDT')!;
    expect(entry).toMatchObject({ state: 'queued', attempts: 0, last_error: null });

    srv.clearFaults();
    await waitFor(
      async () => {
        clock.advance(60_000);
        await engine!.runRound();
        await engine!.pumpQueue();
        const e = engine!.queue.list().find((x) => x.symbol === 'BTC/USDT')!;
        return e.state !== 'queued' ? e : null;
      },
      'the job to start once the exchange answers',
      120_000,
      200,
    );
  });
});

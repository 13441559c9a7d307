/**
 * Market-data figures: simulator speed and realism, CSV parse + validation throughput on the real
 * Binance files, and a 2-year paged ccxt fetch through the loopback Binance emulator.
 */
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../src/clock.js';
import { defaultConfig } from '../src/config/schema.js';
import { SimMarketSource } from '../src/market/sim-source.js';
import { CsvMarketSource } from '../src/market/csv-source.js';
import { validateCandles } from '../src/market/validate.js';
import { CcxtMarketSource } from '../src/market/ccxt-source.js';
import { startBinanceServer, DEFAULT_DATA_DIR } from '../test/helpers/binance-server.js';
import type { Candle } from '../src/market/types.js';

const H = 3_600_000;
const ms = (t0: number) => `${(performance.now() - t0).toFixed(0)} ms`;
const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
function stats(c: Candle[]) {
  const r = c.slice(1).map((x, i) => Math.log(x.close / c[i].close));
  const m = mean(r);
  const v = mean(r.map((x) => (x - m) ** 2));
  const kurt = mean(r.map((x) => (x - m) ** 4)) / v ** 2 - 3;
  const acf = (a: number[], lag: number) => {
    const mm = mean(a);
    let n = 0;
    let d = 0;
    for (let i = 0; i < a.length; i++) {
      d += (a[i] - mm) ** 2;
      if (i >= lag) n += (a[i] - mm) * (a[i - lag] - mm);
    }
    return n / d;
  };
  const abs = r.map(Math.abs);
  return { sd: Math.sqrt(v), kurt, acfAbs: [1, 2, 5].map((l) => acf(abs, l).toFixed(3)).join('/'), acfR: acf(r, 1).toFixed(3) };
}

const NOW = Date.UTC(2023, 11, 31);
let t0 = performance.now();
const sim = new SimMarketSource(42, new ManualClock(NOW));
const simBtc = await sim.fetchCandles('BTC/USDT', '1h', NOW - 730 * 24 * H, NOW);
console.log(`sim: first 2y of BTC 1h (generates the whole universe from 2019): ${ms(t0)}, ${simBtc.length} candles`);
t0 = performance.now();
for (const s of ['ETH/USDT', 'SOL/USDT', 'ADA/USDT']) await sim.fetchCandles(s, '1h', NOW - 730 * 24 * H, NOW);
console.log(`sim: 3 more symbols, 2y each (cached path): ${ms(t0)}`);
const s1 = stats(simBtc);
console.log(`sim BTC 1h: hourly sd ${s1.sd.toFixed(4)}, excess kurtosis ${s1.kurt.toFixed(2)}, acf|r| lag1/2/5 ${s1.acfAbs}, acf r lag1 ${s1.acfR}`);

if (existsSync(DEFAULT_DATA_DIR)) {
  const csv = new CsvMarketSource(DEFAULT_DATA_DIR, new ManualClock(NOW));
  t0 = performance.now();
  const real = await csv.allCandles('BTC/USDT', '1h');
  const parseMs = performance.now() - t0;
  t0 = performance.now();
  const rep = validateCandles(real, '1h');
  console.log(`csv: parse BTC-USDT-1h (${real.length} rows) ${parseMs.toFixed(0)} ms, validate ${ms(t0)} (${rep.missing} missing)`);
  const s2 = stats(real.slice(-17520));
  console.log(`real BTC 1h (peer for the simulator): hourly sd ${s2.sd.toFixed(4)}, excess kurtosis ${s2.kurt.toFixed(2)}, acf|r| lag1/2/5 ${s2.acfAbs}, acf r lag1 ${s2.acfR}`);

  const srv = await startBinanceServer({ symbols: ['BTC/USDT'], now: () => NOW });
  const config = defaultConfig();
  config.exchange.api_base_url = srv.url;
  const home = await mkdtemp(join(tmpdir(), 'kilo-bench-'));
  const src = new CcxtMarketSource(config, { home, clock: new ManualClock(NOW) });
  await src.ensureMarkets();
  t0 = performance.now();
  const got = await src.fetchCandles('BTC/USDT', '1h', NOW - 730 * 24 * H, NOW);
  console.log(`ccxt -> loopback: 2y BTC 1h, ${got.length} candles in ${srv.count('/api/v3/klines')} requests, ${ms(t0)} (rate limiter on)`);
  await src.close();
  await srv.close();
}

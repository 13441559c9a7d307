/**
 * Main-thread event-loop lag (perf_hooks monitorEventLoopDelay) while two trainings run in worker
 * threads (target p99 <= 50 ms). A 50 ms ticker also records how late it fires, as the console would see it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, loadavg, cpus } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { WorkerPool } from '../src/training/pool.js';
import { buildJobSpec } from '../src/training/pipeline-spec.js';
import { defaultConfig } from '../src/config/schema.js';
import { readCandles, requireData } from './data.js';

requireData();

const config = defaultConfig();
config.training.quick = { ...config.training.quick, epochs: 4, patience: 4 };
const home = await mkdtemp(join(tmpdir(), 'kilo-bench-lag-'));
try {
  const pool = new WorkerPool({ maxConcurrent: 2, timeoutMs: 600_000 });
  const jobs = ['BTC', 'ETH'].map((b) =>
    buildJobSpec(config, {
      symbols: [`${b}/USDT`],
      candles: { [`${b}/USDT`]: readCandles(`${b}-USDT-1h.csv`, 180) },
      quick: true,
      version: '1.0',
      modelsDir: join(home, 'models'),
    }),
  );
  const h = monitorEventLoopDelay({ resolution: 10 });
  const late: number[] = [];
  let expected = performance.now() + 50;
  const ticker = setInterval(() => {
    const now = performance.now();
    late.push(Math.max(0, now - expected));
    expected = now + 50;
  }, 50);
  h.enable();
  const t0 = performance.now();
  let progress = 0;
  await Promise.all(jobs.map((j) => pool.run(j, { onProgress: () => void progress++ })));
  const wall = (performance.now() - t0) / 1000;
  h.disable();
  clearInterval(ticker);
  await pool.close();
  late.sort((a, b) => a - b);
  const ms = (ns: number): string => (ns / 1e6).toFixed(1);
  console.log(`two trainings in workers (BTC + ETH, 180 days, gbdt+gru+ppo, 4 epochs): ${wall.toFixed(1)} s wall, ${progress} progress messages`);
  console.log(`main-thread event-loop delay: p50 ${ms(h.percentile(50))} ms, p99 ${ms(h.percentile(99))} ms, max ${ms(h.max)} ms (target p99 <= 50 ms)`);
  // Other processes on a shared machine steal the main thread's core too: print the load beside the figures.
  console.log(`load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${cpus().length} cores`);
  console.log(`50 ms ticker lateness: p50 ${late[Math.floor(late.length / 2)].toFixed(1)} ms, p99 ${late[Math.floor(late.length * 0.99)].toFixed(1)} ms over ${late.length} ticks`);
} finally {
  await rm(home, { recursive: true, force: true });
}

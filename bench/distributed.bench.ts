/**
 * Distributed training on BullMQ (distributed.backend bullmq) against local worker threads, on
 * this machine: a real redis-server on a free loopback port and real `kilo worker` processes.
 * - per-job overhead: the same small job (trees on 120 days of simulator candles) through
 *   WorkerPool.run and through BullmqPool.run with one warm worker, interleaved; plus a selftest
 *   job that trains nothing (the mechanism alone);
 * - throughput: N small jobs (one per symbol) with 1 vs 2 worker processes, interleaved.
 * Both sides share the machine's cores, so 2 workers can only help as far as cores are free:
 * read the figures with the load average printed beside them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../src/clock.js';
import { defaultConfig } from '../src/config/schema.js';
import { SimMarketSource, SIM_SYMBOLS } from '../src/market/sim-source.js';
import { buildJobSpec } from '../src/training/pipeline-spec.js';
import { WorkerPool } from '../src/training/pool.js';
import type { PipelineJobSpec, TrainJobSpec } from '../src/training/protocol.js';
import { BullmqPool } from '../src/distributed/bullmq-pool.js';
import { REDIS_SERVER, RedisServer, WorkerProcess } from '../test/distributed/helpers.js';
import { median } from './data.js';

if (!REDIS_SERVER) {
  console.log('redis-server not found (apt-get install -y redis-server); skipping');
  process.exit(0);
}

const REPS = Number(process.env.KILO_BENCH_REPS ?? 5);
const N = Number(process.env.KILO_BENCH_JOBS ?? 6);
const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const NOW = Date.UTC(2024, 0, 10);
const config = defaultConfig();
config.model.models = ['gbdt'];
config.model.window = 16;
config.training.quick = { epochs: 3, patience: 3, trees: 15, data_days: 120, batch_size: 256, ppo_steps: 256 };
const sim = new SimMarketSource(42, new ManualClock(NOW));
const symbols = SIM_SYMBOLS.slice(0, N);
const candles = Object.fromEntries(await Promise.all(symbols.map(async (s) => [s, await sim.fetchCandles(s, '1h', NOW - 120 * 86_400_000, NOW)] as const)));
const home = await mkdtemp(join(tmpdir(), 'kilo-bench-dist-'));
let version = 0;
const spec = (symbol: string, dir: string): PipelineJobSpec =>
  buildJobSpec(config, { symbols: [symbol], candles, quick: true, version: `1.${version++}`, modelsDir: join(home, dir) });

const redis = await RedisServer.start();
const workers: WorkerProcess[] = [];
const remote = new BullmqPool({
  url: redis.url,
  engineId: 'ebench',
  prefix: 'bench',
  modelsDir: join(home, 'remote'),
  timeoutMs: 600_000,
  attempts: 1,
  backoffMs: 1000,
  kiloVersion: 'bench',
  log: () => undefined,
  pollMs: 1000,
});
const local = new WorkerPool({ maxConcurrent: 2, timeoutMs: 600_000 });
const time = async (fn: () => Promise<unknown>): Promise<number> => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};
// Remote specs publish into home/remote (the pool's modelsDir); their own modelsDir is never sent.
const runRemote = (j: TrainJobSpec) => remote.run(j);
const runLocal = (j: TrainJobSpec) => local.run(j);

try {
  workers.push(await WorkerProcess.start(redis.url, 'b1', {}, ['--prefix', 'bench']));
  // Warm both paths once (tsx transforms, tfjs-free tree stage imports) before measuring.
  await runLocal(spec(symbols[0], 'local'));
  await runRemote(spec(symbols[0], 'remote'));

  const lt: number[] = [];
  const rt: number[] = [];
  const ls: number[] = [];
  const rs: number[] = [];
  const selftest: TrainJobSpec = { kind: 'selftest', symbol: 'X/USDT', behaviour: 'progress', steps: 1, stepMs: 1 };
  const before = loadavg();
  for (let i = 0; i < REPS; i++) {
    const s = symbols[i % symbols.length];
    // Alternate which side goes first so drift in the machine's load hits both.
    if (i % 2 === 0) {
      lt.push(await time(() => runLocal(spec(s, 'local'))));
      rt.push(await time(() => runRemote(spec(s, 'remote'))));
      ls.push(await time(() => runLocal(selftest)));
      rs.push(await time(() => runRemote(selftest)));
    } else {
      rt.push(await time(() => runRemote(spec(s, 'remote'))));
      lt.push(await time(() => runLocal(spec(s, 'local'))));
      rs.push(await time(() => runRemote(selftest)));
      ls.push(await time(() => runLocal(selftest)));
    }
  }
  const f = (x: number): string => x.toFixed(0);
  console.log(`per-job, median of ${REPS} interleaved (load average before ${before}, after ${loadavg()}):`);
  console.log(`  small tree job (${symbols[0]} etc., 120 days 1h): local thread ${f(median(lt))} ms, BullMQ + kilo worker ${f(median(rt))} ms -> queue overhead ${f(median(rt) - median(lt))} ms`);
  console.log(`  selftest job (no training): local thread ${f(median(ls))} ms, BullMQ + kilo worker ${f(median(rs))} ms -> queue overhead ${f(median(rs) - median(ls))} ms`);

  // Throughput: N jobs at once, 1 worker process vs 2 (each concurrency 1), interleaved 1-2-2-1.
  const batch = async (): Promise<number> => time(() => Promise.all(symbols.map((s) => runRemote(spec(s, 'remote')))));
  const second = async (on: boolean): Promise<void> => {
    const w = workers.find((x) => x.name === 'b2');
    if (on && !w) workers.push(await WorkerProcess.start(redis.url, 'b2', {}, ['--prefix', 'bench']));
    if (!on && w) {
      await w.stop('SIGTERM');
      workers.splice(workers.indexOf(w), 1);
    }
  };
  const one: number[] = [];
  const two: number[] = [];
  const tload: string[] = [];
  for (const n of [1, 2, 2, 1]) {
    await second(n === 2);
    tload.push(loadavg());
    (n === 1 ? one : two).push(await batch());
  }
  const perMin = (ms: number): string => ((N * 60_000) / ms).toFixed(1);
  console.log(`throughput, ${N} small jobs at once (load average at each batch: ${tload.join(' | ')}):`);
  console.log(`  1 worker process: ${one.map((m) => `${(m / 1000).toFixed(1)} s`).join(', ')} -> median ${perMin(median(one))} jobs/min`);
  console.log(`  2 worker processes: ${two.map((m) => `${(m / 1000).toFixed(1)} s`).join(', ')} -> median ${perMin(median(two))} jobs/min`);
} finally {
  await remote.close();
  await local.close();
  for (const w of workers) await w.stop('SIGKILL');
  await redis.stop();
  await rm(home, { recursive: true, force: true });
}

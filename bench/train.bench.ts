/**
 * Quick-train of one symbol with every model kind on 365 days of real 1h candles, in a real
 * worker (target <= 60 s wall) and artifact load (target <= 150 ms). Signal latency: signal.bench.ts.
 * The process's CPU seconds (the worker thread is in it) and the load average are printed beside
 * the wall time: on a shared machine the wall time follows the load, the CPU time much less.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkerPool } from '../src/training/pool.js';
import { buildJobSpec } from '../src/training/pipeline-spec.js';
import { loadArtifact } from '../src/models/artifact-load.js';
import { initTf } from '../src/models/tf-backend.js';
import { defaultConfig } from '../src/config/schema.js';
import { median, readCandles, requireData } from './data.js';

requireData();

const p = (x: number): string => x.toFixed(1);

const config = defaultConfig();
const days = config.training.quick.data_days;
const btc = readCandles('BTC-USDT-1h.csv');
const candles = btc.slice(-days * 24);
const home = await mkdtemp(join(tmpdir(), 'kilo-bench-train-'));
try {
  const spec = buildJobSpec(config, { symbols: ['BTC/USDT'], candles: { 'BTC/USDT': candles }, quick: true, version: '1.0', modelsDir: join(home, 'models') });
  const pool = new WorkerPool({ maxConcurrent: 1, timeoutMs: 600_000 });
  const phaseStart = new Map<string, number>();
  const load0 = loadavg()[0];
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const res = await pool.run(spec, {
    onProgress: (pr) => {
      if (!phaseStart.has(pr.phase)) phaseStart.set(pr.phase, performance.now());
    },
  });
  const wall = (performance.now() - t0) / 1000;
  const cu = process.cpuUsage(c0);
  const cpuS = (cu.user + cu.system) / 1e6;
  await pool.close();
  const phases = [...phaseStart.entries()];
  const split = phases.map(([ph, t], i) => `${ph} ${p(((phases[i + 1]?.[1] ?? t0 + wall * 1000) - t) / 1000)}s`).join(', ');
  console.log(`quick-train BTC/USDT, ${days} days 1h (${candles.length} candles), models ${spec.models.join('+')}: ${p(wall)} s wall (target <= 60 s), ${p(cpuS)} CPU s; load average ${p(load0)} -> ${p(loadavg()[0])}`);
  console.log(`  phases: ${split}`);
  console.log(`  profile: epochs ${spec.profile.epochs}, patience ${spec.profile.patience}, trees ${spec.profile.trees}, ppo_steps ${spec.profile.ppo_steps}, window ${spec.window}`);
  for (const n of res.notes) console.log(`  ${n}`);
  const m = res.metadata!;
  for (const k of ['gbdt', 'gru', 'ppo', 'ensemble'] as const) {
    const perf = m.performance[k];
    if (perf) console.log(`  ${k.padEnd(8)} val acc ${(perf.validation.accuracy * 100).toFixed(1)}%  test acc ${(perf.test.accuracy * 100).toFixed(1)}%  test PnL ${perf.test.pnl_pct!.toFixed(2)}%`);
  }

  const { tf, backend } = await initTf();
  const loads: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    const a = await loadArtifact(res.artifactDir!, { tf });
    loads.push(performance.now() - t);
    a.dispose();
  }
  console.log(`load artifact (verify manifest + preprocessor + trees + GRU + PPO), ${backend}: median ${p(median(loads))} ms, first ${p(loads[0])} ms (target <= 150 ms)`);

} finally {
  await rm(home, { recursive: true, force: true });
}

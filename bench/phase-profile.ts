/**
 * Where one training's wall time goes (issue 16), and what a second thread buys it: a retrain-recipe
 * job (`full` for the full recipe) on real candles in a real worker, then the same job with a
 * champion to gate against, on one thread (phase by phase) and on two (the models and the verdict's
 * folds shared with a helper thread, src/training/pipeline-units.ts). RUNS alternations; medians.
 * A study tool: `npx tsx bench/phase-profile.ts [full]`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkerPool } from '../src/training/pool.js';
import { buildJobSpec } from '../src/training/pipeline-spec.js';
import { defaultConfig } from '../src/config/schema.js';
import type { PipelineJobSpec } from '../src/training/protocol.js';
import { median, readCandles, requireData } from './data.js';

requireData();
const config = defaultConfig();
const full = process.argv.includes('full');
const days = full ? config.training.full.data_days : config.training.retrain_days;
const sym = process.env.PROFILE_SYMBOL ?? 'BTC/USDT';
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const candles = readCandles(`${sym.replace('/', '-')}-1h.csv`, days);
const home = await mkdtemp(join(tmpdir(), 'kilo-phase-'));
const pools = { 1: new WorkerPool({ maxConcurrent: 1, timeoutMs: 3_600_000, jobThreads: 1 }), 2: new WorkerPool({ maxConcurrent: 1, timeoutMs: 3_600_000, jobThreads: 2 }) };
const walls: Record<1 | 2, number[]> = { 1: [], 2: [] };
console.log(`${full ? 'full' : 'retrain'} recipe, ${sym} ${candles.length} candles, gated against a champion; load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
try {
  const spec = (version: string, champion?: string): PipelineJobSpec => ({
    ...buildJobSpec(config, { symbols: [sym], candles: { [sym]: candles }, version, modelsDir: join(home, 'models') }),
    profile: { ...config.training.full, name: full ? 'full' : 'retrain' },
    ...(champion ? { gate: { championDir: champion, rows: 30 * 24 } } : {}),
  });
  const champion = (await pools[1].run(spec('0.1'))).artifactDir!;
  for (let r = 0; r < RUNS; r++) {
    for (const threads of [1, 2] as const) {
      const t0 = performance.now();
      let phase = 'start';
      let since = t0;
      const parts: [string, number][] = [];
      await pools[threads].run(spec(`${threads}.${r}`, champion), {
        onProgress: (p) => {
          const key = p.phase === 'verdict' ? 'verdict folds' : p.phase;
          if (key !== phase) {
            const t = performance.now();
            parts.push([phase, t - since]);
            phase = key;
            since = t;
          }
        },
      });
      const t = performance.now();
      parts.push([`${phase} (+gate, exit)`, t - since]);
      walls[threads].push((t - t0) / 1000);
      const detail = threads === 1 ? `: ${parts.map(([k, v]) => `${k} ${(v / 1000).toFixed(2)}`).join(', ')}` : '';
      console.log(`  run ${r + 1}, ${threads} thread${threads > 1 ? 's' : ''}: ${((t - t0) / 1000).toFixed(1)} s${detail}`);
    }
  }
  const m1 = median(walls[1]);
  const m2 = median(walls[2]);
  console.log(`median wall: 1 thread ${m1.toFixed(2)} s, 2 threads ${m2.toFixed(2)} s (${(m1 / m2).toFixed(2)}x); load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
} finally {
  await Promise.all(Object.values(pools).map((p) => p.close()));
  await rm(home, { recursive: true, force: true });
}

/**
 * What the walk-forward verdict costs a training (issue 16: at most one training's time more).
 * BTC/USDT and SOL/USDT from ../shared/data/ohlcv, every model kind, the quick profile (the full
 * one with `VERDICT_PROFILE=full npm run bench -- verdict`: bench/run.ts passes no arguments on), in a real worker: the training's own time (features,
 * models, evaluation, save) beside the verdict's time (3 fold models on the light recipe + the
 * judgement of all 4 folds). Runs alternate between the symbols; medians of RUNS runs each.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { WorkerPool } from '../src/training/pool.js';
import { buildJobSpec } from '../src/training/pipeline-spec.js';
import { lightProfile } from '../src/training/pipeline-verdict.js';
import { defaultConfig } from '../src/config/schema.js';
import { median, readCandles, requireData } from './data.js';

requireData();

const full = process.env.VERDICT_PROFILE === 'full' || process.argv.includes('full');
// Odd, so the median is a measured run.
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const config = defaultConfig();
const profile = config.training[full ? 'full' : 'quick'];
const symbols = ['BTC/USDT', 'SOL/USDT'];
const candles = Object.fromEntries(symbols.map((s) => [s, readCandles(`${s.replace('/', '-')}-1h.csv`, profile.data_days)]));
const home = await mkdtemp(join(tmpdir(), 'kilo-bench-verdict-'));
const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const times: Record<string, { train: number[]; verdict: number[]; folds: number }> = Object.fromEntries(symbols.map((s) => [s, { train: [], verdict: [], folds: 0 }]));
// One thread: the verdict's cost as work (two threads share the folds with the models: bench/phase-profile.ts).
const pool = new WorkerPool({ maxConcurrent: 1, timeoutMs: 3_600_000, jobThreads: 1 });
console.log(`load average before: ${loadavg()}`);
try {
  for (let r = 0; r < RUNS; r++) {
    for (const s of symbols) {
      const spec = buildJobSpec(config, { symbols: [s], candles: { [s]: candles[s] }, quick: !full, version: `1.${r}`, modelsDir: join(home, 'models') });
      const res = await pool.run(spec);
      const m = res.metadata!;
      const verdict = m.edge!.duration_s;
      times[s].train.push(res.durationS - verdict);
      times[s].verdict.push(verdict);
      times[s].folds = m.edge!.recipe.folds;
      console.log(`  run ${r + 1} ${s}: training ${(res.durationS - verdict).toFixed(1)} s + verdict ${verdict.toFixed(1)} s (${m.edge!.symbols[s].verdict})`);
    }
  }
} finally {
  await pool.close();
  await rm(home, { recursive: true, force: true });
}
const light = lightProfile({ ...profile, name: full ? 'full' : 'quick' });
console.log(`${full ? 'full' : 'quick'} profile (${profile.data_days} days, epochs ${profile.epochs}, trees ${profile.trees}, ppo_steps ${profile.ppo_steps}); verdict folds on the light recipe (epochs ${light.epochs}, trees ${light.trees}, ppo_steps ${light.ppo_steps}, GRU(32) <= 2000 windows)`);
for (const s of symbols) {
  const t = median(times[s].train);
  const v = median(times[s].verdict);
  console.log(`${s.padEnd(9)} training ${t.toFixed(1)} s   verdict ${v.toFixed(1)} s (${times[s].folds} folds)   verdict/training ${(v / t).toFixed(2)}   (medians of ${RUNS})`);
}
console.log(`load average after: ${loadavg()}`);

/**
 * Memory of the engine process serving 20 symbols on the simulator (target: RSS <= 400 MB after GC,
 * issue 16; issue 17 item 10). A real engine in this process (createEngine, as `kilo run` wires it),
 * GRU + trees + PPO per symbol (the default models and shapes: window 48, the default GRU), trained by
 * the engine itself in worker threads, two at a time. Phases, RSS read after two full GCs:
 *   1. first trainings: the 20 symbols are queued as untrained and trained while rounds go on
 *   2. served: every symbol has its model loaded and its candle buffer full, no training
 *   3. served + trainings: forced retrains of RSS_BENCH_RETRAINS symbols (gate, promotion, reload)
 *   4. served again after those trainings: what the trainings left behind in the main process
 * Worker threads live in this process, so their memory is in the RSS while they run; GC runs only
 * in the main isolate. Training is shortened (RSS_BENCH_EPOCHS epochs, 120 days, no walk-forward
 * folds) to keep the bench minutes long; the models' sizes do not depend on it.
 * `npm run bench -- rss`; RSS_BENCH_ROUNDS (30) rounds per served phase.
 *
 * Where the memory is: after each phase one line splits the RSS by mapping (bench/memory-breakdown.ts:
 * malloc main arena, thread arenas, wasm memories, other anonymous such as V8's heap, file-backed)
 * beside V8's and glibc's own figures. RSS_BENCH_HOME=<dir> keeps the home (models included) and
 * reuses it: a second run finds the models trained and measures loading and serving in minutes.
 * KILO_NATIVE_MEMORY=0 runs without the allocator trims (src/native/memory.ts), for comparison.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ManualClock } from '../src/clock.js';
import { defaultConfig, type Config } from '../src/config/schema.js';
import { createEngine, type Engine } from '../src/engine.js';
import { median } from './data.js';
import { breakdown, formatBreakdown } from './memory-breakdown.js';
import { mallocTrimStatus, tuneMalloc } from '../src/native/memory.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const HOUR = 3_600_000;
const START = Date.UTC(2026, 0, 1);
const N_SYMBOLS = 20;
const ROUNDS = Math.max(5, Number(process.env.RSS_BENCH_ROUNDS ?? 30));
const EPOCHS = Math.max(1, Number(process.env.RSS_BENCH_EPOCHS ?? 2));
const RETRAINS = Math.max(2, Number(process.env.RSS_BENCH_RETRAINS ?? 4));
const MB = 1024 * 1024;

interface Sample {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

function sample(): Sample {
  gc();
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss / MB, heapUsed: m.heapUsed / MB, external: m.external / MB, arrayBuffers: m.arrayBuffers / MB };
}

function summary(name: string, xs: Sample[]): void {
  if (!xs.length) return void console.log(`  ${name}: no samples`);
  const med = (k: keyof Sample) => median(xs.map((x) => x[k])).toFixed(0);
  const max = Math.max(...xs.map((x) => x.rss)).toFixed(0);
  console.log(
    `  ${name.padEnd(44)} RSS median ${med('rss').padStart(4)} MB, max ${max.padStart(4)} MB | heap used ${med('heapUsed')} MB, external ${med('external')} MB (array buffers ${med('arrayBuffers')}) | ${xs.length} samples`,
  );
}

function benchConfig(): Config {
  const c = defaultConfig();
  const named = ['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'BNB/USDT', 'ADA/USDT', 'LINK/USDT', 'DOT/USDT', 'AVAX/USDT', 'MATIC/USDT'];
  c.data.source = 'sim';
  c.data.sim_seed = 42;
  c.data.sim_extra_symbols = N_SYMBOLS - named.length;
  const extra = Array.from({ length: N_SYMBOLS - named.length }, (_, i) => `S${String(i + 1).padStart(3, '0')}/USDT`);
  c.universe.symbols = [...named, ...extra];
  c.universe.core_symbols = [];
  c.assets.pre_trained = [];
  c.assets.quick_train = c.universe.symbols;
  c.training.quick = { ...c.training.quick, epochs: EPOCHS, patience: 1, data_days: 120, ppo_steps: 1024 };
  c.training.walk_forward_folds = 0;
  c.auto_training.enabled = false;
  c.resources.training_timeout_s = 3600;
  c.heartbeat_interval_s = 3600;
  return c;
}

const busy = (e: Engine) => e.queue.list().some((j) => j.state === 'queued' || j.state === 'running');
const running = (e: Engine) => e.queue.list().some((j) => j.state === 'running');

const keepHome = process.env.RSS_BENCH_HOME;
const home = keepHome ? (await mkdir(keepHome, { recursive: true }), keepHome) : await mkdtemp(join(tmpdir(), 'kilo-bench-rss-'));
const detail = (label: string): void => {
  gc();
  gc();
  console.log(`  [${label}] ${formatBreakdown(breakdown())}`);
};
const config = benchConfig();
const clock = new ManualClock(START);
const t0 = performance.now();
const startLoad = loadavg();
const engine = await createEngine({ home, config, configPath: join(home, 'config.yaml'), marketClock: clock, clock, api: false });
const errors: string[] = [];
engine.on('log', (e) => {
  if (e.level === 'error') errors.push(e.message);
});
const round = async (): Promise<void> => {
  clock.advance(HOUR);
  await engine.runRound();
};
const servedCount = () => engine.getSnapshot().symbols.filter((r) => r.lastSignal?.modelVersion).length;
try {
  await engine.start({ loop: false });
  const base = sample();
  console.log(`20 symbols on the simulator, models ${config.model.models.join('+')} (window ${config.model.window}), ${config.resources.max_concurrent_trainings} concurrent trainings`);
  console.log(`  engine started, nothing loaded: RSS ${base.rss.toFixed(0)} MB, heap used ${base.heapUsed.toFixed(0)} MB`);
  const trim = mallocTrimStatus();
  const tuned = Object.entries(tuneMalloc()).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  console.log(`  allocator trims: ${trim.available ? 'on' : `off (${trim.reason})`}; settings: ${tuned}; MALLOC_ARENA_MAX ${process.env.MALLOC_ARENA_MAX ?? 'unset'}`);
  detail('started');

  // 1. First trainings while the rounds go on.
  const first: Sample[] = [];
  await round();
  while (busy(engine)) {
    await round();
    await new Promise((r) => setTimeout(r, 200));
    if (running(engine)) first.push(sample());
  }
  await engine.idle();
  const failed = engine.queue.list().filter((j) => j.state !== 'done');
  console.log(`  first trainings: ${engine.queue.list().length} jobs (${failed.length} not done) in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  detail('after first trainings');

  // 2. Served, idle.
  const served: Sample[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    await round();
    if (i >= ROUNDS / 3) served.push(sample());
  }
  const n = servedCount();
  detail(`${n} served`);

  // 3. Served while trainings run (forced retrains: gate, promotion, hot reload).
  const picks = config.universe.symbols.slice(0, RETRAINS);
  for (const s of picks) {
    const r = await engine.train({ symbol: s, force: true, quick: true, reason: 'retrain: rss bench' });
    if (!r.ok) throw new Error(`train ${s}: ${r.message}`);
  }
  const during: Sample[] = [];
  while (busy(engine)) {
    await round();
    await new Promise((r) => setTimeout(r, 200));
    if (running(engine)) during.push(sample());
  }
  await engine.idle();
  detail('after the retrains');

  // 4. Served again.
  const after: Sample[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    await round();
    if (i >= ROUNDS / 3) after.push(sample());
  }
  const nAfter = servedCount();
  detail(`${nAfter} served after the retrains`);

  console.log(`  RSS after GC (process.memoryUsage after two full GCs of the main isolate):`);
  summary('1. first trainings (2 workers, models landing)', first);
  summary(`2. ${n}/20 served, no training`, served);
  summary(`3. ${n}/20 served + ${RETRAINS} forced retrains, 2 at a time`, during);
  summary(`4. ${nAfter}/20 served, after those trainings`, after);
  if (served.length && after.length) {
    const d = median(after.map((x) => x.rss)) - median(served.map((x) => x.rss));
    console.log(`  trainings left the main process ${d >= 0 ? 'larger' : 'smaller'} by ${Math.abs(d).toFixed(0)} MB (4 vs 2)`);
  }
  const target = served.length ? median(served.map((x) => x.rss)) : NaN;
  console.log(`  served RSS ${target.toFixed(0)} MB (target <= 400 MB: ${target <= 400 ? 'met' : 'MISSED'})`);
  if (errors.length) console.log(`  ${errors.length} error lines, first: ${errors[0]}`);
  console.log(`  wall ${((performance.now() - t0) / 1000).toFixed(0)} s; load average ${startLoad.map((x) => x.toFixed(1)).join(' ')} at start, ${loadavg().map((x) => x.toFixed(1)).join(' ')} at end, ${cpus().length} cores`);
} finally {
  await engine.stop();
  if (!keepHome) await rm(home, { recursive: true, force: true });
}

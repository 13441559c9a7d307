/**
 * GRU/LSTM training and prediction speed, kilo vs the PyTorch peer, in one run.
 * [48 x F] windows -> GRU/LSTM(64) -> Dense(3, softmax), class-weighted cross-entropy, Adam, batch
 * 256, one epoch; both sides do the same work per window. Data: real BTC/USDT 1h training windows
 * through kilo's features (F = 36; torch reads the bytes kilo wrote); BENCH_DATA=random gives
 * uniform random [48 x 28] windows as in ../shared/STACK.md. Env: BENCH_N (default all real
 * windows, or 20000 random), BENCH_BATCH (256), BENCH_CELLS ("gru,lstm"), BENCH_BASELINE_N
 * (windows for the tf.layers baseline, default 2048; 0 skips it), BENCH_REPS (3), BENCH_EXTRAS=0
 * (only the kilo-native vs torch-1-thread comparison: no baseline, tfjs-ops, AVX2-only, torch 2
 * threads or two-worker runs, for a quick figure on a busy machine).
 *
 * kilo runs on each path it has: the native kernels (native/kilo_rnn.c) with the widest
 * instruction set the CPU has (AVX-512F here), the same kernels limited to AVX2+FMA (what a CPU
 * without AVX-512 gets), and the tfjs-ops fallback (no C compiler). The per-core ratio uses the
 * medians of REPS interleaved runs of kilo and torch with 1 thread. Each run's CPU time is
 * reported beside its wall time: on this shared 2-core box the load average moves the wall
 * figures, CPU seconds per epoch much less (the ratio of the two is printed as a cross-check).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { initTf } from '../src/models/tf-backend.js';
import { Worker } from 'node:worker_threads';
import { predictRnn, trainRnn, type RnnCell } from '../src/models/rnn/index.js';
import { startWorker } from '../src/util/worker.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomData, realWindows, writeForPeer, WINDOW, UNITS } from './gru-data.js';
import { DATA, median } from './data.js';
import { nativeIsas, nativeRnnStatus, setNativeIsa, setNativeRnnEnabled } from '../src/native/rnn.js';

const REAL = (process.env.BENCH_DATA ?? 'real') !== 'random' && existsSync(DATA);
const BATCH = Number(process.env.BENCH_BATCH ?? 256);
const CELLS = (process.env.BENCH_CELLS ?? 'gru,lstm').split(',') as RnnCell[];
const BASELINE_N = Number(process.env.BENCH_BASELINE_N ?? 2048);
const REPS = Math.max(1, Number(process.env.BENCH_REPS ?? 3));
const EXTRAS = process.env.BENCH_EXTRAS !== '0';
const PYTHON = '/usr/bin/python3';
const PEER = fileURLToPath(new URL('./peers/torch_peer.py', import.meta.url));

function medianMs(fn: () => void, reps: number): number {
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

const all = REAL ? realWindows() : randomData(Number(process.env.BENCH_N ?? 20000), 1);
const N = Math.min(all.n, Number(process.env.BENCH_N ?? all.n));
const F = all.nFeatures;
const data = { ...all, n: N, x: all.x.subarray(0, N * WINDOW * F), y: all.y.subarray(0, N) };
const peerDir = mkdtempSync(join(tmpdir(), 'kilo-gru-bench-'));
const peerFiles = { x: join(peerDir, 'x.f32'), y: join(peerDir, 'y.u8') };
if (REAL) writeForPeer(data, peerFiles.x, peerFiles.y);
process.on('exit', () => rmSync(peerDir, { recursive: true, force: true }));

interface PeerResult {
  torch: string;
  threads: number;
  windows_per_s: number;
  train_cpu_s: number;
  predict1_ms: number;
  predict100_ms: number;
}

function runPeer(cell: RnnCell, threads: number): PeerResult | string {
  if (!existsSync(PYTHON)) return `${PYTHON} missing`;
  const r = spawnSync(
    PYTHON,
    [PEER, '--cell', cell, '--n', String(N), '--window', String(WINDOW), '--features', String(F), '--units', String(UNITS), '--batch', String(BATCH), '--threads', String(threads),
      ...(REAL ? ['--x-file', peerFiles.x, '--y-file', peerFiles.y] : [])],
    { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(threads) } },
  );
  if (r.status !== 0) return `peer failed: ${(r.stderr || '').trim().split('\n').pop() ?? r.status}`;
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as PeerResult;
}

function availableCores(): number {
  return availableParallelism();
}

const fmt = (v: number, d = 0) => v.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

const { tf, backend, reason } = await initTf();
console.log(`kilo backend: ${backend} (${reason}); N=${N} ${REAL ? 'real BTC/USDT 1h training windows (kilo features, scaler, labels; torch reads the same bytes)' : 'uniform random windows'}, batch ${BATCH}, windows [${WINDOW} x ${F}], units ${UNITS}, one epoch`);

/** Two trainings at once, each in its own worker thread (as the training pool runs them): total windows/s. */
async function twoWorkers(cell: RnnCell): Promise<{ total: number; wall: number; each: number[] }> {
  const t0 = performance.now();
  const each = await Promise.all([11, 12].map((seed) => new Promise<number>((resolve, reject) => {
    const w: Worker = startWorker(new URL('./gru-worker.ts', import.meta.url), { workerData: { cell, batch: BATCH, seed, data } });
    w.once('message', (m: { windowsPerSecond: number }) => resolve(m.windowsPerSecond));
    w.once('error', reject);
  })));
  // total: the two training rates added (both epochs run at the same time); wall: 2N over the
  // whole wall time including each worker's start-up (tsx, tfjs init) and data build.
  return { total: each[0] + each[1], wall: (2 * N) / ((performance.now() - t0) / 1000), each };
}
const val = { ...data, n: 256, x: data.x.subarray(0, 256 * WINDOW * F), y: data.y.subarray(0, 256) };

/** One kilo training epoch: windows/s over the training batches (trainRnn's figure) and CPU seconds. */
async function kiloEpoch(cell: RnnCell): Promise<{ wps: number; cpuS: number; model: Awaited<ReturnType<typeof trainRnn>>['model'] }> {
  const c0 = process.cpuUsage();
  const r = await trainRnn(tf, data, val, { cell, units: UNITS, epochs: 1, batchSize: BATCH, seed: 1 });
  const c = process.cpuUsage(c0);
  // CPU time also covers building the model, checking the data and validating 256 windows (a few %).
  return { wps: r.windowsPerSecond, cpuS: (c.user + c.system) / 1e6, model: r.model };
}

const isas = nativeIsas();
const best = isas.at(-1);
const rows: string[] = [];

for (const cell of CELLS) {
  let baseline = '';
  if (EXTRAS && BASELINE_N > 0) {
    const small = { ...data, n: Math.min(BASELINE_N, N), x: data.x.subarray(0, Math.min(BASELINE_N, N) * WINDOW * F), y: data.y.subarray(0, Math.min(BASELINE_N, N)) };
    const b = await trainRnn(tf, small, val, { cell, units: UNITS, epochs: 1, batchSize: BATCH, seed: 1, impl: 'layers' });
    b.model.dispose();
    baseline = `${fmt(b.windowsPerSecond)} windows/s (N=${small.n})`;
  }
  const loadStart = loadavg()[0];
  // The tfjs-ops path (what runs where the native kernels cannot be built), then the native kernels.
  let ops: { wps: number; cpuS: number } | undefined;
  if (EXTRAS) {
    setNativeRnnEnabled(false);
    const o = await kiloEpoch(cell);
    o.model.dispose();
    ops = o;
    setNativeRnnEnabled(true);
  }
  // REPS runs of each side, interleaved, so a burst of load on this shared box hits both alike:
  // kilo on its best instruction set, kilo limited to AVX2 (when the CPU has more), torch 1 thread.
  const kilo: { wps: number; cpuS: number }[] = [];
  const kiloAvx2: { wps: number; cpuS: number }[] = [];
  const peerRuns: PeerResult[] = [];
  let peerError = '';
  for (let rep = 0; rep < REPS; rep++) {
    if (best) setNativeIsa(best);
    const k = await kiloEpoch(cell);
    k.model.dispose();
    kilo.push(k);
    if (EXTRAS && best === 'avx512') {
      setNativeIsa('avx2');
      const k2 = await kiloEpoch(cell);
      k2.model.dispose();
      kiloAvx2.push(k2);
      setNativeIsa(best);
    }
    const p = runPeer(cell, 1);
    if (typeof p === 'string') peerError = p;
    else peerRuns.push(p);
  }
  const last = await kiloEpoch(cell);
  const one = val.x.subarray(0, WINDOW * F);
  const hundred = data.x.subarray(0, 100 * WINDOW * F);
  predictRnn(tf, last.model, hundred, 100, WINDOW, F); // warm-up
  const p1 = medianMs(() => predictRnn(tf, last.model, one, 1, WINDOW, F), 50);
  const p100 = medianMs(() => predictRnn(tf, last.model, hundred, 100, WINDOW, F), 20);
  last.model.dispose();
  const native = nativeRnnStatus();
  const kiloWps = median(kilo.map((k) => k.wps));
  const cpuWps = (runs: { cpuS: number }[]) => median(runs.map((k) => N / k.cpuS));
  console.log(`\n${cell.toUpperCase()}(${UNITS}) -> Dense(3)   [load average ${fmt(loadStart, 1)} at the start on ${availableCores()} cores; median of ${REPS} interleaved runs each]`);
  if (baseline) console.log(`  kilo  wasm tf.layers.${cell} (before the fused layer): ${baseline}`);
  if (ops) console.log(`  kilo  tfjs ops (fallback without native kernels), 1 thread: ${fmt(ops.wps)} windows/s, ${fmt(N / ops.cpuS)} per CPU-second`);
  console.log(`  kilo  ${native.active ? native.kernel : 'native kernels OFF (' + native.reason + ')'}, 1 thread: ${fmt(kiloWps)} windows/s [runs ${kilo.map((v) => fmt(v.wps)).join(', ')}], ${fmt(cpuWps(kilo))} per CPU-second; predict 1: ${fmt(p1, 2)} ms, 100: ${fmt(p100, 2)} ms`);
  if (kiloAvx2.length) console.log(`  kilo  native avx2+fma (no AVX-512), 1 thread: ${fmt(median(kiloAvx2.map((k) => k.wps)))} windows/s [runs ${kiloAvx2.map((v) => fmt(v.wps)).join(', ')}], ${fmt(cpuWps(kiloAvx2))} per CPU-second`);
  const t1 = peerRuns.length ? { ...peerRuns[0], windows_per_s: median(peerRuns.map((p) => p.windows_per_s)) } : peerError;
  const torchCpuWps = peerRuns.length ? median(peerRuns.map((p) => N / p.train_cpu_s)) : 0;
  const t2 = EXTRAS ? runPeer(cell, 2) : 'skipped (BENCH_EXTRAS=0)';
  if (peerRuns.length) console.log(`  torch 1 thread runs: ${peerRuns.map((p) => fmt(p.windows_per_s)).join(', ')}; ${fmt(torchCpuWps)} per CPU-second`);
  for (const [label, p] of [['torch 1 thread     ', t1], ['torch 2 threads    ', t2]] as const) {
    if (typeof p === 'string') console.log(`  ${label}: ${p}`);
    else console.log(`  ${label}: ${fmt(p.windows_per_s)} windows/s; predict 1: ${fmt(p.predict1_ms, 2)} ms, 100: ${fmt(p.predict100_ms, 2)} ms (torch ${p.torch})`);
  }
  let ratio = '';
  if (typeof t1 !== 'string') {
    ratio = fmt(kiloWps / t1.windows_per_s, 2);
    console.log(`  ratio per core (kilo / torch 1 thread, medians): ${ratio}x; worst kilo run / best torch run: ${fmt(Math.min(...kilo.map((k) => k.wps)) / Math.max(...peerRuns.map((p) => p.windows_per_s)), 2)}x; per CPU-second: ${fmt(cpuWps(kilo) / torchCpuWps, 2)}x`);
    if (kiloAvx2.length) console.log(`  ratio per core, kilo avx2+fma / torch 1 thread: ${fmt(median(kiloAvx2.map((k) => k.wps)) / t1.windows_per_s, 2)}x; per CPU-second: ${fmt(cpuWps(kiloAvx2) / torchCpuWps, 2)}x`);
    if (ops) console.log(`  ratio per core, tfjs-ops fallback / torch 1 thread: ${fmt(ops.wps / t1.windows_per_s, 2)}x`);
  }
  const two = EXTRAS ? await twoWorkers(cell) : undefined;
  if (two) console.log(`  kilo  two trainings at once in 2 worker threads: ${fmt(two.total)} windows/s total (${two.each.map((v) => fmt(v)).join(' + ')}); ${fmt(two.wall)} windows/s over the wall time incl. worker start-up and data build`);
  if (two && typeof t2 !== 'string') {
    console.log(`  ratio one training (kilo 1 thread / torch 2 threads): ${fmt(kiloWps / t2.windows_per_s, 2)}x`);
    console.log(`  ratio machine total (kilo 2 workers / torch 2 threads): ${fmt(two.total / t2.windows_per_s, 2)}x`);
  }
  const loadEnd = loadavg()[0];
  console.log(`  load average at the end: ${fmt(loadEnd, 1)}`);
  const tw = (p: PeerResult | string) => (typeof p === 'string' ? '-' : fmt(p.windows_per_s));
  const cpuRatio = torchCpuWps ? `${fmt(cpuWps(kilo) / torchCpuWps, 2)}x` : '-';
  const cpuS = (runs: { cpuS: number }[]) => fmt(median(runs.map((r) => r.cpuS)), 2);
  rows.push(`| ${cell.toUpperCase()} | ${fmt(kiloWps)} | ${tw(t1)} | ${ratio || '-'}x | ${fmt(cpuWps(kilo))} | ${torchCpuWps ? fmt(torchCpuWps) : '-'} | ${cpuRatio} | ${cpuS(kilo)} | ${peerRuns.length ? cpuS(peerRuns.map((p) => ({ cpuS: p.train_cpu_s }))) : '-'} | ${kiloAvx2.length ? fmt(median(kiloAvx2.map((k) => k.wps))) : '-'} | ${ops ? fmt(ops.wps) : '-'} | ${tw(t2)} | ${two ? fmt(two.total) : '-'} | ${fmt(p1, 2)} / ${fmt(p100, 2)} | ${typeof t1 === 'string' ? '-' : `${fmt(t1.predict1_ms, 2)} / ${fmt(t1.predict100_ms, 2)}`} | ${fmt(loadStart, 1)}-${fmt(loadEnd, 1)} |`);
}

console.log(`\n| cell | kilo native windows/s (wall, median of ${REPS}) | torch 1T windows/s | per core kilo/torch 1T (wall) | kilo windows per CPU-s | torch 1T windows per CPU-s | kilo/torch per CPU-s | kilo CPU s/epoch | torch CPU s/epoch | kilo avx2 only | kilo tfjs fallback | torch 2T | kilo 2 workers total | kilo predict 1 / 100 ms | torch predict 1 / 100 ms | load avg |`);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);

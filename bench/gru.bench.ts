/**
 * GRU/LSTM training and prediction speed, kilo (tfjs wasm) vs the PyTorch peer, in one run.
 * Shape as in ../shared/STACK.md: [48 x 28] windows -> GRU(64) -> Dense(3), batch 256, one epoch.
 * Env: BENCH_N (default 20000 windows), BENCH_BATCH (default 256), BENCH_CELLS (default "gru,lstm"),
 * BENCH_BASELINE_N (windows for the tf.layers baseline, default 2048; 0 skips it).
 * Both sides train on uniform random windows of the same shape (speed does not depend on values).
 * The machine's load average is printed: on a shared 2-core box the figures move with it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { initTf } from '../src/models/tf-backend.js';
import { mulberry32, predictRnn, trainRnn, type RnnCell, type SequenceData } from '../src/models/rnn/index.js';

const N = Number(process.env.BENCH_N ?? 20000);
const BATCH = Number(process.env.BENCH_BATCH ?? 256);
const CELLS = (process.env.BENCH_CELLS ?? 'gru,lstm').split(',') as RnnCell[];
const BASELINE_N = Number(process.env.BENCH_BASELINE_N ?? 2048);
const WINDOW = 48;
const FEATURES = 28;
const UNITS = 64;
const PYTHON = '/usr/bin/python3';
const PEER = fileURLToPath(new URL('./peers/torch_peer.py', import.meta.url));

function randomData(n: number, seed: number): SequenceData {
  const rng = mulberry32(seed);
  const x = new Float32Array(n * WINDOW * FEATURES);
  for (let i = 0; i < x.length; i++) x[i] = rng() * 2 - 1;
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) y[i] = Math.floor(rng() * 3);
  return { x, y, n, window: WINDOW, nFeatures: FEATURES };
}

function medianMs(fn: () => void, reps: number): number {
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
}

interface PeerResult {
  torch: string;
  threads: number;
  windows_per_s: number;
  predict1_ms: number;
  predict100_ms: number;
}

function runPeer(cell: RnnCell, threads: number): PeerResult | string {
  if (!existsSync(PYTHON)) return `${PYTHON} missing`;
  const r = spawnSync(
    PYTHON,
    [PEER, '--cell', cell, '--n', String(N), '--window', String(WINDOW), '--features', String(FEATURES), '--units', String(UNITS), '--batch', String(BATCH), '--threads', String(threads)],
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
console.log(`kilo backend: ${backend} (${reason}); N=${N}, batch ${BATCH}, windows [${WINDOW} x ${FEATURES}], units ${UNITS}, one epoch`);
const data = randomData(N, 1);
const val = randomData(256, 2);

for (const cell of CELLS) {
  let baseline = '';
  if (BASELINE_N > 0) {
    const small = { ...data, n: Math.min(BASELINE_N, N), x: data.x.subarray(0, Math.min(BASELINE_N, N) * WINDOW * FEATURES), y: data.y.subarray(0, Math.min(BASELINE_N, N)) };
    const b = await trainRnn(tf, small, val, { cell, units: UNITS, epochs: 1, batchSize: BATCH, seed: 1, impl: 'layers' });
    b.model.dispose();
    baseline = `${fmt(b.windowsPerSecond)} windows/s (N=${small.n})`;
  }
  const load = loadavg()[0];
  const t0 = performance.now();
  const r = await trainRnn(tf, data, val, { cell, units: UNITS, epochs: 1, batchSize: BATCH, seed: 1 });
  const wallS = (performance.now() - t0) / 1000;
  const one = val.x.subarray(0, WINDOW * FEATURES);
  const hundred = randomData(100, 3).x;
  predictRnn(tf, r.model, hundred, 100, WINDOW, FEATURES); // warm-up
  const p1 = medianMs(() => predictRnn(tf, r.model, one, 1, WINDOW, FEATURES), 50);
  const p100 = medianMs(() => predictRnn(tf, r.model, hundred, 100, WINDOW, FEATURES), 20);
  r.model.dispose();
  const kiloWps = r.windowsPerSecond;
  console.log(`\n${cell.toUpperCase()}(${UNITS}) -> Dense(3)   [load average ${fmt(load, 1)} on ${availableCores()} cores]`);
  if (baseline) console.log(`  kilo  wasm tf.layers.${cell} (before the fused layer): ${baseline}`);
  console.log(`  kilo  wasm fused, 1 thread: ${fmt(kiloWps)} windows/s (epoch incl. shuffle + validation ${fmt(wallS, 1)} s); predict 1: ${fmt(p1, 2)} ms, 100: ${fmt(p100, 2)} ms`);
  const t1 = runPeer(cell, 1);
  const t2 = runPeer(cell, 2);
  for (const [label, p] of [['torch 1 thread     ', t1], ['torch 2 threads    ', t2]] as const) {
    if (typeof p === 'string') console.log(`  ${label}: ${p}`);
    else console.log(`  ${label}: ${fmt(p.windows_per_s)} windows/s; predict 1: ${fmt(p.predict1_ms, 2)} ms, 100: ${fmt(p.predict100_ms, 2)} ms (torch ${p.torch})`);
  }
  if (typeof t1 !== 'string') console.log(`  ratio per core (kilo / torch 1 thread): ${fmt(kiloWps / t1.windows_per_s, 2)}x`);
  if (typeof t2 !== 'string') {
    console.log(`  ratio one training (kilo 1 thread / torch 2 threads): ${fmt(kiloWps / t2.windows_per_s, 2)}x`);
    console.log(`  ratio machine total (kilo 2 workers ~ 2 x 1 thread / torch 2 threads): ${fmt((2 * kiloWps) / t2.windows_per_s, 2)}x`);
  }
}

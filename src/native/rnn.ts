/**
 * kilo's native recurrent kernels (native/kilo_rnn.c, built on `npm ci` by native/build.mjs):
 * loading, the ABI check, and the first recurrent layer as a tfjs custom-gradient op and an
 * inference op. The whole-classifier training step (forward, loss, backward, Adam in one call) is
 * in src/models/rnn/native.ts.
 *
 * Used this way, tfjs keeps owning the model: the weights stay tf.Variables and the optimizer,
 * loss, dense head and serialisation are unchanged; only the first recurrent layer's
 * whole-sequence forward and backward pass (the case gru-bptt.ts / lstm-bptt.ts cover with tfjs
 * ops) runs in the kernel, with no per-op dispatch. Same function: checked against the tfjs path
 * in test/native/rnn-native.test.ts, on each instruction set (AVX2+FMA, AVX-512F) the CPU has.
 *
 * Load order: KILO_NATIVE=0 turns it off; else build/native/kilo_rnn.node if it exists and the CPU
 * has AVX2/FMA (AVX-512F is used when present; KILO_NATIVE_ISA=avx2 forces AVX2); else the tfjs
 * path, with the reason kept for `kilo doctor` and the artifact.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { NATIVE_MODULE_PATH, packageRoot } from './module-path.js';

/** Must equal KILO_RNN_ABI in native/kilo_rnn.c. */
const EXPECTED_ABI = 2;

export interface NativeModule {
  abi?: number;
  available: boolean;
  /** The instruction set chosen at load: 'avx512f' or 'avx2+fma'. */
  isa: string;
  /** The sets this CPU can run, comma-separated: 'avx2' or 'avx2,avx512'. */
  isas: string;
  /** Floats of the training workspace (forward/backward/trainStep) for these dimensions. */
  workspaceFloats(cell: number, b: number, t: number, f: number, u: number): number;
  /** Length of the flat parameter array of the classifier (model.getWeights() order). */
  paramFloats(cell: number, b: number, t: number, f: number, u: number): number;
  forward(cell: number, b: number, t: number, f: number, u: number, x: Float32Array, kernel: Float32Array, recurrent: Float32Array, bias: Float32Array, recurrentBias: Float32Array, ws: Float32Array, out: Float32Array): void;
  backward(cell: number, b: number, t: number, f: number, u: number, x: Float32Array, dy: Float32Array, recurrent: Float32Array, ws: Float32Array, gKernel: Float32Array, gRecurrent: Float32Array, gBias: Float32Array, gRecurrentBias: Float32Array): void;
  infer(cell: number, b: number, t: number, f: number, u: number, x: Float32Array, kernel: Float32Array, recurrent: Float32Array, bias: Float32Array, recurrentBias: Float32Array, out: Float32Array): void;
  /** Forward, weighted cross-entropy, backward and an Adam step; returns the batch's weighted loss sum. */
  trainStep(cell: number, b: number, t: number, f: number, u: number, x: Float32Array, y: Int32Array, w: Float32Array, params: Float32Array, grads: Float32Array, m: Float32Array, v: Float32Array, opt: Float32Array, ws: Float32Array): number;
  predict(cell: number, b: number, t: number, f: number, u: number, x: Float32Array, params: Float32Array, probs: Float32Array): void;
  /** Switch instruction set ('avx2' | 'avx512'); returns the one in use; throws if the CPU lacks it. */
  setIsa(isa: string): string;
  /** TSC ticks per kernel phase in this thread since the last call (then reset), for bench/gru-profile.ts. */
  profile(): { tscHz: number; phases: Record<string, number> };
}

export interface NativeRnnStatus {
  /** The kernels are loaded and will be used for training. */
  active: boolean;
  /** 'native avx512f', 'native avx2+fma' or 'tfjs'. */
  kernel: string;
  /** Why (path of the module, or why it is not used). */
  reason: string;
}

export { NATIVE_MODULE_PATH } from './module-path.js';

let loaded: { mod: NativeModule | null; status: NativeRnnStatus } | undefined;

/**
 * A note when the built module is older than a kernel source it was built from (a `git pull` or
 * rebase without `npm ci`). The module is still used when its ABI matches (its exports mean what
 * this file expects; only a kernel fix or speed-up is missing), but doctor and the artifact say so.
 */
function staleNote(modulePath: string): string {
  try {
    const dir = join(packageRoot(), 'native');
    const built = statSync(modulePath).mtimeMs;
    const newer = readdirSync(dir)
      .filter((f) => /^(kilo_rnn\.c|rnn_.*\.h)$/.test(f))
      .filter((f) => statSync(join(dir, f)).mtimeMs > built);
    return newer.length ? ` (built before native/${newer.join(', native/')} changed: run npm run build:native)` : '';
  } catch {
    return '';
  }
}

function load(): { mod: NativeModule | null; status: NativeRnnStatus } {
  if (loaded) return loaded;
  const off = (reason: string) => ({ mod: null, status: { active: false, kernel: 'tfjs', reason } });
  if (process.env.KILO_NATIVE === '0') return (loaded = off('KILO_NATIVE=0'));
  if (!existsSync(NATIVE_MODULE_PATH)) {
    const errFile = join(dirname(NATIVE_MODULE_PATH), 'build-error.txt');
    const why = existsSync(errFile) ? readFileSync(errFile, 'utf8').trim() : 'not built';
    return (loaded = off(`native kernels missing (${why}): run npm rebuild or node native/build.mjs --strict`));
  }
  try {
    const mod = createRequire(import.meta.url)(NATIVE_MODULE_PATH) as NativeModule;
    if (mod.abi !== EXPECTED_ABI) return (loaded = off(`native kernels are a stale build (abi ${mod.abi ?? 'none'}, expected ${EXPECTED_ABI}): run npm run build:native`));
    if (!mod.available) return (loaded = off(`native kernels unavailable: ${mod.isa}`));
    // KILO_NATIVE_ISA=avx2 keeps the kernels to AVX2 (to compare, or to rule AVX-512 out); a set
    // the CPU lacks is ignored with a note rather than giving up the kernels.
    const want = process.env.KILO_NATIVE_ISA;
    let isa = mod.isa;
    let note = '';
    if (want) {
      try {
        isa = mod.setIsa(want);
      } catch (err) {
        note = ` (KILO_NATIVE_ISA=${want} ignored: ${(err as Error).message})`;
      }
    }
    return (loaded = { mod, status: { active: true, kernel: `native ${isa}`, reason: NATIVE_MODULE_PATH + note + staleNote(NATIVE_MODULE_PATH) } });
  } catch (err) {
    return (loaded = off(`native kernels failed to load: ${(err as Error).message.split('\n')[0]}`));
  }
}

export function nativeRnnStatus(): NativeRnnStatus {
  return load().status;
}

/**
 * Use this instruction set for the kernels ('avx2' | 'avx512'), process-wide: the tests check both
 * against the tfjs path, the bench reports both. Returns the status now in effect; throws if the
 * kernels are not loaded or the CPU lacks the set. KILO_NATIVE_ISA=avx2 does the same at load.
 */
export function setNativeIsa(isa: 'avx2' | 'avx512'): NativeRnnStatus {
  const l = load();
  if (!l.mod) throw new Error(`native RNN kernels are not loaded: ${l.status.reason}`);
  const name = l.mod.setIsa(isa);
  l.status = { ...l.status, kernel: `native ${name}` };
  return l.status;
}

/** The instruction sets this CPU can run the kernels with (empty when they are not loaded). */
export function nativeIsas(): ('avx2' | 'avx512')[] {
  const { mod } = load();
  return mod ? (mod.isas.split(',').filter(Boolean) as ('avx2' | 'avx512')[]) : [];
}

let enabled = true;

/** Turn the native path off (or back on) for this thread: tests and the bench compare both paths. */
export function setNativeRnnEnabled(on: boolean): void {
  enabled = on;
}

/** Whether recurrent training in this thread uses the native kernels now. */
export function useNativeRnn(): boolean {
  return enabled && load().status.active;
}

/**
 * Workspaces are reused between batches (a ~30 MB allocation per batch costs page faults and
 * zeroing). At most 64 MB stays pooled; the least recently used shapes are dropped first, so a
 * thread that moves from GRU to LSTM training (or to predicting odd batch sizes) keeps pooling
 * what it uses now.
 */
const pool = new Map<string, Float32Array[]>();
const POOL_CAP_FLOATS = 16 * 1024 * 1024;
let pooledFloats = 0;

function takeWorkspace(mod: NativeModule, cell: number, b: number, t: number, f: number, u: number): { key: string; ws: Float32Array } {
  const key = `${cell}:${b}:${t}:${f}:${u}`;
  const hit = pool.get(key)?.pop();
  if (hit) pooledFloats -= hit.length;
  return { key, ws: hit ?? new Float32Array(mod.workspaceFloats(cell, b, t, f, u)) };
}

function giveBack(key: string, ws: Float32Array): void {
  const list = pool.get(key) ?? [];
  pool.delete(key); // re-inserted last: Map order is the recency order
  pool.set(key, list);
  if (list.length >= 2 || ws.length > POOL_CAP_FLOATS) return;
  for (const [k, l] of pool) {
    if (pooledFloats + ws.length <= POOL_CAP_FLOATS || k === key) break;
    for (const old of l.splice(0)) pooledFloats -= old.length;
    pool.delete(k);
  }
  if (pooledFloats + ws.length > POOL_CAP_FLOATS) return;
  list.push(ws);
  pooledFloats += ws.length;
}

/** Floats held by the workspace pool of this thread (for the tests). */
export function pooledWorkspaceFloats(): number {
  return pooledFloats;
}

const data = (t: tf.Tensor) => t.dataSync() as Float32Array;
const NO_DATA = new Float32Array(0);

/** One forward pass into a workspace taken from the pool; the caller gives it back. */
function forward(
  mod: NativeModule, c: number, shape: number[], units: number, x: Float32Array,
  kernel: tf.Tensor, recurrent: Float32Array, bias: tf.Tensor, recurrentBias: tf.Tensor | null,
): { out: Float32Array; key: string; ws: Float32Array } {
  const [b, t, f] = shape;
  const { key, ws } = takeWorkspace(mod, c, b, t, f, units);
  const out = new Float32Array(b * units);
  mod.forward(c, b, t, f, units, x, data(kernel), recurrent, data(bias), recurrentBias ? data(recurrentBias) : NO_DATA, ws, out);
  return { out, key, ws };
}

export function loadedModule(): NativeModule {
  const { mod } = load();
  if (!mod) throw new Error('native RNN kernels are not loaded');
  return mod;
}

/**
 * Whole-sequence recurrent layer on data input x [B, T, F], returning the last state [B, U] with
 * gradients for every weight. GRU: kernel [F, 3U], recurrent [U, 3U], bias [3U], recurrentBias [U]
 * (reset-after, as FusedGru). LSTM: kernel [F, 4U], recurrent [U, 4U], bias [4U] (as FusedLstm).
 * Call only when nativeRnnStatus().active.
 */
export function nativeRnnSequence(
  cell: 'gru' | 'lstm', x: tf.Tensor3D, kernel: tf.Tensor2D, recurrent: tf.Tensor2D, bias: tf.Tensor1D, recurrentBias: tf.Tensor1D | null, units: number,
): tf.Tensor2D {
  const mod = loadedModule();
  const c = cell === 'lstm' ? 1 : 0;
  const [b, t, f] = x.shape;
  const g = (c === 1 ? 4 : 3) * units;
  const xs = data(x);
  const body = (...args: unknown[]) => {
    const [k, r, bi] = args as tf.Tensor[];
    const recurrentData = data(r);
    const { out, key, ws } = forward(mod, c, x.shape, units, xs, k, recurrentData, bi, c === 0 ? (args[3] as tf.Tensor) : null);
    return {
      value: tf.tensor2d(out, [b, units]),
      gradFunc: (dy: tf.Tensor) => {
        const gK = new Float32Array(f * g);
        const gR = new Float32Array(units * g);
        const gB = new Float32Array(g);
        const gRb = new Float32Array(c === 0 ? units : 0);
        mod.backward(c, b, t, f, units, xs, data(dy), recurrentData, ws, gK, gR, gB, gRb);
        giveBack(key, ws);
        const grads = [tf.tensor2d(gK, [f, g]), tf.tensor2d(gR, [units, g]), tf.tensor1d(gB)];
        return c === 0 ? [...grads, tf.tensor1d(gRb)] : grads;
      },
    };
  };
  const fn = tf.customGrad(body as unknown as Parameters<typeof tf.customGrad>[0]);
  return (c === 0 ? fn(kernel, recurrent, bias, recurrentBias!) : fn(kernel, recurrent, bias)) as tf.Tensor2D;
}

/**
 * Inference: the same forward kernel, no gradient (x [B, T, F] -> last state [B, U]). Used by
 * FusedGru/FusedLstm.call for predict/evaluate of a first layer returning its last state.
 */
export function nativeRnnInfer(
  cell: 'gru' | 'lstm', x: tf.Tensor3D, kernel: tf.Tensor, recurrent: tf.Tensor, bias: tf.Tensor, recurrentBias: tf.Tensor | null, units: number,
): tf.Tensor2D {
  const [b, t, f] = x.shape;
  const out = new Float32Array(b * units);
  loadedModule().infer(cell === 'lstm' ? 1 : 0, b, t, f, units, data(x), data(kernel), data(recurrent), data(bias), recurrentBias ? data(recurrentBias) : NO_DATA, out);
  return tf.tensor2d(out, [b, units]);
}

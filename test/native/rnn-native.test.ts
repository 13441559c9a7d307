/**
 * The native recurrent kernels (native/kilo_rnn.c via src/native/rnn.ts) against the tfjs
 * whole-sequence path they replace: same last state and the same gradient for every weight, on
 * sizes that hit the kernels' edge cases (units not a multiple of 8 or 16, batch not a multiple of
 * the 6- or 12-row GEMM tiles or the 24-row blocks) and on the production shape, for each
 * instruction set the CPU has (AVX2+FMA, AVX-512F). Then one real training through trainRnn on
 * each path, which must learn the same synthetic task. The whole-classifier step (loss, Adam,
 * predict) is checked in rnn-train-native.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type * as tfNs from '@tensorflow/tfjs';
import { initTf, type Tf } from '../../src/models/tf-backend.js';
import { FusedGru, FusedLstm, mulberry32, trainRnn } from '../../src/models/rnn/index.js';
import { NATIVE_MODULE_PATH, nativeIsas, nativeRnnStatus, setNativeIsa, setNativeRnnEnabled, useNativeRnn } from '../../src/native/rnn.js';

let tf: Tf;
beforeAll(async () => {
  tf = (await initTf()).tf;
});
afterEach(() => setNativeRnnEnabled(true));

const headers = [join(dirname(dirname(process.execPath)), 'include', 'node', 'node_api.h'), '/usr/include/node/node_api.h'];
const canBuild = process.arch === 'x64' && headers.some(existsSync) && spawnSync('cc', ['--version']).status === 0;

describe('native kernel build', () => {
  it('is built and active on a machine with a C compiler and Node headers (npm ci builds it)', () => {
    if (!canBuild) {
      // Not a skip: on such a machine the fallback must say why, for kilo doctor.
      expect(nativeRnnStatus().active).toBe(false);
      expect(nativeRnnStatus().reason).toMatch(/native kernels/);
      return;
    }
    expect(existsSync(NATIVE_MODULE_PATH), `${NATIVE_MODULE_PATH} missing: run node native/build.mjs --strict`).toBe(true);
    // The widest instruction set the CPU has is chosen at load.
    const cpu = readFileSync('/proc/cpuinfo', 'utf8');
    expect(nativeRnnStatus()).toMatchObject({ active: true, kernel: / avx512f\b/.test(cpu) ? 'native avx512f' : 'native avx2+fma' });
    expect(nativeIsas()).toEqual(/ avx512f\b/.test(cpu) ? ['avx2', 'avx512'] : ['avx2']);
    expect(setNativeIsa('avx2').kernel).toBe('native avx2+fma');
    setNativeIsa(nativeIsas().at(-1)!);
    expect(useNativeRnn()).toBe(true);
    setNativeRnnEnabled(false);
    expect(useNativeRnn()).toBe(false);
  });
});

describe.runIf(canBuild)('KILO_NATIVE_ISA', () => {
  it('=avx2 keeps the kernels to AVX2; an unknown set is ignored with a note, the kernels stay on', () => {
    expect(probeStatus({ KILO_NATIVE_ISA: 'avx2' })).toMatchObject({ active: true, kernel: 'native avx2+fma', used: true });
    const bogus = probeStatus({ KILO_NATIVE_ISA: 'sse9' });
    expect(bogus).toMatchObject({ active: true, kernel: nativeRnnStatus().kernel });
    expect(bogus.reason).toMatch(/KILO_NATIVE_ISA=sse9 ignored: isa must be 'avx2' or 'avx512'/);
  });
});

describe('native/build.mjs without a compiler', () => {
  it('leaves npm ci green, says why in one line and keeps the reason for kilo doctor; --strict fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kilo-native-build-'));
    try {
      cpSync(join(process.cwd(), 'native'), join(dir, 'native'), { recursive: true });
      const env = { ...process.env, CC: join(dir, 'no-such-cc') };
      const soft = spawnSync(process.execPath, [join(dir, 'native', 'build.mjs')], { env, encoding: 'utf8' });
      expect(soft.status).toBe(0);
      expect(soft.stderr).toMatch(/native RNN kernels not built \(compile failed: .*no-such-cc.*\); training will use the tfjs wasm path/);
      expect(readFileSync(join(dir, 'build', 'native', 'build-error.txt'), 'utf8')).toMatch(/no-such-cc/);
      expect(existsSync(join(dir, 'build', 'native', 'kilo_rnn.node'))).toBe(false);
      const strict = spawnSync(process.execPath, [join(dir, 'native', 'build.mjs'), '--strict'], { env, encoding: 'utf8' });
      expect(strict.status).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** nativeRnnStatus() (and whether training would use the kernels) in a fresh process with `env`. */
function probeStatus(env: Record<string, string>): { active: boolean; kernel: string; reason: string; used: boolean } {
  const probe = `import('${join(process.cwd(), 'src', 'native', 'rnn.ts')}').then((m) => console.log(JSON.stringify({ ...m.nativeRnnStatus(), used: m.useNativeRnn() })))`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', probe], { env: { ...process.env, ...env }, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

/** Builds native/kilo_rnn.c into dir/name with extra -D flags (as build.mjs, at -O1 to keep the test short). */
function buildVariant(dir: string, name: string, defines: string[]): string {
  const mod = join(dir, name);
  const inc = dirname(headers.find(existsSync)!);
  const cc = spawnSync('cc', ['-O1', '-fPIC', '-shared', ...defines.map((d) => `-D${d}`), '-DNODE_GYP_MODULE_NAME=kilo_rnn', `-I${inc}`, '-o', mod, join(process.cwd(), 'native', 'kilo_rnn.c')], { encoding: 'utf8' });
  expect(cc.status, cc.stderr).toBe(0);
  return mod;
}

describe.runIf(canBuild)('a stale native build', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kilo-native-stale-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is refused with the reason (abi mismatch) and training falls back to tfjs ops', () => {
    const status = probeStatus({ KILO_NATIVE_MODULE: buildVariant(dir, 'stale.node', ['KILO_RNN_ABI=0']) });
    expect(status).toMatchObject({ active: false, kernel: 'tfjs', used: false });
    expect(status.reason).toMatch(/stale build \(abi 0, expected 2\): run npm run build:native/);
  });

  it('with the current ABI but older than the kernel sources is used, and the status says to rebuild', () => {
    const mod = join(dir, 'old.node');
    cpSync(NATIVE_MODULE_PATH, mod);
    utimesSync(mod, new Date('2000-01-01'), new Date('2000-01-01'));
    const status = probeStatus({ KILO_NATIVE_MODULE: mod });
    expect(status).toMatchObject({ active: true, used: true });
    expect(status.reason).toMatch(/built before native\/kilo_rnn\.c.*changed: run npm run build:native/);
  });
});

// The CPU's instruction sets cannot be taken away in a test: these builds act as on an older CPU
// (compile-time KILO_RNN_TEST_NO_* flags that native/build.mjs never sets).
describe.runIf(canBuild)('on a CPU lacking an instruction set', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kilo-native-isa-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('without AVX-512F the AVX2 kernels are chosen; KILO_NATIVE_ISA=avx512 is ignored with the reason', () => {
    const mod = buildVariant(dir, 'no512.node', ['KILO_RNN_TEST_NO_AVX512']);
    expect(probeStatus({ KILO_NATIVE_MODULE: mod })).toMatchObject({ active: true, kernel: 'native avx2+fma', used: true });
    const forced = probeStatus({ KILO_NATIVE_MODULE: mod, KILO_NATIVE_ISA: 'avx512' });
    expect(forced).toMatchObject({ active: true, kernel: 'native avx2+fma', used: true });
    expect(forced.reason).toMatch(/KILO_NATIVE_ISA=avx512 ignored: this CPU lacks AVX-512F/);
  });

  it('without AVX2/FMA the kernels stay off with the reason and training uses tfjs ops', () => {
    const status = probeStatus({ KILO_NATIVE_MODULE: buildVariant(dir, 'noavx2.node', ['KILO_RNN_TEST_NO_AVX2']) });
    expect(status).toMatchObject({ active: false, kernel: 'tfjs', used: false });
    expect(status.reason).toBe('native kernels unavailable: this CPU lacks AVX2/FMA');
  });
});

function rand(shape: number[], seed: number, scale = 1): tfNs.Tensor {
  const rng = mulberry32(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (rng() * 2 - 1) * scale), shape);
}

/** Relative max difference, scaled by the reference's largest magnitude. */
function relDiff(a: tfNs.Tensor, b: tfNs.Tensor): number {
  return tf.tidy(() => {
    const d = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
    const m = tf.max(tf.abs(b)).dataSync()[0];
    return d / Math.max(m, 1e-6);
  });
}

/** Output and weight gradients of one training-mode call, on the path chosen by `native`. */
function run(layer: FusedGru | FusedLstm, x: tfNs.Tensor3D, w: tfNs.Tensor, native: boolean) {
  setNativeRnnEnabled(native);
  const vars = layer.trainableWeights.map((v) => (v as unknown as { val: tfNs.Variable }).val);
  const f = () => tf.sum(tf.mul(layer.apply(x, { training: true }) as tfNs.Tensor, w)) as tfNs.Scalar;
  const { value, grads } = tf.variableGrads(f, vars);
  const out = layer.apply(x, { training: true }) as tfNs.Tensor;
  return { value: value.dataSync()[0], out, grads: vars.map((v) => grads[v.name]) };
}

const sizes = [
  { b: 7, t: 5, f: 3, u: 12 }, // tails everywhere: 12 units, 7 rows, 3 features
  { b: 13, t: 9, f: 28, u: 8 },
  { b: 50, t: 6, f: 5, u: 24 }, // two full 24-row blocks and a tail of 2; 24 units = 16 + a masked 8
  { b: 64, t: 48, f: 28, u: 64 }, // the production shape, smaller batch
];

/** Every instruction set this CPU runs (just ['avx2'] on an AVX2-only machine). */
const isas = canBuild ? nativeIsas() : [];

describe.runIf(canBuild).each(isas)('native kernels (%s) match the tfjs path', (isa) => {
  beforeAll(() => {
    setNativeIsa(isa);
  });
  afterAll(() => {
    setNativeIsa(isas.at(-1)!);
  });
  for (const [name, Cls] of [['gru', FusedGru], ['lstm', FusedLstm]] as const) {
    for (const s of sizes) {
      it(`${name} B${s.b} T${s.t} F${s.f} U${s.u}: same last state (training and inference) and weight gradients`, () => {
        const x = rand([s.b, s.t, s.f], 11) as tfNs.Tensor3D;
        const layer = new Cls({ units: s.u, inputIsData: true, seed: 5 });
        layer.apply(x);
        // Non-zero biases exercise every gate's bias path.
        layer.setWeights(layer.getWeights().map((v, i) => (i >= 2 ? rand(v.shape, 20 + i, 0.5) : v)));
        const w = rand([s.b, s.u], 3);
        const nat = run(layer, x, w, true);
        const ref = run(layer, x, w, false);
        expect(relDiff(nat.out, ref.out)).toBeLessThan(2e-5);
        expect(Math.abs(nat.value - ref.value) / Math.max(1, Math.abs(ref.value))).toBeLessThan(1e-4);
        // Inference (predict / evaluate) runs the same forward kernel.
        setNativeRnnEnabled(true);
        const inferNative = layer.apply(x) as tfNs.Tensor;
        setNativeRnnEnabled(false);
        expect(relDiff(inferNative, layer.apply(x) as tfNs.Tensor)).toBeLessThan(2e-5);
        expect(nat.grads.length).toBe(name === 'gru' ? 4 : 3);
        nat.grads.forEach((g, i) => {
          expect(g.shape).toEqual(ref.grads[i].shape);
          expect(relDiff(g, ref.grads[i]), `gradient of ${layer.trainableWeights[i].name}`).toBeLessThan(1e-4);
        });
      });
    }
  }

  it('a bad call is a clear error, not a crash', () => {
    const x = rand([4, 3, 2], 1) as tfNs.Tensor3D;
    const layer = new FusedGru({ units: 4, inputIsData: true });
    layer.apply(x);
    // A kernel tensor of the wrong size: the native side checks every length before touching memory.
    const wrong = tf.zeros([2, 6]) as tfNs.Tensor2D;
    return import('../../src/native/rnn.js').then(({ nativeRnnSequence }) => {
      expect(() => nativeRnnSequence('gru', x, wrong, tf.zeros([4, 12]) as tfNs.Tensor2D, tf.zeros([12]) as tfNs.Tensor1D, tf.zeros([4]) as tfNs.Tensor1D, 4)).toThrow(/kernel has 12 values, needs 24/);
    });
  });

  it('a NaN input shows up as NaN in its own window only (the gates never hide it)', async () => {
    const { nativeRnnSequence } = await import('../../src/native/rnn.js');
    const v = new Float32Array(2 * 3 * 2).fill(0.1);
    v[0] = NaN;
    const x = tf.tensor3d(v, [2, 3, 2]);
    const full = (shape: number[]) => tf.fill(shape, 0.1);
    const out = nativeRnnSequence('gru', x, full([2, 24]) as tfNs.Tensor2D, full([8, 24]) as tfNs.Tensor2D, tf.zeros([24]) as tfNs.Tensor1D, tf.zeros([8]) as tfNs.Tensor1D, 8).arraySync();
    expect(out[0].every(Number.isNaN)).toBe(true);
    expect(out[1].every(Number.isFinite)).toBe(true);
  });

  it('trainRnn learns the same synthetic task on both paths', async () => {
    // Label = sign of the sum of feature 0 over the last 3 steps: learnable by any recurrent net.
    const n = 1200, t = 8, f = 4;
    const rng = mulberry32(9);
    const make = (count: number) => {
      const x = new Float32Array(count * t * f);
      const y = new Uint8Array(count);
      for (let i = 0; i < x.length; i++) x[i] = rng() * 2 - 1;
      for (let i = 0; i < count; i++) {
        let s = 0;
        for (let k = t - 3; k < t; k++) s += x[(i * t + k) * f];
        y[i] = s > 0.3 ? 2 : s < -0.3 ? 0 : 1;
      }
      return { x, y, n: count, window: t, nFeatures: f };
    };
    const train = make(n), val = make(300);
    const acc: Record<string, number> = {};
    for (const native of [true, false]) {
      setNativeRnnEnabled(native);
      const r = await trainRnn(tf, train, val, { cell: 'gru', units: 16, epochs: 12, batchSize: 64, seed: 3, learningRate: 0.01 });
      acc[String(native)] = r.history[r.bestEpoch - 1].valAccuracy;
      r.model.dispose();
    }
    expect(acc.true).toBeGreaterThan(0.6);
    expect(Math.abs(acc.true - acc.false)).toBeLessThan(0.08);
  });
});

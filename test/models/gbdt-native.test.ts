/**
 * The native tree grower (native/kilo_gbdt.c via src/models/gbdt/native.ts) against the TypeScript
 * grower it stands in for: the model files must be identical byte for byte, on one thread and on
 * two, across the code paths that differ (shared or per-class roots, feature blocks not a multiple
 * of 4, NaN and constant features, 2/3/4 classes, shallow trees where the larger child is only
 * scanned, sampling, early stopping) and on real candles. Then the ways it must fail safe: a
 * missing or stale build falls back with the reason, a model it trained loads without it, bad
 * arguments throw instead of reading out of bounds.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDataset } from '../../src/features/dataset.js';
import {
  GbdtGrowerUnavailableError,
  GbdtModel,
  mulberry32,
  NATIVE_GBDT_PATH,
  nativeGbdtStatus,
  trainGbdt,
  type GbdtDataset,
  type GbdtParams,
  type GrowerInfo,
  type TrainGbdtOptions,
} from '../../src/models/gbdt/index.js';
import { readCandles } from '../../bench/data.js';

const headers = [join(dirname(dirname(process.execPath)), 'include', 'node', 'node_api.h'), '/usr/include/node/node_api.h'];
const canBuild = headers.some(existsSync) && spawnSync('cc', ['--version']).status === 0;
const active = nativeGbdtStatus().active;
const candles = join(process.cwd(), '..', 'shared', 'data', 'ohlcv', 'BTC-USDT-1h.csv');

/** n x nCols: informative columns, NaNs, a binary and a constant column; labels in 0..K-1. */
function synth(n: number, nCols: number, K: number, seed: number): GbdtDataset {
  const rand = mulberry32(seed);
  const data = new Float32Array(n * nCols);
  const labels = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    const row = data.subarray(r * nCols, (r + 1) * nCols);
    for (let j = 0; j < nCols; j++) row[j] = rand() * 2 - 1;
    row[1] = rand() < 0.5 ? 0 : 1;
    row[nCols - 1] = 3;
    if (r % 7 === 0) row[2] = NaN;
    const s = row[0] + 0.5 * row[1] * row[3] + (rand() - 0.5) * 0.6;
    labels[r] = Math.min(K - 1, Math.max(0, Math.floor(((s + 1.5) / 3) * K)));
  }
  return { data, nRows: n, nCols, labels };
}

async function fit(d: GbdtDataset, opts: TrainGbdtOptions): Promise<{ json: string; info: GrowerInfo; model: GbdtModel }> {
  let info: GrowerInfo | undefined;
  const model = await trainGbdt(d, { ...opts, onGrower: (g) => (info = g) });
  return { json: JSON.stringify(model.toJSON()), info: info!, model };
}

/** The model file of every grower; all must equal the TypeScript grower's. */
async function expectSameModels(d: GbdtDataset, params: Partial<GbdtParams>, valid?: GbdtDataset): Promise<GbdtModel> {
  const ts = await fit(d, { params, valid, grower: 'typescript' });
  expect(ts.info.kind).toBe('typescript');
  for (const threads of [1, 2]) {
    const nat = await fit(d, { params, valid, grower: 'native', threads });
    expect(nat.info).toMatchObject({ kind: 'native', threads });
    expect(nat.json.length).toBe(ts.json.length);
    expect(nat.json === ts.json, `native ${threads} thread(s) differs from TypeScript for ${JSON.stringify(params)}`).toBe(true);
  }
  return ts.model;
}

describe('native tree grower build', () => {
  it('is built and active on a machine with a C compiler and Node headers (npm ci builds it)', () => {
    if (!canBuild) {
      // Not a skip: without a compiler the fallback must say why, for kilo doctor.
      expect(nativeGbdtStatus()).toMatchObject({ active: false, kernel: 'typescript' });
      expect(nativeGbdtStatus().reason).toMatch(/native tree grower/);
      return;
    }
    expect(existsSync(NATIVE_GBDT_PATH), `${NATIVE_GBDT_PATH} missing: run npm run build:native`).toBe(true);
    expect(nativeGbdtStatus()).toMatchObject({ active: true, kernel: 'native' });
  });
});

describe.runIf(active)('native and TypeScript growers', () => {
  it('grow identical models: 3 classes, shared roots, 11 features (a partial block), NaN, binary and constant columns, 1 and 2 threads', async () => {
    const d = synth(3000, 11, 3, 1);
    const m = await expectSameModels(d, { rounds: 25, maxDepth: 6 });
    // Not a degenerate model: it learned something and used more than one feature.
    expect(m.history.at(-1)!.trainLoss).toBeLessThan(m.history[0].trainLoss * 0.9);
    expect(m.featureImportance().filter((f) => f.splits > 0).length).toBeGreaterThan(2);
  });

  it('grow identical models with row and column sampling (per-class roots, masked features)', async () => {
    await expectSameModels(synth(2500, 9, 3, 2), { rounds: 20, maxDepth: 5, subsample: 0.7, colsampleBytree: 0.6, seed: 11 });
  });

  it('grow identical models for 2 and 4 classes, depths 1-3 (no children scanned, only larger children scanned), gamma, lambda 0, heavier leaves', async () => {
    await expectSameModels(synth(1500, 6, 2, 3), { nClasses: 2, rounds: 15, maxDepth: 1 });
    await expectSameModels(synth(1500, 6, 4, 4), { nClasses: 4, rounds: 15, maxDepth: 2, gamma: 0.5 });
    await expectSameModels(synth(1500, 13, 3, 5), { rounds: 15, maxDepth: 3, lambda: 0, minChildWeight: 5, maxBins: 16 });
  });

  it('stop early at the same round with a validation set', async () => {
    const train = synth(1200, 7, 3, 6);
    const valid = synth(400, 7, 3, 7);
    const m = await expectSameModels(train, { rounds: 200, eta: 0.3, maxDepth: 6, earlyStoppingRounds: 5 }, valid);
    expect(m.nRounds).toBeLessThan(200);
  });

  it.runIf(existsSync(candles))('grow identical models on real BTC/USDT hourly candles (kilo features)', async () => {
    const ds = buildDataset(readCandles(candles).slice(-8000), { horizon: 1, threshold: 0.002, window: 1, validationFraction: 0.15, testFraction: 0.15 });
    const nc = ds.matrix.nCols;
    const { start, end } = ds.split.train;
    const train = { data: ds.raw.slice(start * nc, end * nc), nRows: end - start, nCols: nc, labels: ds.labels.slice(start, end) };
    await expectSameModels(train, { rounds: 40, maxDepth: 6 });
  });

  it("'native' throws when the build is not there; 'auto' falls back to TypeScript, saying why", () => {
    const probe = `
      const m = await import(${JSON.stringify(join(process.cwd(), 'src/models/gbdt/index.ts'))});
      const d = { data: new Float32Array(200).map((_, i) => (i * 7919) % 13), nRows: 100, nCols: 2, labels: new Uint8Array(100).map((_, i) => i % 3) };
      let info;
      await m.trainGbdt(d, { params: { rounds: 2 }, onGrower: (g) => (info = g) });
      const err = await m.trainGbdt(d, { params: { rounds: 2 }, grower: 'native' }).catch((e) => e);
      console.log(JSON.stringify({ status: m.nativeGbdtStatus(), info, err: err?.name }));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], {
      env: { ...process.env, KILO_GBDT_NATIVE_MODULE: join(tmpdir(), 'no-such-dir', 'kilo_gbdt.node') },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.status).toMatchObject({ active: false, kernel: 'typescript' });
    expect(out.status.reason).toMatch(/native tree grower missing .*npm run build:native/);
    expect(out.info).toMatchObject({ kind: 'typescript', threads: 1 });
    expect(out.info.reason).toBe(out.status.reason);
    expect(out.err).toBe(GbdtGrowerUnavailableError.name);
  });

  it('a model it trained loads and predicts identically in a process with the native grower off', async () => {
    const d = synth(800, 5, 3, 8);
    const { json, model } = await fit(d, { params: { rounds: 10 }, grower: 'native', threads: 2 });
    const dir = mkdtempSync(join(tmpdir(), 'kilo-gbdt-native-'));
    try {
      writeFileSync(join(dir, 'model.json'), json);
      writeFileSync(join(dir, 'x.f32'), new Uint8Array(d.data.buffer));
      const probe = `
        const fs = await import('node:fs');
        const m = await import(${JSON.stringify(join(process.cwd(), 'src/models/gbdt/index.ts'))});
        const model = m.GbdtModel.fromJSON(JSON.parse(fs.readFileSync(${JSON.stringify(join(dir, 'model.json'))}, 'utf8')));
        const x = new Float32Array(fs.readFileSync(${JSON.stringify(join(dir, 'x.f32'))}).buffer.slice(0));
        console.log(JSON.stringify({ native: m.nativeGbdtStatus().active, p: Array.from(model.predictProba(x)) }));`;
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], { env: { ...process.env, KILO_GBDT_NATIVE: '0' }, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
      expect(out.native).toBe(false);
      expect(out.p).toEqual(Array.from(model.predictProba(d.data)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('computes the softmax gradients bit for bit like softmax.ts, on 1 and 2 threads; its exp is as good as Math.exp', async () => {
    const { exp, softmaxGradients } = await import('../../src/models/gbdt/softmax.js');
    const rand = mulberry32(5);
    // Its own exp, so C can match it; within an ulp of Math.exp (V8 uses the same fdlibm algorithm,
    // so today they agree to the bit, which this does not rely on).
    let worst = 0;
    for (let i = 0; i < 200_000; i++) {
      const x = i % 2 ? -rand() * 50 : (rand() * 2 - 1) * 700;
      worst = Math.max(worst, Math.abs(exp(x) - Math.exp(x)) / Math.exp(x));
    }
    expect(worst).toBeLessThanOrEqual(2 ** -52);
    for (const [x, want] of [[0, 1], [-0, 1], [1, Math.E], [-746, 0], [710, Infinity]] as const) expect(exp(x)).toBe(want);
    expect(exp(NaN)).toBeNaN();
    expect(exp(-745) / Math.exp(-745)).toBeCloseTo(1, 0);
    const mod = createRequire(import.meta.url)(NATIVE_GBDT_PATH);
    const N = 4001;
    const K = 3;
    const margin = Float64Array.from({ length: N * K }, (_, i) => (i % 97 === 0 ? -800 : i % 89 === 0 ? 40 : (rand() * 2 - 1) * 8));
    const labels = Uint8Array.from({ length: N }, () => Math.floor(rand() * K));
    const ghTs = new Float64Array(2 * K * N);
    const pyTs = new Float64Array(N);
    softmaxGradients(margin, labels, N, K, ghTs, pyTs, new Float64Array(K));
    for (const threads of [1, 2]) {
      const g = mod.createGrower(new Uint8Array(N), N, 1, Int32Array.of(2), new Uint8Array(0), 0, K, 3, 1, 1, 0, 0.1, threads);
      const gh = new Float64Array(2 * K * N);
      const py = new Float64Array(N);
      mod.gradients(g, margin, labels, gh, py);
      mod.closeGrower(g);
      expect(Buffer.from(gh.buffer).equals(Buffer.from(ghTs.buffer)), `gh, ${threads} thread(s)`).toBe(true);
      expect(Buffer.from(py.buffer).equals(Buffer.from(pyTs.buffer)), `py, ${threads} thread(s)`).toBe(true);
    }
    const g = mod.createGrower(new Uint8Array(N), N, 1, Int32Array.of(2), new Uint8Array(0), 0, K, 3, 1, 1, 0, 0.1, 1);
    expect(() => mod.gradients(g, margin, labels.map(() => 3), ghTs, pyTs)).toThrow(/label is not below nClasses/);
    expect(() => mod.gradients(g, margin.subarray(1), labels, ghTs, pyTs)).toThrow(/margin has 12002 elements, needs 12003/);
    mod.closeGrower(g);
  });

  it('refuses bad arguments with a clear error instead of reading out of bounds, and a closed grower', () => {
    const mod = createRequire(import.meta.url)(NATIVE_GBDT_PATH);
    const nBins = Int32Array.of(4, 4);
    const none = new Uint8Array(0);
    expect(() => mod.createGrower(new Uint8Array(10), 100, 2, nBins, none, 0, 3, 6, 1, 1, 0, 0.1, 1)).toThrow(/bins has 10 elements, needs 200/);
    expect(() => mod.createGrower(new Uint8Array(200), 100, 2, nBins, none, 5, 3, 6, 1, 1, 0, 0.1, 1)).toThrow(/validBins has 0 elements, needs 10/);
    expect(() => mod.createGrower(new Uint8Array(200), 100, 2, Int32Array.of(4, 300), none, 0, 3, 6, 1, 1, 0, 0.1, 1)).toThrow(/nBins must be in \[1, 256\]/);
    const g = mod.createGrower(new Uint8Array(200), 100, 2, nBins, none, 0, 3, 2, 1, 1, 0, 0.1, 2);
    const M = 7;
    const args = (rows: Int32Array) => [
      g, new Float64Array(600), rows, Int32Array.of(100, 100, 100), new Uint8Array(6).fill(1), new Float64Array(300), new Float64Array(0),
      new Int32Array(3 * M), new Int32Array(3 * M), new Int32Array(3 * M), new Int32Array(3 * M), new Float64Array(3 * M), new Float64Array(3 * M), new Int32Array(3),
    ];
    const bad = new Int32Array(300);
    bad[5] = 100;
    expect(() => mod.growRound(...args(bad))).toThrow(/row index out of range/);
    expect(() => mod.growRound(g, new Float64Array(10), ...args(new Int32Array(300)).slice(2))).toThrow(/gh has 10 elements, needs 600/);
    mod.growRound(...args(new Int32Array(300)));
    mod.closeGrower(g);
    mod.closeGrower(g);
    expect(() => mod.growRound(...args(new Int32Array(300)))).toThrow(/grower is closed/);
  });
});

describe.runIf(canBuild)('the helper-thread protocol, in C', () => {
  it('has no data race (ThreadSanitizer) and grows the same trees on 2 threads as on 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kilo-gbdt-tsan-'));
    try {
      const exe = join(dir, 'gbdt-threads');
      const sources = ['kilo_gbdt_grow.c', 'kilo_gbdt_hist.c'].map((f) => join(process.cwd(), 'native', f));
      const build = (extra: string[]) =>
        spawnSync('cc', ['-O1', '-g', ...extra, '-pthread', '-ffp-contract=off', `-I${join(process.cwd(), 'native')}`, '-o', exe, join(process.cwd(), 'test/models/gbdt-threads.c'), ...sources, '-lm'], { encoding: 'utf8' });
      const run = () => spawnSync(exe, ['1500', '20'], { encoding: 'utf8', timeout: 120_000 });
      // A compiler without ThreadSanitizer's runtime, or a kernel whose address layout its runtime
      // cannot start under (it exits with FATAL before main, reporting no race), still checks
      // 1 thread == 2 threads, without the sanitizer, and says so.
      const tsan = build(['-fsanitize=thread']);
      let r = tsan.status === 0 ? run() : undefined;
      const noTsan = !r ? `compiler: ${tsan.stderr.trim().split('\n')[0]}` : /FATAL: ThreadSanitizer/.test(r.stderr) && !/WARNING: ThreadSanitizer/.test(r.stderr) ? `runtime: ${r.stderr.trim().split('\n')[0]}` : '';
      if (noTsan) {
        console.warn(`gbdt-threads runs without ThreadSanitizer (${noTsan})`);
        const plain = build([]);
        expect(plain.status, plain.stderr).toBe(0);
        r = run();
      }
      r = r!;
      expect(r.stderr).not.toMatch(/ThreadSanitizer/);
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/1 and 2 threads identical/);
      expect(r.stdout).toMatch(/threads 2: \d+ jobs/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.runIf(canBuild)('a stale native build', () => {
  it('is refused with the reason (abi mismatch) and the trees train on the TypeScript grower', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kilo-gbdt-stale-'));
    try {
      const mod = join(dir, 'stale.node');
      const inc = dirname(headers.find(existsSync)!);
      const sources = ['kilo_gbdt.c', 'kilo_gbdt_grow.c', 'kilo_gbdt_hist.c'].map((f) => join(process.cwd(), 'native', f));
      const cc = spawnSync('cc', ['-O1', '-fPIC', '-shared', '-pthread', '-DKILO_GBDT_ABI=0', '-DNODE_GYP_MODULE_NAME=kilo_gbdt', `-I${inc}`, '-o', mod, ...sources], { encoding: 'utf8' });
      expect(cc.status, cc.stderr).toBe(0);
      const probe = `
        const m = await import(${JSON.stringify(join(process.cwd(), 'src/models/gbdt/index.ts'))});
        const d = { data: new Float32Array(200).map((_, i) => (i * 7919) % 13), nRows: 100, nCols: 2, labels: new Uint8Array(100).map((_, i) => i % 3) };
        let info;
        await m.trainGbdt(d, { params: { rounds: 2 }, onGrower: (g) => (info = g) });
        console.log(JSON.stringify({ status: m.nativeGbdtStatus(), info }));`;
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], { env: { ...process.env, KILO_GBDT_NATIVE_MODULE: mod }, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
      expect(out.status).toMatchObject({ active: false, kernel: 'typescript' });
      expect(out.status.reason).toMatch(/stale build \(abi 0, expected 1\): run npm run build:native/);
      expect(out.info.kind).toBe('typescript');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('kilo doctor', () => {
  it("reports the tree grower: native with its path, or TypeScript with the build's reason and a fix", async () => {
    const { gbdtGrowerCheck } = await import('../../src/doctor/checks.js');
    const here = await gbdtGrowerCheck();
    if (active) expect(here).toMatchObject({ name: 'tree grower', status: 'ok', detail: `native (${NATIVE_GBDT_PATH})` });
    else expect(here).toMatchObject({ name: 'tree grower', status: 'warn' });
    const probe = `
      const { gbdtGrowerCheck } = await import(${JSON.stringify(join(process.cwd(), 'src/doctor/checks.ts'))});
      console.log(JSON.stringify(await gbdtGrowerCheck()));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], {
      env: { ...process.env, KILO_GBDT_NATIVE_MODULE: join(tmpdir(), 'no-such-dir', 'kilo_gbdt.node') },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const off = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(off).toMatchObject({ name: 'tree grower', status: 'warn' });
    expect(off.detail).toMatch(/^typescript: native tree grower missing \(not built\)/);
    expect(off.fix).toMatch(/build:native/);
  });
});

/**
 * kilo's GBDT vs LightGBM and XGBoost on the same split, same hyper-parameters (200 rounds, depth 6,
 * eta 0.1, 255 bins, lambda 1, min child weight 1). Builds features + labels from real Binance
 * hourly candles (../shared/data/ohlcv) with kilo's own feature code, time-splits them, writes the
 * split as float32/uint8 files, then measures every contender in a fresh process on those files,
 * interleaved round by round (kilo native 1 and 2 threads, kilo's TypeScript grower, LightGBM 1 and
 * 2 threads, XGBoost 1 thread), and prints medians, ratios, accuracies and the load average.
 * `npm run bench -- gbdt`, or `node --import tsx bench/gbdt.bench.ts [BTC-USDT ETH-USDT]`;
 * GBDT_BENCH_REPS (default 3) sets the rounds.
 * Peers: LightGBM from the default `python3` (pip), XGBoost from Debian's /usr/bin/python3
 * (python3-xgboost); a missing peer is reported and skipped.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDataset } from '../src/features/dataset.js';
import { DEFAULT_GBDT_PARAMS, nativeGbdtStatus } from '../src/models/gbdt/index.js';
import { DATA, median, readCandles, requireData } from './data.js';

const here = dirname(fileURLToPath(import.meta.url));
const symbols = process.argv.slice(2).length ? process.argv.slice(2) : ['BTC-USDT', 'ETH-USDT'];
const params = { ...DEFAULT_GBDT_PARAMS, rounds: 200, maxDepth: 6, eta: 0.1, maxBins: 255 };
const reps = Math.max(1, Number(process.env.GBDT_BENCH_REPS ?? 3));

interface Run {
  fit_s: number;
  /** CPU seconds of the fit (user + system, all threads): on a shared machine the fairer figure. */
  cpu_s?: number;
  val_acc: number;
  test_acc: number;
  predict_row_ms: number;
  version: string;
  threads: number;
  model_sha256?: string;
  mean_leaves?: number;
  model_kb?: number;
  helper?: { jobs: number; offered: number; chunks: number; helperChunks: number; waitMs: number };
}

interface Contender {
  key: string;
  label: string;
  cmd: string;
  args: (dir: string) => string[];
  env?: NodeJS.ProcessEnv;
  /** Maps the peer's JSON line to a Run. */
  parse: (line: Record<string, unknown>) => Run;
}

const asRun = (x: Record<string, unknown>): Run => x as unknown as Run;
const kilo = (grower: 'native' | 'typescript', threads: number): Contender => ({
  key: `kilo-${grower}-${threads}`,
  label: `kilo ${grower} ${threads}T`,
  cmd: process.execPath,
  args: (dir) => ['--import', 'tsx', join(here, 'peers/kilo_gbdt.ts'), dir, grower, String(threads)],
  parse: asRun,
});
const lightgbm = (threads: number): Contender => ({
  key: `lightgbm-${threads}`,
  label: `lightgbm ${threads}T`,
  cmd: 'python3',
  args: (dir) => [join(here, 'peers/lightgbm_peer.py'), dir, String(threads)],
  // OpenMP threads that spin while they wait make a 2-thread LightGBM crawl (minutes) on a machine
  // whose cores are taken by others; passive waiting is its best case there. GBDT_BENCH_OMP_WAIT=ACTIVE restores the default.
  env: { ...process.env, OMP_WAIT_POLICY: process.env.GBDT_BENCH_OMP_WAIT ?? 'PASSIVE' },
  parse: asRun,
});
const xgboost = (threads: number): Contender => ({
  key: `xgboost-${threads}`,
  label: `xgboost ${threads}T`,
  cmd: '/usr/bin/python3',
  args: (dir) => [join(here, 'peers/xgb_peer.py'), dir, String(threads)],
  parse: (x) => ({ ...asRun(x), version: String(x.xgboost), threads: Number(x.nthread) }),
});

function available(cmd: string, module: string): boolean {
  return spawnSync(cmd, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
}

function contenders(): Contender[] {
  const out: Contender[] = [];
  const native = nativeGbdtStatus();
  if (native.active) out.push(kilo('native', 1), kilo('native', 2));
  else console.log(`kilo native grower unavailable (${native.reason}): TypeScript grower only`);
  out.push(kilo('typescript', 1));
  if (available('python3', 'lightgbm')) out.push(lightgbm(1), lightgbm(2));
  else console.log('lightgbm peer absent (python3 -c "import lightgbm" failed; pip install lightgbm): skipped');
  if (existsSync('/usr/bin/python3') && available('/usr/bin/python3', 'xgboost')) out.push(xgboost(1));
  else console.log('xgboost peer absent (/usr/bin/python3 -c "import xgboost" failed; apt-get install python3-xgboost): skipped');
  return out;
}

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const pts = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}`;

function run(c: Contender, dir: string): Run | string {
  const r = spawnSync(c.cmd, c.args(dir), { encoding: 'utf8', maxBuffer: 1 << 20, env: c.env });
  if (r.status !== 0) {
    const lines = (r.stderr || r.error?.message || '').trim().split('\n');
    const why = lines.find((l) => /Error|error:/.test(l)) ?? lines.slice(-2).join(' | ');
    return `${c.label} failed (${r.status ?? r.signal}): ${why.trim()}`;
  }
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return c.parse(JSON.parse(line) as Record<string, unknown>);
}

function writeSplit(stem: string): string | undefined {
  const file = join(DATA, `${stem}-1h.csv`);
  if (!existsSync(file)) {
    console.log(`${stem}: ${file} not found, skipped`);
    return undefined;
  }
  const candles = readCandles(file);
  const ds = buildDataset(candles, { horizon: 1, threshold: 0.002, window: 1, validationFraction: 0.15, testFraction: 0.15 });
  const nc = ds.matrix.nCols;
  const dir = mkdtempSync(join(tmpdir(), 'kilo-gbdt-bench-'));
  const parts = { train: ds.split.train, valid: ds.split.validation, test: ds.split.test };
  for (const [name, r] of Object.entries(parts)) {
    const x = ds.raw.slice(r.start * nc, r.end * nc);
    writeFileSync(join(dir, `${name}_X.f32`), new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
    writeFileSync(join(dir, `${name}_y.u8`), ds.labels.slice(r.start, r.end));
  }
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ nCols: nc, params }));
  const n = (r: { start: number; end: number }) => r.end - r.start;
  console.log(
    `\n${stem} 1h: ${candles.length} candles -> ${ds.matrix.nRows} x ${nc} features (kilo's feature code); ` +
      `train ${n(parts.train)} / valid ${n(parts.valid)} / test ${n(parts.test)}`,
  );
  return dir;
}

function benchSymbol(stem: string, list: Contender[]): void {
  const dir = writeSplit(stem);
  if (!dir) return;
  try {
    const before = loadavg();
    const runs = new Map<string, Run[]>(list.map((c) => [c.key, []]));
    // Interleaved: every contender once per round, so load changes hit all of them alike.
    for (let rep = 0; rep < reps; rep++) {
      for (const c of list) {
        const r = run(c, dir);
        if (typeof r === 'string') console.log(`  ${r}`);
        else {
          runs.get(c.key)!.push(r);
          // Each run as it lands: a bench stopped halfway still leaves its figures.
          console.log(`  run ${rep + 1} ${c.label}: fit ${r.fit_s.toFixed(2)} s${r.cpu_s !== undefined ? `, cpu ${r.cpu_s.toFixed(2)} s` : ''}, test acc ${pct(r.test_acc)} (load ${loadavg()})`);
        }
      }
    }
    console.log(`  load average: ${before} before, ${loadavg()} after (2 cores); ${reps} interleaved runs each, fresh process per run`);
    console.log(`  ${'contender'.padEnd(26)} ${'fit s: median [min-max]'.padEnd(26)} ${'cpu s'.padEnd(6)} ${'val acc'.padEnd(8)} ${'test acc'.padEnd(8)} predict 1 row`);
    const med = new Map<string, Run>();
    for (const c of list) {
      const rs = runs.get(c.key)!;
      if (!rs.length) continue;
      const fits = rs.map((r) => r.fit_s);
      const cpus = rs.map((r) => r.cpu_s).filter((x): x is number => x !== undefined);
      const m: Run = { ...rs[0], fit_s: median(fits), cpu_s: cpus.length ? median(cpus) : undefined, predict_row_ms: median(rs.map((r) => r.predict_row_ms)) };
      med.set(c.key, m);
      const extra = (m.mean_leaves !== undefined ? ` | ${m.mean_leaves.toFixed(1)} leaves/tree` : '') + (m.model_kb !== undefined ? ` | model JSON ${m.model_kb.toFixed(0)} KB` : '');
      console.log(
        `  ${`${c.label} (${m.version})`.padEnd(26)} ${`${m.fit_s.toFixed(2)} [${Math.min(...fits).toFixed(2)}-${Math.max(...fits).toFixed(2)}]`.padEnd(26)} ${(m.cpu_s?.toFixed(2) ?? '-').padEnd(6)} ` +
          `${pct(m.val_acc).padEnd(8)} ${pct(m.test_acc).padEnd(8)} ${(m.predict_row_ms * 1000).toFixed(1)} us${extra}`,
      );
    }
    const two = runs.get('kilo-native-2') ?? [];
    const h = two.map((r) => r.helper).filter((x) => x !== undefined);
    if (h.length) {
      const share = median(h.map((x) => x.helperChunks / x.chunks));
      const benched = median(h.map((x) => 1 - x.offered / x.jobs));
      const wait = median(h.map((x) => x.waitMs));
      console.log(
        `  kilo native 2T helper thread: ran ${(share * 100).toFixed(0)}% of the chunks, benched (late on a busy machine) for ` +
          `${(benched * 100).toFixed(0)}% of the jobs, caller waited ${wait.toFixed(0)} ms for it (medians)`,
      );
    }
    const hashes = new Set([...runs.entries()].filter(([k]) => k.startsWith('kilo')).flatMap(([, rs]) => rs.map((r) => r.model_sha256)));
    if (hashes.size) console.log(`  kilo model files from every grower and thread count: ${hashes.size === 1 ? 'identical' : `DIFFER (${[...hashes].join(', ')})`}`);
    const ratio = (a: string, b: string, target?: number) => {
      const x = med.get(a);
      const y = med.get(b);
      if (!x || !y) return;
      const r = x.fit_s / y.fit_s;
      const verdict = target === undefined ? '' : ` (target <= ${target.toFixed(1)}x: ${r <= target ? 'met' : 'MISSED'})`;
      const cpu = x.cpu_s !== undefined && y.cpu_s !== undefined ? `; cpu ${(x.cpu_s / y.cpu_s).toFixed(2)}x` : '';
      console.log(`  fit ${a} / ${b}: ${r.toFixed(2)}x wall${verdict}${cpu}`);
    };
    ratio('kilo-native-1', 'lightgbm-1', 1);
    ratio('kilo-native-2', 'lightgbm-2', 1);
    ratio('kilo-typescript-1', 'lightgbm-1', 1);
    ratio('kilo-native-1', 'xgboost-1');
    const ours = med.get('kilo-native-1') ?? med.get('kilo-typescript-1');
    for (const peer of ['lightgbm-1', 'xgboost-1']) {
      const p = med.get(peer);
      if (!ours || !p) continue;
      const dv = ours.val_acc - p.val_acc;
      const dt = ours.test_acc - p.test_acc;
      const ok = Math.abs(dv) <= 0.01 && Math.abs(dt) <= 0.01;
      console.log(`  accuracy kilo - ${peer}: val ${pts(dv)} pts, test ${pts(dt)} pts (target within 1: ${ok ? 'met' : 'MISSED'})`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

requireData();
const list = contenders();
console.log(`params: ${JSON.stringify(params)}`);
console.log(
  'LightGBM runs max_depth = maxDepth with num_leaves = 2^maxDepth (the same trees as depth-wise growth, see bench/peers/lightgbm_peer.py), ' +
    'min_data_in_leaf 0, min_sum_hessian_in_leaf = minChildWeight, lambda_l2 = lambda. Fit times include binning for everyone. ' +
    `LightGBM runs with OMP_WAIT_POLICY=${process.env.GBDT_BENCH_OMP_WAIT ?? 'PASSIVE'}. cpu s: user + system seconds of the fit, all threads.`,
);
for (const s of symbols) benchSymbol(s, list);

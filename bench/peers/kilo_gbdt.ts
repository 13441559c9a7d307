/**
 * kilo's side of bench/gbdt.bench.ts, run like the Python peers: a fresh process per measurement
 * (cold JIT, as a training worker is), reading the same split files (meta.json + <slice>_X.f32 +
 * <slice>_y.u8) and printing one JSON line: fit seconds (binning included), validation/test
 * accuracy, one-row predict latency, mean leaves per tree and a hash of the model JSON (the same
 * hash from every grower means the same model file).
 * Usage: node --import tsx bench/peers/kilo_gbdt.ts <dir> <native|typescript> <threads>
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { trainGbdt, type GbdtDataset, type GbdtModel, type GbdtParams, type GrowerInfo } from '../../src/models/gbdt/index.js';

const [dir, grower, threadsArg] = process.argv.slice(2);
if (!dir || (grower !== 'native' && grower !== 'typescript')) {
  console.error('usage: kilo_gbdt.ts <dir> <native|typescript> <threads>');
  process.exit(2);
}
const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { nCols: number; params: GbdtParams };

function load(name: string): GbdtDataset {
  const raw = readFileSync(join(dir, `${name}_X.f32`));
  const data = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const labels = new Uint8Array(readFileSync(join(dir, `${name}_y.u8`)));
  return { data, nRows: labels.length, nCols: meta.nCols, labels };
}

function accuracy(m: GbdtModel, d: GbdtDataset): number {
  const c = m.predictClass(d.data, d.nRows);
  let ok = 0;
  for (let i = 0; i < d.nRows; i++) if (c[i] === d.labels[i]) ok++;
  return ok / d.nRows;
}

const train = load('train');
const valid = load('valid');
const test = load('test');
let info: GrowerInfo | undefined;
const c0 = process.cpuUsage();
const t0 = performance.now();
const model = await trainGbdt(train, { params: meta.params, grower, threads: Number(threadsArg ?? 1), onGrower: (g) => (info = g) });
const fitS = (performance.now() - t0) / 1000;
const c1 = process.cpuUsage(c0);
const cpuS = (c1.user + c1.system) / 1e6;
const reps = 2000;
const out = new Float64Array(model.nClasses);
const t1 = performance.now();
for (let i = 0; i < reps; i++) model.predictProbaRow(test.data, out, (i % test.nRows) * test.nCols);
const rowMs = (performance.now() - t1) / reps;
let leaves = 0;
for (const t of model.trees) for (let i = 0; i < t.feature.length; i++) if (t.feature[i] < 0) leaves++;
const json = JSON.stringify(model.toJSON());
console.log(
  JSON.stringify({
    peer: 'kilo',
    version: info?.kind ?? grower,
    threads: info?.threads ?? 1,
    fit_s: fitS,
    cpu_s: cpuS,
    val_acc: accuracy(model, valid),
    test_acc: accuracy(model, test),
    predict_row_ms: rowMs,
    mean_leaves: leaves / model.trees.length,
    model_kb: json.length / 1024,
    model_sha256: createHash('sha256').update(json).digest('hex').slice(0, 16),
    reason: info?.reason,
    helper: info?.stats && info.threads > 1 ? info.stats : undefined,
  }),
);

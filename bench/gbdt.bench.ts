/**
 * GBDT vs XGBoost on the same split, same hyper-parameters (hist, depth 6, eta 0.1, 200 rounds,
 * 255 bins). Builds features + labels from real Binance hourly candles (../shared/data/ohlcv),
 * time-splits them, trains ours, writes the split as float32/uint8 files to a temp folder and
 * runs bench/peers/xgb_peer.py with /usr/bin/python3 (nthread 1 and 2) in the same run.
 * `npm run bench -- gbdt` or `node --import tsx bench/gbdt.bench.ts [BTC-USDT ETH-USDT]`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDataset } from '../src/features/dataset.js';
import { DEFAULT_GBDT_PARAMS, trainGbdt, type GbdtDataset, type GbdtModel } from '../src/models/gbdt/index.js';
import { readCandles } from './data.js';

const here = dirname(fileURLToPath(import.meta.url));
const dataDir = resolve(here, '../../shared/data/ohlcv');
const peer = join(here, 'peers/xgb_peer.py');
const PYTHON = '/usr/bin/python3';
const symbols = process.argv.slice(2).length ? process.argv.slice(2) : ['BTC-USDT', 'ETH-USDT'];
const params = { ...DEFAULT_GBDT_PARAMS, rounds: 200, maxDepth: 6, eta: 0.1, maxBins: 255 };

interface PeerResult {
  nthread: number;
  fit_s: number;
  val_acc: number;
  test_acc: number;
  predict_row_ms: number;
  xgboost: string;
}

function accuracy(m: GbdtModel, d: GbdtDataset): number {
  const c = m.predictClass(d.data, d.nRows);
  let ok = 0;
  for (let i = 0; i < d.nRows; i++) if (c[i] === d.labels[i]) ok++;
  return ok / d.nRows;
}

function peerAvailable(): boolean {
  if (!existsSync(PYTHON)) return false;
  return spawnSync(PYTHON, ['-c', 'import xgboost'], { stdio: 'ignore' }).status === 0;
}

async function benchSymbol(stem: string, withPeer: boolean): Promise<void> {
  const file = join(dataDir, `${stem}-1h.csv`);
  if (!existsSync(file)) {
    console.log(`${stem}: ${file} not found, skipped`);
    return;
  }
  const candles = readCandles(file);
  const t0 = performance.now();
  const ds = buildDataset(candles, { horizon: 1, threshold: 0.002, window: 1, validationFraction: 0.15, testFraction: 0.15 });
  const featMs = performance.now() - t0;
  const nc = ds.matrix.nCols;
  const slice = (r: { start: number; end: number }): GbdtDataset => ({
    data: ds.raw.slice(r.start * nc, r.end * nc),
    nRows: r.end - r.start,
    nCols: nc,
    labels: ds.labels.slice(r.start, r.end),
  });
  const train = slice(ds.split.train);
  const valid = slice(ds.split.validation);
  const test = slice(ds.split.test);
  console.log(
    `${stem} 1h: ${candles.length} candles -> ${ds.matrix.nRows} x ${nc} features in ${featMs.toFixed(0)} ms; ` +
      `train ${train.nRows} / valid ${valid.nRows} / test ${test.nRows}`,
  );

  const t1 = performance.now();
  const model = await trainGbdt(train, { params, featureNames: ds.matrix.names });
  const fitS = (performance.now() - t1) / 1000;
  const ours = { val: accuracy(model, valid), test: accuracy(model, test) };
  const reps = 5000;
  const out = new Float64Array(3);
  const t2 = performance.now();
  for (let i = 0; i < reps; i++) model.predictProbaRow(test.data, out, (i % test.nRows) * nc);
  const rowUs = ((performance.now() - t2) / reps) * 1000;
  const t3 = performance.now();
  model.predictProba(test.data, test.nRows);
  const batchUs = ((performance.now() - t3) / test.nRows) * 1000;
  const jsonKb = JSON.stringify(model.toJSON()).length / 1024;
  console.log(
    `  kilo gbdt : fit ${fitS.toFixed(2)} s | val acc ${(ours.val * 100).toFixed(2)}% | test acc ${(ours.test * 100).toFixed(2)}% | ` +
      `predict 1 row ${rowUs.toFixed(1)} us, batch ${batchUs.toFixed(1)} us/row | model JSON ${jsonKb.toFixed(0)} KB`,
  );
  const top = model.featureImportance().slice(0, 5).map((f) => f.name);
  console.log(`  top gain  : ${top.join(', ')}`);

  if (!withPeer) return;
  const dir = mkdtempSync(join(tmpdir(), 'kilo-gbdt-bench-'));
  try {
    for (const [name, d] of [['train', train], ['valid', valid], ['test', test]] as const) {
      writeFileSync(join(dir, `${name}_X.f32`), new Uint8Array(d.data.buffer, d.data.byteOffset, d.data.byteLength));
      writeFileSync(join(dir, `${name}_y.u8`), d.labels);
    }
    writeFileSync(join(dir, 'meta.json'), JSON.stringify({ nCols: nc, params }));
    const r = spawnSync(PYTHON, [peer, dir, '1', '2'], { encoding: 'utf8' });
    if (r.status !== 0) {
      console.log(`  xgboost peer failed (${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      return;
    }
    const results = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as PeerResult);
    for (const x of results) {
      console.log(
        `  xgboost ${x.xgboost} nthread=${x.nthread}: fit ${x.fit_s.toFixed(2)} s | val acc ${(x.val_acc * 100).toFixed(2)}% | ` +
          `test acc ${(x.test_acc * 100).toFixed(2)}% | predict 1 row ${(x.predict_row_ms * 1000).toFixed(1)} us`,
      );
    }
    for (const x of results) {
      const ratio = fitS / x.fit_s;
      const dv = (ours.val - x.val_acc) * 100;
      const dt = (ours.test - x.test_acc) * 100;
      console.log(
        `  vs nthread=${x.nthread}: fit ratio ${ratio.toFixed(2)}x (target <= 3x: ${ratio <= 3 ? 'met' : 'MISSED'}) | ` +
          `accuracy diff val ${dv >= 0 ? '+' : ''}${dv.toFixed(2)} pts, test ${dt >= 0 ? '+' : ''}${dt.toFixed(2)} pts ` +
          `(target within 1: ${Math.abs(dt) <= 1 && Math.abs(dv) <= 1 ? 'met' : 'MISSED'})`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const withPeer = peerAvailable();
if (!withPeer) console.log(`xgboost peer absent (${PYTHON} -c "import xgboost" failed): printing kilo figures only`);
console.log(`params: ${JSON.stringify(params)}`);
for (const s of symbols) await benchSymbol(s, withPeer);

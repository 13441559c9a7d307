import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { WorkerPool, JobCancelledError } from '../../src/training/pool.js';
import { candlesToColumns } from '../../src/training/pipeline-data.js';
import type { PipelineJobSpec } from '../../src/training/protocol.js';
import { readVerifiedArtifact, ArtifactCorruptError } from '../../src/models/artifact.js';
import { loadArtifact } from '../../src/models/artifact-load.js';
import { SymbolPredictor, predictRound } from '../../src/models/predictor.js';
import { FeatureSchemaMismatchError } from '../../src/features/index.js';
import type { Candle } from '../../src/market/types.js';
import type { JobProgress } from '../../src/engine-api.js';
import { nativeRnnStatus } from '../../src/native/rnn.js';

const DATA = resolve(__dirname, '../../../shared/data/ohlcv');
const hasData = existsSync(DATA);

function readCsv(file: string, lastDays: number): Candle[] {
  const lines = readFileSync(join(DATA, file), 'utf8').trim().split('\n').slice(1);
  return lines.slice(-lastDays * 24).map((l) => {
    const [timestamp, open, high, low, close, volume] = l.split(',').map(Number);
    return { timestamp, open, high, low, close, volume };
  });
}

const spec = (modelsDir: string, candles: Candle[], over: Partial<PipelineJobSpec> = {}): PipelineJobSpec => ({
  kind: 'train',
  symbols: ['BTC/USDT'],
  trainingMode: 'single_symbol',
  symbolEncoding: 'one_hot',
  models: ['gbdt', 'gru', 'ppo'],
  profile: { name: 'quick', epochs: 1, patience: 1, trees: 8, data_days: 120, batch_size: 256, ppo_steps: 512 },
  version: '1.0',
  modelsDir,
  candles: [candlesToColumns('BTC/USDT', candles)],
  timeframe: '1h',
  window: 16,
  horizon: 1,
  labelThreshold: 0.002,
  valFraction: 0.15,
  testFraction: 0.15,
  rnnCell: 'gru',
  feeRate: 0.001,
  seed: 3,
  ...over,
});

describe.skipIf(!hasData)('training pipeline in a real worker on real BTC candles', () => {
  let home: string;
  let candles: Candle[];
  const pool = new WorkerPool({ maxConcurrent: 1, timeoutMs: 120_000, graceMs: 5_000 });
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'kilo-pipeline-'));
    candles = readCsv('BTC-USDT-1h.csv', 120);
  });
  afterAll(async () => {
    await pool.close();
    await rm(home, { recursive: true, force: true });
  });

  it('trains every model kind, publishes a complete verified artifact in one rename, and predicts', async () => {
    const modelsDir = join(home, 'models');
    const target = join(modelsDir, 'v1.0', 'BTC-USDT');
    const seen: (JobProgress & { targetExists: boolean })[] = [];
    const res = await pool.run(spec(modelsDir, candles), { onProgress: (p) => seen.push({ ...p, targetExists: existsSync(target) }) });

    expect(res.artifactDir).toBe(target);
    const phases = new Set(seen.map((p) => p.phase));
    for (const ph of ['features', 'gbdt', 'gru', 'ppo', 'evaluate', 'verdict', 'save']) expect(phases).toContain(ph);
    for (let i = 1; i < seen.length; i++) expect(seen[i].fraction).toBeGreaterThanOrEqual(seen[i - 1].fraction - 1e-9);
    expect(seen[seen.length - 1].fraction).toBe(1);
    // The folder never existed while training ran: it appears only with the final rename.
    expect(seen.slice(0, -1).every((p) => !p.targetExists)).toBe(true);
    expect(await readdir(modelsDir)).toEqual(['v1.0']);

    const files = (await readdir(target)).sort();
    const kinds = ['feature_metadata_', 'gbdt_model_', 'gru_model_', 'preprocessor_', 'ppo_model_'];
    for (const k of kinds) expect(files.some((f) => f.startsWith(k) && f.includes('BTC-USDT'))).toBe(true);
    expect(files.filter((f) => f.startsWith('gru_model_')).map((f) => f.slice(-12))).toEqual(expect.arrayContaining(['.weights.bin']));
    expect(files).toContain('metadata.json');
    expect(files).toContain('manifest.json');

    const v = await readVerifiedArtifact(target);
    const m = v.metadata;
    expect(m.trained_symbols).toEqual(['BTC/USDT']);
    expect(m.training_mode).toBe('single_symbol');
    expect(m.training_end_timestamp).toBe(candles[candles.length - 1].timestamp);
    expect(m.training_days).toBeCloseTo((candles.length - 1 - 72) / 24, 1);
    expect(m.min_history_days_per_symbol).toBe(m.training_days);
    expect(m.feature_schema_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(m.backend).toMatch(/wasm|cpu|tensorflow/);
    // The worker trained the GRU on the kernels this machine loads ('native avx512f' here), else says 'tfjs'.
    expect(m.rnn_kernel).toBe(nativeRnnStatus().active ? nativeRnnStatus().kernel : 'tfjs');
    expect(m.profile).toBe('quick');
    expect(m.training_duration_s).toBeGreaterThan(0);
    expect(Object.keys(m.performance).sort()).toEqual(['ensemble', 'gbdt', 'gru', 'ppo']);
    for (const k of ['ensemble', 'gbdt', 'gru', 'ppo'] as const) {
      const perf = m.performance[k]!;
      expect(perf.validation.samples).toBeGreaterThan(100);
      expect(perf.test.samples).toBe(perf.validation.samples);
      expect(perf.test.accuracy).toBeGreaterThanOrEqual(0);
      expect(perf.test.accuracy).toBeLessThanOrEqual(1);
      expect(Number.isFinite(perf.test.pnl_pct)).toBe(true);
    }
    expect(m.files.map((f) => f.file).sort()).toEqual(files.filter((f) => f !== 'metadata.json' && f !== 'manifest.json'));
    // The walk-forward verdict judges every kind and the ensemble that will serve.
    const e = m.edge!.symbols['BTC/USDT'];
    expect(e.subject).toBe('ensemble');
    expect(Object.keys(e.strategies).sort()).toEqual(['buy_and_hold', 'ensemble', 'gbdt', 'gru', 'majority', 'no_trade', 'ppo', 'ta']);
    expect(e.strategies.ensemble!.fold_pnl_pct.at(-1)).toBeCloseTo(m.performance.ensemble!.test.pnl_pct!, 3);
    expect(['edge', 'no_edge']).toContain(e.verdict);

    const loaded = await loadArtifact(target);
    try {
      const predictor = new SymbolPredictor(loaded);
      const recent = candles.slice(-400);
      const p1 = predictor.predict('BTC/USDT', recent);
      expect(['bullish', 'bearish', 'neutral']).toContain(p1.direction);
      expect(p1.at).toBe(recent[recent.length - 1].timestamp);
      expect(p1.probs[0] + p1.probs[1] + p1.probs[2]).toBeCloseTo(1, 5);
      expect(Object.keys(p1.contributions).sort()).toEqual(['gbdt', 'gru', 'ppo']);
      const sum = Object.values(p1.contributions).reduce((s, c) => s + c, 0);
      expect(sum).toBeCloseTo(p1.score, 6);
      // Earlier candles give a different call input; a batch gives the same answers as one by one.
      const older = candles.slice(-800, -300);
      const p2 = predictor.predict('BTC/USDT', older);
      const batch = predictRound([
        { predictor, request: { symbol: 'BTC/USDT', candles: recent } },
        { predictor, request: { symbol: 'BTC/USDT', candles: older } },
      ]);
      expect(batch[0].score).toBeCloseTo(p1.score, 5);
      expect(batch[1].score).toBeCloseTo(p2.score, 5);
      expect(() => predictor.predict('BTC/USDT', candles.slice(-50))).toThrow(/need at least \d+ candles/);

      const fm = loaded.featureMetadata;
      const broken = { ...loaded, featureMetadata: { ...fm, names: fm.names.slice(1) } };
      let err: unknown;
      try {
        new SymbolPredictor(broken);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FeatureSchemaMismatchError);
      expect((err as FeatureSchemaMismatchError).diff.added).toEqual([fm.names[0]]);
    } finally {
      loaded.dispose();
    }

    const gbdtFile = files.find((f) => f.startsWith('gbdt_model_'))!;
    const raw = await readFile(join(target, gbdtFile), 'utf8');
    // Same size, one digit changed: only the checksum can tell.
    const at = raw.search(/\d/);
    await writeFile(join(target, gbdtFile), raw.slice(0, at) + String((Number(raw[at]) + 1) % 10) + raw.slice(at + 1));
    const bad = loadArtifact(target);
    await expect(bad).rejects.toBeInstanceOf(ArtifactCorruptError);
    await expect(bad).rejects.toThrow(`${gbdtFile} checksum does not match`);
  });

  it('a job cancelled mid-training leaves no artifact and no temp folder', async () => {
    const modelsDir = join(home, 'models-cancel');
    const ac = new AbortController();
    const phases: string[] = [];
    const p = pool.run(spec(modelsDir, candles, { models: ['gru'], profile: { name: 'full', epochs: 200, patience: 200, trees: 8, data_days: 120, batch_size: 64, ppo_steps: 512 } }), {
      signal: ac.signal,
      onProgress: (pr) => {
        phases.push(pr.phase);
        if (pr.phase === 'gru' && pr.epoch >= 1) ac.abort();
      },
    });
    await expect(p).rejects.toBeInstanceOf(JobCancelledError);
    expect(phases).toContain('gru');
    const left = existsSync(modelsDir) ? await readdir(modelsDir) : [];
    expect(left).toEqual([]);
  });
});

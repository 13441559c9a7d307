import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { trainSymbolModels, PipelineInputError } from '../../src/training/pipeline.js';
import { candlesToColumns } from '../../src/training/pipeline-data.js';
import type { PipelineJobSpec } from '../../src/training/protocol.js';
import { ArtifactExistsError } from '../../src/models/artifact.js';
import { loadArtifact } from '../../src/models/artifact-load.js';
import { SymbolPredictor } from '../../src/models/predictor.js';
import type { Candle } from '../../src/market/types.js';

const DATA = resolve(__dirname, '../../../shared/data/ohlcv');

function readCsv(file: string, lastDays: number): Candle[] {
  const lines = readFileSync(join(DATA, file), 'utf8').trim().split('\n').slice(1);
  return lines.slice(-lastDays * 24).map((l) => {
    const [timestamp, open, high, low, close, volume] = l.split(',').map(Number);
    return { timestamp, open, high, low, close, volume };
  });
}

describe.skipIf(!existsSync(DATA))('multi-symbol pipeline (gbdt, in-process) on real BTC + ETH candles', () => {
  let home: string;
  let btc: Candle[];
  let eth: Candle[];
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'kilo-multi-'));
    btc = readCsv('BTC-USDT-1h.csv', 90);
    eth = readCsv('ETH-USDT-1h.csv', 60);
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });
  const spec = (over: Partial<PipelineJobSpec> = {}): PipelineJobSpec => ({
    kind: 'train',
    symbols: ['ETH/USDT', 'BTC/USDT'],
    trainingMode: 'multi_symbol',
    symbolEncoding: 'one_hot',
    models: ['gbdt'],
    profile: { name: 'quick', epochs: 1, patience: 1, trees: 10, data_days: 90, batch_size: 256, ppo_steps: 256 },
    version: '2.0',
    modelsDir: join(home, 'models'),
    candles: [candlesToColumns('BTC/USDT', btc), candlesToColumns('ETH/USDT', eth)],
    timeframe: '1h',
    window: 12,
    horizon: 2,
    labelThreshold: 0.003,
    valFraction: 0.2,
    testFraction: 0.2,
    rnnCell: 'gru',
    feeRate: 0.001,
    ...over,
  });

  it('stacks rows of both symbols with a one-hot code, saves the encoding map and serves both', async () => {
    const res = await trainSymbolModels(spec(), { now: () => Date.UTC(2026, 0, 2, 3, 4, 5) });
    expect(res.artifactDir).toBe(join(home, 'models', 'v2.0', 'multi'));
    const m = res.metadata!;
    expect(m.symbol_encoding_map).toEqual({ 'BTC/USDT': 0, 'ETH/USDT': 1 });
    expect(m.trained_symbols).toEqual(['ETH/USDT', 'BTC/USDT']);
    expect(m.training_days).toBeCloseTo((90 * 24 - 1 - 72) / 24, 1);
    expect(m.min_history_days_per_symbol).toBeCloseTo((60 * 24 - 1 - 72) / 24, 1);
    expect(m.horizon).toBe(2);
    expect(m.backend).toBe('none');
    expect(m.created_at).toBe('2026-01-02T03:04:05.000Z');
    expect(m.files.map((f) => f.file).sort()).toEqual([
      'feature_metadata_multi_20260102T030405Z.json',
      'gbdt_model_multi_20260102T030405Z.json',
      'preprocessor_multi_20260102T030405Z.json',
    ]);
    // Validation samples come from both symbols.
    expect(m.performance.gbdt!.validation.samples).toBeGreaterThan(0);
    expect(Object.keys(res.baselines!).sort()).toEqual(['buy_and_hold', 'majority', 'no_trade', 'persistence', 'ta']);
    expect(res.baselines!.no_trade.test.pnl_pct).toBe(0);
    expect(res.baselines!.majority.test.samples).toBe(m.performance.gbdt!.test.samples);

    const loaded = await loadArtifact(res.artifactDir!);
    const predictor = new SymbolPredictor(loaded);
    const a = predictor.predict('BTC/USDT', btc.slice(-300));
    const b = predictor.predict('ETH/USDT', btc.slice(-300));
    // Same candles, different symbol code -> the trees see a different row (ties are possible but
    // the symbol columns are in the model's input either way).
    expect(a.models.gbdt).toBeDefined();
    expect(b.models.gbdt).toBeDefined();
    expect(loaded.gbdt!.nFeatures).toBe(loaded.featureMetadata.names.length + 2);
    expect(() => predictor.predict('SOL/USDT', btc.slice(-300))).toThrow(/SOL\/USDT is not in the encoding map/);
    expect(() => predictor.predict('BTC/USDT', btc.slice(-20))).toThrow(/need at least/);
  });

  it('refuses to overwrite an existing version and rejects bad specs', async () => {
    await expect(trainSymbolModels(spec())).rejects.toBeInstanceOf(ArtifactExistsError);
    expect(await readdir(join(home, 'models'))).toEqual(['v2.0']);
    await expect(trainSymbolModels(spec({ trainingMode: 'single_symbol' }))).rejects.toThrow(PipelineInputError);
    await expect(trainSymbolModels(spec({ symbols: ['BTC/USDT', 'SOL/USDT'] }))).rejects.toThrow(/no candles were sent for SOL\/USDT/);
    await expect(trainSymbolModels(spec({ models: [] }))).rejects.toThrow(/no models/);
  });
});

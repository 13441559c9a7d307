import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { trainSymbolModels } from '../../src/training/pipeline.js';
import { candlesToColumns } from '../../src/training/pipeline-data.js';
import type { PipelineJobSpec } from '../../src/training/protocol.js';
import { loadArtifact, type LoadedArtifact } from '../../src/models/artifact-load.js';
import { SymbolPredictor, predictRound, PredictorInputError } from '../../src/models/predictor.js';
import { computeFeatures, cleanMatrix, FeatureSchemaMismatchError } from '../../src/features/index.js';
import type { Candle } from '../../src/market/types.js';

const DATA = resolve(__dirname, '../../../shared/data/ohlcv');
const readCsv = (file: string, days: number): Candle[] =>
  readFileSync(join(DATA, file), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .slice(-days * 24)
    .map((l) => {
      const [timestamp, open, high, low, close, volume] = l.split(',').map(Number);
      return { timestamp, open, high, low, close, volume };
    });

describe.skipIf(!existsSync(DATA))('SymbolPredictor (gbdt artifacts trained on real candles)', () => {
  let home: string;
  let btc: Candle[];
  let eth: Candle[];
  let a: LoadedArtifact;
  let b: LoadedArtifact;
  const spec = (symbol: string, candles: Candle[]): PipelineJobSpec => ({
    kind: 'train', symbols: [symbol], trainingMode: 'single_symbol', symbolEncoding: 'one_hot', models: ['gbdt'],
    profile: { name: 'quick', epochs: 1, patience: 1, trees: 12, data_days: 60, batch_size: 256, ppo_steps: 256 },
    version: '1.0', modelsDir: join(home, 'models'), candles: [candlesToColumns(symbol, candles)], timeframe: '1h',
    window: 24, horizon: 1, labelThreshold: 0.002, valFraction: 0.15, testFraction: 0.15, rnnCell: 'gru', feeRate: 0.001,
  });
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'kilo-predictor-'));
    btc = readCsv('BTC-USDT-1h.csv', 60);
    eth = readCsv('ETH-USDT-1h.csv', 60);
    a = await loadArtifact((await trainSymbolModels(spec('BTC/USDT', btc))).artifactDir!);
    b = await loadArtifact((await trainSymbolModels(spec('ETH/USDT', eth))).artifactDir!);
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('builds the same row as computeFeatures + cleaning + the saved scaler', () => {
    const p = new SymbolPredictor(a);
    expect(p.minCandles).toBe(72 + 24);
    const candles = btc.slice(-(p.minCandles + 100));
    const m = computeFeatures(candles);
    const { data } = cleanMatrix(m.data, m.nRows, m.nCols);
    const scaled = a.preprocessor.transform(data);
    const last = scaled.slice((m.nRows - 1) * m.nCols, m.nRows * m.nCols);
    const expected = a.gbdt!.predictProba(last, 1);
    const got = p.predict('BTC/USDT', candles);
    expect(Array.from(got.models.gbdt!)).toEqual(Array.from(expected));
    // one model only: the ensemble is that model's view
    expect(got.score).toBeCloseTo(expected[2] - expected[0], 6);
    expect(got.contributions).toEqual({ gbdt: got.score });
    expect(got.modelVersion).toBe('1.0');
  });

  it('needs warm-up + window candles', () => {
    const p = new SymbolPredictor(a);
    expect(() => p.predict('BTC/USDT', btc.slice(-p.minCandles))).not.toThrow();
    expect(() => p.predict('BTC/USDT', btc.slice(-(p.minCandles - 1)))).toThrow(PredictorInputError);
  });

  it('refuses an artifact whose feature schema differs, with the diff', () => {
    const fm = a.featureMetadata;
    const names = [...fm.names];
    [names[0], names[1]] = [names[1], names[0]];
    try {
      new SymbolPredictor({ ...a, featureMetadata: { ...fm, names } });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(FeatureSchemaMismatchError);
      // saved order is [names1, names0, ...] against the computed [names0, names1, ...]
      expect((e as FeatureSchemaMismatchError).diff.reordered).toEqual([fm.names[1], fm.names[0]]);
      expect((e as FeatureSchemaMismatchError).diff.added).toEqual([]);
    }
    expect(() => new SymbolPredictor({ ...a, metadata: { ...a.metadata, feature_schema_hash: 'f'.repeat(64) } })).toThrow(/feature_metadata hash/);
  });

  it('one round over several artifacts keeps the input order and each artifact answers its own symbol', () => {
    const pa = new SymbolPredictor(a);
    const pb = new SymbolPredictor(b);
    const reqs = [
      { predictor: pa, request: { symbol: 'BTC/USDT', candles: btc.slice(-200) } },
      { predictor: pb, request: { symbol: 'ETH/USDT', candles: eth.slice(-200) } },
      { predictor: pa, request: { symbol: 'BTC/USDT', candles: btc.slice(-300, -100) } },
    ];
    const out = predictRound(reqs);
    expect(out.map((o) => o.symbol)).toEqual(['BTC/USDT', 'ETH/USDT', 'BTC/USDT']);
    expect(out[0].score).toBeCloseTo(pa.predict('BTC/USDT', btc.slice(-200)).score, 10);
    expect(out[1].score).toBeCloseTo(pb.predict('ETH/USDT', eth.slice(-200)).score, 10);
    expect(out[2].at).toBe(btc[btc.length - 101].timestamp);
    const wide = new SymbolPredictor(a, { neutralBand: 1 });
    expect(wide.predict('BTC/USDT', btc.slice(-200)).direction).toBe('neutral');
  });
});

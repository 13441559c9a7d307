/**
 * Provenance: a model trained through the real pipeline on a CSV folder records data_source (kind,
 * folder, the file's sha256, the candles' range and hash); `kilo models` shows it; selection never
 * serves it to an engine reading another kind of source (a simulator here), says why, and serves it
 * when model.allow_foreign_source is set. The job spec refuses absurd candles, and a non-finite
 * metric is caught by the publish guard.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { ManualClock } from '../../src/clock.js';
import { CsvMarketSource } from '../../src/market/csv-source.js';
import { buildJobSpec, fetchTrainingCandles, assertFiniteMetrics, NoCandlesError, NonFiniteMetricsError } from '../../src/training/pipeline-spec.js';
import { trainSymbolModels } from '../../src/training/pipeline.js';
import { ModelRegistry, registryPaths } from '../../src/registry/registry.js';
import { DATA, hasData, testConfig } from './helpers.js';

const repo = join(import.meta.dirname, '../..');
const NOW = Date.UTC(2023, 6, 1);

function kilo(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [join(repo, 'bin/kilo.js'), ...args]);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => res({ code, stdout, stderr }));
  });
}

describe.skipIf(!hasData)('data provenance and foreign-source models', () => {
  let home: string;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'kilo-prov-'));
  });
  afterAll(async () => {
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('records what trained the model, shows it, and refuses it to a simulator engine unless allowed', async () => {
    const config = testConfig();
    const source = new CsvMarketSource(DATA, new ManualClock(NOW));
    const candles = await fetchTrainingCandles(source, 'BTC/USDT', '1h', 120);
    const spec = buildJobSpec(config, {
      symbols: ['BTC/USDT'],
      candles: { 'BTC/USDT': candles },
      dataSource: await source.provenance(['BTC/USDT'], '1h'),
      models: ['gbdt'],
      quick: true,
      version: '1.0',
      modelsDir: join(home, 'models'),
    });
    const result = await trainSymbolModels(spec);
    const meta = JSON.parse(await readFile(join(result.artifactDir!, 'metadata.json'), 'utf8'));
    const fileSha = createHash('sha256').update(await readFile(join(DATA, 'BTC-USDT-1h.csv'))).digest('hex');
    expect(meta.data_source).toMatchObject({
      kind: 'csv',
      dir: DATA,
      files: { 'BTC-USDT-1h.csv': fileSha },
      candles: { from: candles[0].timestamp, to: candles.at(-1)!.timestamp, count: candles.length },
    });
    expect(meta.data_source.candles.sha256).toMatch(/^[0-9a-f]{64}$/);
    // The same candles give the same hash; one changed close gives another.
    const again = buildJobSpec(config, { symbols: ['BTC/USDT'], candles: { 'BTC/USDT': candles }, version: '1.1', modelsDir: home });
    expect(again.dataSource!.candles.sha256).toBe(meta.data_source.candles.sha256);
    const edited = candles.map((c, i) => (i === 7 ? { ...c, close: c.close * 1.0001 } : c));
    expect(buildJobSpec(config, { symbols: ['BTC/USDT'], candles: { 'BTC/USDT': edited }, version: '1.2', modelsDir: home }).dataSource!.candles.sha256).not.toBe(meta.data_source.candles.sha256);

    const reg = new ModelRegistry(registryPaths(home));
    await reg.refresh();
    expect(reg.servingArtifactFor(config, 'BTC/USDT', NOW)?.artifact.version).toBe('1.0');
    const sim = testConfig((c) => {
      c.data.source = 'sim';
    });
    expect(reg.servingArtifactFor(sim, 'BTC/USDT', NOW)).toBeNull();
    const cand = reg.selection(sim, NOW).candidates.find((c) => c.version === '1.0')!;
    expect(cand.compatible).toBe(false);
    expect(cand.rejectReason).toBe('trained on CSV data, the engine reads simulator prices (model.allow_foreign_source: false)');
    const allowed = testConfig((c) => {
      c.data.source = 'sim';
      c.model.allow_foreign_source = true;
    });
    expect(reg.servingArtifactFor(allowed, 'BTC/USDT', NOW)?.artifact.version).toBe('1.0');

    // kilo models (default config: the simulator) shows the source and why the model is refused.
    const out = await kilo(['--home', home, 'models']);
    expect(out.stdout).toContain('trained on CSV data, the engine reads simulator prices');
    expect(out.stdout).toMatch(new RegExp(`v1\\.0 BTC-USDT: CSV ${DATA.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(BTC-USDT-1h\\.csv sha256 ${fileSha.slice(0, 12)}\\); ${candles.length} candles`));
    const json = JSON.parse((await kilo(['--home', home, 'models', '--json'])).stdout);
    expect(json.data_sources['1.0/BTC-USDT']).toMatchObject({ kind: 'csv', files: { 'BTC-USDT-1h.csv': fileSha } });
  });

  it('absurd candles never reach a training job; a non-finite metric is never published', () => {
    const config = testConfig();
    const t = Date.UTC(2023, 0, 1);
    const candles = Array.from({ length: 10 }, (_, i) => ({ timestamp: t + i * 3_600_000, open: 10, high: 11, low: 9, close: 10, volume: 1 }));
    candles[4] = { ...candles[4], high: 1e308, close: 1e308 };
    expect(() => buildJobSpec(config, { symbols: ['BTC/USDT'], candles: { 'BTC/USDT': candles }, version: '1.0', modelsDir: '/x' })).toThrow(NoCandlesError);
    expect(() => buildJobSpec(config, { symbols: ['BTC/USDT'], candles: { 'BTC/USDT': candles }, version: '1.0', modelsDir: '/x' })).toThrow(/candle 2023-01-01T04:00:00.000Z is absurd \(high 1e\+308 is absurd/);
    const perf = { gbdt: { validation: { accuracy: 0.5, samples: 10 }, test: { accuracy: 0.5, pnl_pct: Number.NaN, samples: 10 } } };
    expect(() => assertFiniteMetrics(['BTC/USDT'], perf)).toThrow(NonFiniteMetricsError);
    expect(() => assertFiniteMetrics(['BTC/USDT'], perf)).toThrow(/BTC\/USDT: training produced a non-finite metric \(gbdt\.test\.pnl_pct = NaN\); not publishing/);
    perf.gbdt.test.pnl_pct = 1.5;
    expect(() => assertFiniteMetrics(['BTC/USDT'], perf)).not.toThrow();
  });
});

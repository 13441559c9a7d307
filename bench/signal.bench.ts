/**
 * Signal latency: one symbol, and 100 symbols in one round (target <= 250 ms), through the real
 * artifact -> SymbolPredictor path (features, saved scaler, GBDT + GRU + PPO, ensemble). The artifact
 * is a small one trained here (model size as in production: window 48, GRU(32) quick profile).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainSymbolModels } from '../src/training/pipeline.js';
import { buildJobSpec } from '../src/training/pipeline-spec.js';
import { loadArtifact } from '../src/models/artifact-load.js';
import { SymbolPredictor, predictRound } from '../src/models/predictor.js';
import { taSignal } from '../src/models/baselines.js';
import { defaultConfig } from '../src/config/schema.js';
import { median, readCandles, requireData } from './data.js';

requireData();

const config = defaultConfig();
config.training.quick = { ...config.training.quick, epochs: 1, trees: 80, ppo_steps: 1024 };
const btc = readCandles('BTC-USDT-1h.csv');
const home = await mkdtemp(join(tmpdir(), 'kilo-bench-signal-'));
try {
  const spec = buildJobSpec(config, { symbols: ['BTC/USDT'], candles: { 'BTC/USDT': btc.slice(-120 * 24) }, quick: true, version: '1.0', modelsDir: join(home, 'models') });
  const res = await trainSymbolModels(spec);
  const loaded = await loadArtifact(res.artifactDir!);
  const predictor = new SymbolPredictor(loaded);
  const need = predictor.minCandles + 100;
  const one: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    predictor.predict('BTC/USDT', btc.slice(-need - i, btc.length - i));
    one.push(performance.now() - t);
  }
  console.log(`signal, 1 symbol (${need} candles -> features -> gbdt+gru+ppo -> ensemble), ${loaded.backend}: median ${median(one).toFixed(1)} ms`);
  const files = ['BTC', 'ETH', 'SOL', 'ADA', 'XRP', 'BNB', 'DOGE', 'LINK'].map((b) => readCandles(`${b}-USDT-1h.csv`));
  const reqs = Array.from({ length: 100 }, (_, i) => {
    const series = files[i % files.length];
    const end = series.length - Math.floor(i / files.length) * 5;
    return { predictor, request: { symbol: `S${i}/USDT`, candles: series.slice(end - need, end) } };
  });
  const hundred: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    predictRound(reqs);
    hundred.push(performance.now() - t);
  }
  console.log(`signal, 100 symbols in one round (one batched call per model): median ${median(hundred).toFixed(1)} ms, best ${Math.min(...hundred).toFixed(1)} ms (target <= 250 ms)`);
  const ta: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    for (const r of reqs) taSignal(r.request.candles);
    ta.push(performance.now() - t);
  }
  console.log(`TA-only fallback signal, 100 symbols: median ${median(ta).toFixed(1)} ms`);
  loaded.dispose();
} finally {
  await rm(home, { recursive: true, force: true });
}

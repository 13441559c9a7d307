/**
 * `kilo eval --version X`: a saved artifact judged on candles it never saw. Each row is predicted
 * by the live predictor from the candles up to it; the ensemble's calls are the predictor's own
 * signals (direction + confidence), each model's come from its probabilities, and all of them and
 * the baselines are replayed through the broker's rule on the same rows (src/evaluation/judge.ts).
 */
import type { Candle } from '../market/types.js';
import type { ClassMetrics, ModelKind } from '../models/metadata.js';
import { makeLabels } from '../features/index.js';
import { majorityClass, taScores } from '../models/baselines.js';
import { directionClass } from '../models/ensemble.js';
import type { SymbolPredictor } from '../models/predictor.js';
import { callsFromProbs, callsFromSignals, judgeRows, type Calls, type Costs } from '../evaluation/judge.js';
import type { FoldJudgement } from '../evaluation/edge.js';
import { argmax3, classMetrics, withReplays } from './pipeline-metrics.js';

export class EvalInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvalInputError';
  }
}

export type EvalRow = { name: string; test: ClassMetrics };

/**
 * Judge a loaded artifact on candles[from..to): rows of each model, the ensemble and the baselines
 * (`base:<name>`), plus the fold's judgement for summariseFolds. `from` candles before the window
 * feed the features and the majority class.
 */
export function evaluateArtifact(
  predictor: SymbolPredictor,
  symbol: string,
  candles: readonly Candle[],
  from: number,
  to: number,
  o: { horizon: number; threshold: number; costs: Costs },
): { rows: EvalRow[]; fold: FoldJudgement } {
  if (from < predictor.minCandles) throw new EvalInputError(`evaluation starts at candle ${from} but the model needs ${predictor.minCandles} before it`);
  const end = Math.min(to, candles.length - o.horizon);
  if (end - from < 2) throw new EvalInputError(`only ${Math.max(0, end - from)} candles to evaluate`);
  const closes = candles.map((c) => c.close);
  const labels = makeLabels(closes, o.horizon, o.threshold);
  const n = end - from;
  const y = labels.subarray(from, end);
  const reqs = Array.from({ length: n }, (_, i) => ({ symbol, candles: candles.slice(Math.max(0, from + i + 1 - predictor.minCandles - 100), from + i + 1) }));
  const preds = predictor.predictBatch(reqs);
  const strategies: Record<string, Calls> = {};
  const metrics: Record<string, ClassMetrics> = {};
  for (const k of ['gbdt', 'gru', 'ppo'] as ModelKind[]) {
    if (!preds[0].models[k]) continue;
    const probs = new Float32Array(n * 3);
    preds.forEach((p, i) => {
      const m = p.models[k]!;
      // PPO's [hold, buy, sell] read as [flat, up, down].
      const raw = k === 'ppo' ? (m as { probs: ArrayLike<number> }).probs : (m as ArrayLike<number>);
      probs.set(k === 'ppo' ? [raw[2], raw[0], raw[1]] : [raw[0], raw[1], raw[2]], i * 3);
    });
    strategies[k] = callsFromProbs(probs, n);
    metrics[k] = classMetrics(argmax3(probs, n), y, probs);
  }
  strategies.ensemble = callsFromSignals(preds);
  const ensProbs = new Float32Array(n * 3);
  preds.forEach((p, i) => ensProbs.set(p.probs, i * 3));
  metrics.ensemble = classMetrics(
    Uint8Array.from(preds, (p) => directionClass(p.direction)),
    y,
    ensProbs,
  );
  const majority = majorityClass(labels.subarray(0, Math.max(0, from - o.horizon)));
  const replays = judgeRows({ closes, from, to: end, strategies, taScores: taScores(closes), majority, costs: o.costs });
  const rows: EvalRow[] = Object.keys(replays).map((name) => ({
    name: name in metrics ? name : `base:${name}`,
    test: withReplays(metrics[name] ?? { accuracy: Number.NaN, directional_accuracy: Number.NaN, samples: n }, [replays[name]]),
  }));
  const secondary = Object.fromEntries(
    Object.entries(metrics).map(([name, m]) => [name, { hits: Math.round(m.accuracy * n), logLoss: (m.log_loss ?? 0) * n, n }]),
  );
  return { rows, fold: { span: { from: candles[from].timestamp, to: candles[end - 1].timestamp, recipe: 'final' }, replays, secondary } };
}

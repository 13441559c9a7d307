/**
 * Combine the models' views into one signal. Each model is reduced to a score in [-1, 1]
 * (classifiers: p(up) - p(down); PPO: p(buy) - p(sell), or its action when it has no probs) and to
 * class probabilities [down, flat, up]; the ensemble is their weighted mean. Weights default to each
 * model's validation accuracy above chance from metadata, so a model that did better out of sample
 * counts more.
 */
import type { Direction } from '../engine-api.js';
import type { ModelKind, ModelMetadata } from './metadata.js';

export type ClassProbs = readonly [number, number, number];

export interface PpoOutput {
  /** 0 = hold, 1 = buy, 2 = sell (PPO_ACTION_RETURNS order). */
  action: number;
  /** Action probabilities [hold, buy, sell] when known. */
  probs?: ArrayLike<number>;
}

export interface ModelOutputs {
  gru?: ArrayLike<number>;
  gbdt?: ArrayLike<number>;
  ppo?: PpoOutput;
}

export type EnsembleWeights = Partial<Record<ModelKind, number>>;

export interface EnsembleOptions {
  weights?: EnsembleWeights;
  /** |score| at or below this is neutral. @default 0.1 */
  neutralBand?: number;
}

export interface EnsembleSignal {
  /** Weighted score in [-1, 1]; > 0 leans up. */
  score: number;
  direction: Direction;
  /** Combined probability of the chosen class (down / flat / up), 0..1. */
  confidence: number;
  /** Each model's share of the score (they sum to `score`). */
  contributions: Partial<Record<ModelKind, number>>;
  probs: ClassProbs;
}

export class EnsembleInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnsembleInputError';
  }
}

export const DEFAULT_NEUTRAL_BAND = 0.1;

function classProbs(model: string, p: ArrayLike<number>): ClassProbs {
  if (p.length !== 3) throw new EnsembleInputError(`${model} gave ${p.length} probabilities, expected 3 (down, flat, up)`);
  const a = [p[0], p[1], p[2]];
  if (a.some((v) => !Number.isFinite(v) || v < 0)) throw new EnsembleInputError(`${model} gave invalid probabilities ${a.join(',')}`);
  const s = a[0] + a[1] + a[2];
  if (s <= 0) throw new EnsembleInputError(`${model} probabilities sum to 0`);
  return [a[0] / s, a[1] / s, a[2] / s];
}

/** PPO actions as class probabilities: sell ~ down, hold ~ flat, buy ~ up. */
function ppoProbs(o: PpoOutput): ClassProbs {
  if (o.probs) {
    const [hold, buy, sell] = classProbs('ppo', o.probs);
    return [sell, hold, buy];
  }
  if (o.action === 1) return [0, 0, 1];
  if (o.action === 2) return [1, 0, 0];
  if (o.action === 0) return [0, 1, 0];
  throw new EnsembleInputError(`ppo action ${o.action} is not 0, 1 or 2`);
}

/** Floor so a model at or below chance still counts a little (and old metadata without figures works). */
export const MIN_WEIGHT = 0.01;

/**
 * Weight = validation accuracy above chance (1/3 for three classes), floored at MIN_WEIGHT. Raw
 * accuracy would give a model at chance (34%) half the say of one at 67%; the excess gives it ~1/30.
 */
export function weightsFromMetadata(m: Pick<ModelMetadata, 'performance'>): EnsembleWeights {
  const w: EnsembleWeights = {};
  for (const k of ['gru', 'gbdt', 'ppo'] as const) {
    const acc = m.performance[k]?.validation.accuracy;
    w[k] = acc !== undefined && Number.isFinite(acc) ? Math.max(MIN_WEIGHT, acc - 1 / 3) : MIN_WEIGHT;
  }
  return w;
}

export function combineSignals(outputs: ModelOutputs, opts: EnsembleOptions = {}): EnsembleSignal {
  const band = opts.neutralBand ?? DEFAULT_NEUTRAL_BAND;
  const parts: { kind: ModelKind; probs: ClassProbs; w: number }[] = [];
  const weight = (k: ModelKind): number => {
    const w = opts.weights?.[k] ?? 1;
    if (!Number.isFinite(w) || w < 0) throw new EnsembleInputError(`weight for ${k} must be a non-negative number, got ${w}`);
    return w;
  };
  if (outputs.gru) parts.push({ kind: 'gru', probs: classProbs('gru', outputs.gru), w: weight('gru') });
  if (outputs.gbdt) parts.push({ kind: 'gbdt', probs: classProbs('gbdt', outputs.gbdt), w: weight('gbdt') });
  if (outputs.ppo) parts.push({ kind: 'ppo', probs: ppoProbs(outputs.ppo), w: weight('ppo') });
  const total = parts.reduce((s, p) => s + p.w, 0);
  if (parts.length === 0 || total <= 0) throw new EnsembleInputError('no model output with a positive weight to combine');
  const probs: [number, number, number] = [0, 0, 0];
  const contributions: Partial<Record<ModelKind, number>> = {};
  let score = 0;
  for (const p of parts) {
    const share = p.w / total;
    for (let c = 0; c < 3; c++) probs[c] += share * p.probs[c];
    const c = share * (p.probs[2] - p.probs[0]);
    contributions[p.kind] = c;
    score += c;
  }
  score = Math.max(-1, Math.min(1, score));
  const direction: Direction = score > band ? 'bullish' : score < -band ? 'bearish' : 'neutral';
  const confidence = direction === 'bullish' ? probs[2] : direction === 'bearish' ? probs[0] : probs[1];
  return { score, direction, confidence, contributions, probs };
}

/** The class an ensemble signal stands for (0 down, 1 flat, 2 up), for accuracy figures. */
export const directionClass = (d: Direction): 0 | 1 | 2 => (d === 'bearish' ? 0 : d === 'bullish' ? 2 : 1);

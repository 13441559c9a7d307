/**
 * Trading environment for the PPO agent, over a scaled feature matrix and next-step returns.
 *
 * Observation (documented choice): the last `window` feature rows flattened (oldest first) followed
 * by 3 portfolio values [position, unrealised PnL, cash share]. The flattened window (rather than
 * last row + summary stats) lets the MLP see the same history the sequence model sees, and keeps
 * the live predictor's job trivial: take the last window rows it already builds for the GRU.
 *
 * Long-only spot semantics: position in {0, 1}; 0 = hold (keep position), 1 = buy (go long),
 * 2 = sell (go flat). Reward for acting at row t = position_after * returns[t] - fee * |change|,
 * where returns[t] is the return from row t's close to row t+1's close (not visible at t).
 */
import { type Rng } from '../rnn/random.js';

export const PPO_ACTIONS = ['hold', 'buy', 'sell'] as const;
export type PpoAction = 0 | 1 | 2;
/** Action -> predicted return, how the ensemble reads a PPO vote. */
export const PPO_ACTION_RETURNS: readonly number[] = [0, +0.002, -0.002];
export const PORTFOLIO_FEATURES = ['position', 'unrealised_pnl', 'cash_share'] as const;

export interface PpoEnvData {
  /** nRows x nFeatures, row-major, already scaled. */
  features: Float32Array;
  nRows: number;
  nFeatures: number;
  /** returns[t] = close[t+1] / close[t] - 1 (the last row's value is never used). */
  returns: Float32Array;
}

export interface PortfolioState {
  position: number;
  unrealisedPnl: number;
  cashShare: number;
}

export class PpoInputError extends Error {
  override name = 'PpoInputError';
}

export function observationSize(window: number, nFeatures: number): number {
  return window * nFeatures + PORTFOLIO_FEATURES.length;
}

/**
 * The observation for the rows ending at `endRow` (inclusive). The live predictor calls this with
 * its own feature matrix and paper portfolio, so training and serving build it the same way.
 */
export function buildObservation(
  features: Float32Array,
  nFeatures: number,
  endRow: number,
  window: number,
  p: PortfolioState,
  out: Float32Array = new Float32Array(observationSize(window, nFeatures)),
): Float32Array {
  const start = endRow - window + 1;
  if (start < 0) throw new PpoInputError(`observation needs ${window} rows ending at row ${endRow}`);
  out.set(features.subarray(start * nFeatures, (endRow + 1) * nFeatures), 0);
  const o = window * nFeatures;
  out[o] = p.position;
  // Clipped so one runaway trade cannot saturate the tanh trunk.
  out[o + 1] = Math.max(-1, Math.min(1, p.unrealisedPnl * 10));
  out[o + 2] = p.cashShare;
  return out;
}

export function validateEnvData(d: PpoEnvData, window: number): void {
  if (!Number.isInteger(d.nFeatures) || d.nFeatures <= 0) throw new PpoInputError(`nFeatures must be a positive integer, got ${d.nFeatures}`);
  if (d.features.length !== d.nRows * d.nFeatures) {
    throw new PpoInputError(`features has ${d.features.length} values, expected nRows*nFeatures = ${d.nRows}*${d.nFeatures}`);
  }
  if (d.returns.length !== d.nRows) throw new PpoInputError(`returns has ${d.returns.length} values, expected nRows = ${d.nRows}`);
  if (d.nRows < window + 2) throw new PpoInputError(`need at least window + 2 = ${window + 2} rows, got ${d.nRows}`);
  for (let i = 0; i < d.features.length; i++) {
    if (!Number.isFinite(d.features[i])) throw new PpoInputError(`features row ${Math.floor(i / d.nFeatures)}, column ${i % d.nFeatures} is ${d.features[i]}`);
  }
  for (let t = 0; t < d.nRows - 1; t++) {
    if (!Number.isFinite(d.returns[t])) throw new PpoInputError(`returns[${t}] is ${d.returns[t]}`);
  }
}

/** One episode cursor over the data; several run side by side to batch the network calls. */
export class TradingEnv {
  private t = 0;
  private stepsInEpisode = 0;
  private readonly state: PortfolioState = { position: 0, unrealisedPnl: 0, cashShare: 1 };

  constructor(
    private readonly data: PpoEnvData,
    private readonly window: number,
    private readonly fee: number,
    private readonly episodeLength: number,
    private readonly rng: Rng,
  ) {}

  /** Start at a random row with a flat portfolio; writes the first observation into `out`. */
  reset(out: Float32Array): void {
    const first = this.window - 1;
    const last = Math.max(first, this.data.nRows - 1 - this.episodeLength);
    this.t = first + Math.floor(this.rng() * (last - first + 1));
    this.stepsInEpisode = 0;
    this.state.position = 0;
    this.state.unrealisedPnl = 0;
    this.state.cashShare = 1;
    this.observe(out);
  }

  /** Apply the action at the current row; returns the unscaled reward and whether the episode ended. */
  step(action: PpoAction): { reward: number; done: boolean } {
    const s = this.state;
    const next = action === 1 ? 1 : action === 2 ? 0 : s.position;
    const ret = this.data.returns[this.t];
    const reward = next * ret - this.fee * Math.abs(next - s.position);
    s.unrealisedPnl = next === 1 ? (s.position === 1 ? (1 + s.unrealisedPnl) * (1 + ret) - 1 : ret) : 0;
    s.position = next;
    s.cashShare = 1 - next;
    this.t++;
    this.stepsInEpisode++;
    const done = this.stepsInEpisode >= this.episodeLength || this.t >= this.data.nRows - 1;
    return { reward, done };
  }

  observe(out: Float32Array): void {
    buildObservation(this.data.features, this.data.nFeatures, this.t, this.window, this.state, out);
  }
}

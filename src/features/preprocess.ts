import { createHash } from 'node:crypto';
import { FEATURE_VERSION } from './compute.js';

/**
 * Per-symbol standard scaler. Fitted on the training slice ONLY (statistics from validation or
 * test rows would leak the future into training), then applied to every row, clipped to
 * +-CLIP so one flash-crash candle cannot dominate a network's activations.
 */
export const CLIP = 10;

export interface ScalerStats {
  mean: number[];
  std: number[];
}

export interface RowRange {
  /** Inclusive. */
  start: number;
  /** Exclusive. */
  end: number;
}

export class PreprocessorError extends Error {
  override name = 'PreprocessorError';
}

export class Preprocessor {
  private constructor(readonly names: readonly string[], readonly stats: ScalerStats) {}

  /** Fit mean/std of every column over rows [range.start, range.end) only. */
  static fit(data: Float32Array, nCols: number, names: readonly string[], range: RowRange): Preprocessor {
    if (names.length !== nCols) throw new PreprocessorError(`names has ${names.length} entries, matrix has ${nCols} columns`);
    const rows = range.end - range.start;
    if (rows < 2 || range.start < 0 || range.end * nCols > data.length) {
      throw new PreprocessorError(`bad training range [${range.start}, ${range.end}) for ${data.length / nCols} rows`);
    }
    const mean = new Array<number>(nCols).fill(0);
    const std = new Array<number>(nCols).fill(0);
    for (let r = range.start; r < range.end; r++) for (let j = 0; j < nCols; j++) mean[j] += data[r * nCols + j];
    for (let j = 0; j < nCols; j++) mean[j] /= rows;
    for (let r = range.start; r < range.end; r++) {
      for (let j = 0; j < nCols; j++) {
        const d = data[r * nCols + j] - mean[j];
        std[j] += d * d;
      }
    }
    // A constant column (e.g. gap_flag on clean data) gets std 1 so it maps to 0, not NaN.
    for (let j = 0; j < nCols; j++) {
      const s = Math.sqrt(std[j] / rows);
      std[j] = s > 1e-12 ? s : 1;
    }
    return new Preprocessor([...names], { mean, std });
  }

  /** Scaled, clipped copy of a row-major matrix with the same columns. */
  transform(data: Float32Array): Float32Array {
    const nCols = this.names.length;
    if (data.length % nCols !== 0) throw new PreprocessorError(`data length ${data.length} is not a multiple of ${nCols} columns`);
    const out = new Float32Array(data.length);
    const { mean, std } = this.stats;
    for (let i = 0; i < data.length; i++) {
      const j = i % nCols;
      const v = (data[i] - mean[j]) / std[j];
      out[i] = v > CLIP ? CLIP : v < -CLIP ? -CLIP : v;
    }
    return out;
  }

  toJSON(): { names: string[]; mean: number[]; std: number[]; clip: number } {
    return { names: [...this.names], mean: [...this.stats.mean], std: [...this.stats.std], clip: CLIP };
  }

  static fromJSON(json: unknown, source = 'preprocessor'): Preprocessor {
    const o = json as { names?: unknown; mean?: unknown; std?: unknown };
    const isNums = (a: unknown): a is number[] => Array.isArray(a) && a.every((x) => typeof x === 'number' && Number.isFinite(x));
    if (!o || !Array.isArray(o.names) || !o.names.every((x) => typeof x === 'string')) {
      throw new PreprocessorError(`${source}: "names" must be an array of strings`);
    }
    if (!isNums(o.mean) || o.mean.length !== o.names.length) throw new PreprocessorError(`${source}: "mean" must be ${o.names.length} finite numbers`);
    if (!isNums(o.std) || o.std.length !== o.names.length || o.std.some((s) => s <= 0)) {
      throw new PreprocessorError(`${source}: "std" must be ${o.names.length} positive numbers`);
    }
    return new Preprocessor(o.names as string[], { mean: o.mean, std: o.std });
  }
}

/** What is saved beside a model so inference can prove it builds the same inputs. */
export interface FeatureMetadata {
  /** Feature names in column order. */
  names: string[];
  /** order[i] = column index of names[i] in the matrix computeFeatures returns. */
  order: number[];
  window: number;
  featureVersion: number;
  scaler: ScalerStats;
  /** sha256 over names + order + window + featureVersion. */
  schemaHash: string;
}

export function schemaHash(names: readonly string[], order: readonly number[], window: number, featureVersion = FEATURE_VERSION): string {
  return createHash('sha256').update(JSON.stringify({ names, order, window, featureVersion })).digest('hex');
}

export function buildFeatureMetadata(pre: Preprocessor, window: number, allNames: readonly string[] = pre.names): FeatureMetadata {
  const names = [...pre.names];
  const order = names.map((n) => allNames.indexOf(n));
  if (order.some((i) => i < 0)) throw new PreprocessorError(`preprocessor names are not all among the computed features`);
  return {
    names,
    order,
    window,
    featureVersion: FEATURE_VERSION,
    scaler: { mean: [...pre.stats.mean], std: [...pre.stats.std] },
    schemaHash: schemaHash(names, order, window, FEATURE_VERSION),
  };
}

export interface FeatureSchemaDiff {
  /** In current, not in saved. */
  added: string[];
  /** In saved, not in current. */
  removed: string[];
  /** In both but at a different position. */
  reordered: string[];
  /** Set when the window or the feature definitions' version differ. */
  windowChanged?: { saved: number; current: number };
  versionChanged?: { saved: number; current: number };
  ok: boolean;
}

type SchemaLike = Pick<FeatureMetadata, 'names' | 'window'> & { featureVersion?: number };

export function diffFeatureSchema(saved: SchemaLike, current: SchemaLike): FeatureSchemaDiff {
  const cur = new Set(current.names);
  const old = new Set(saved.names);
  const added = current.names.filter((n) => !old.has(n));
  const removed = saved.names.filter((n) => !cur.has(n));
  // Compare relative order of the shared names so one added column does not flag all later ones.
  const sharedSaved = saved.names.filter((n) => cur.has(n));
  const sharedCur = current.names.filter((n) => old.has(n));
  const reordered = sharedSaved.filter((n, i) => sharedCur[i] !== n);
  const diff: FeatureSchemaDiff = { added, removed, reordered, ok: false };
  if (saved.window !== current.window) diff.windowChanged = { saved: saved.window, current: current.window };
  const sv = saved.featureVersion ?? FEATURE_VERSION;
  const cv = current.featureVersion ?? FEATURE_VERSION;
  if (sv !== cv) diff.versionChanged = { saved: sv, current: cv };
  diff.ok = !added.length && !removed.length && !reordered.length && !diff.windowChanged && !diff.versionChanged;
  return diff;
}

export class FeatureSchemaMismatchError extends Error {
  override name = 'FeatureSchemaMismatchError';
  constructor(readonly diff: FeatureSchemaDiff, context = 'model') {
    super(`${context}: feature schema mismatch - ${describeDiff(diff)}; the model must not be used`);
  }
}

export function describeDiff(d: FeatureSchemaDiff): string {
  const parts: string[] = [];
  if (d.added.length) parts.push(`added [${d.added.join(', ')}]`);
  if (d.removed.length) parts.push(`removed [${d.removed.join(', ')}]`);
  if (d.reordered.length) parts.push(`reordered [${d.reordered.join(', ')}]`);
  if (d.windowChanged) parts.push(`window ${d.windowChanged.saved} -> ${d.windowChanged.current}`);
  if (d.versionChanged) parts.push(`feature version ${d.versionChanged.saved} -> ${d.versionChanged.current}`);
  return parts.length ? parts.join('; ') : 'no differences';
}

/** Throws FeatureSchemaMismatchError (carrying the diff) unless saved and current agree. */
export function assertFeatureSchema(saved: SchemaLike, current: SchemaLike, context?: string): void {
  const diff = diffFeatureSchema(saved, current);
  if (!diff.ok) throw new FeatureSchemaMismatchError(diff, context);
}

import { mulberry32 } from '../../util/random.js';
import { binMatrix, fitBins } from './binning.js';
import { GbdtInputError, GbdtModel, softmaxInto, type GbdtParamsRecord, type RoundRecord } from './model.js';
import { createNativeGrower, nativeGbdtStatus, NativeTreeGrower, type GrowerStats } from './native.js';
import { meanLogLoss } from './softmax.js';
import { predictBinned, type BinnedSet, type Tree, type TreeGrower } from './tree.js';
import { TsTreeGrower } from './ts-grower.js';

/**
 * Boosting loop, multiclass softmax (XGBoost's multi:softprob): every round computes class
 * probabilities from the current margins, then grows one tree per class on
 * g = p_k - [y = k], h = max(2 p_k (1 - p_k), 1e-16) (the same hessian XGBoost uses, so equal
 * hyper-parameters mean the same thing in both).
 */
export interface GbdtDataset {
  /** Row-major nRows x nCols, cleaned features (scaling is not needed). */
  data: Float32Array;
  nRows: number;
  nCols: number;
  /** Class id per row, 0..nClasses-1. */
  labels: Uint8Array;
}

export type GbdtParams = GbdtParamsRecord & { nClasses: number };

export const DEFAULT_GBDT_PARAMS: GbdtParams = {
  nClasses: 3,
  rounds: 200,
  maxDepth: 6,
  eta: 0.1,
  lambda: 1,
  gamma: 0,
  minChildWeight: 1,
  subsample: 1,
  colsampleBytree: 1,
  maxBins: 255,
  seed: 42,
  /** 0 = off (train every round). Needs a validation set. */
  earlyStoppingRounds: 0,
};

export interface TrainGbdtOptions {
  params?: Partial<GbdtParams>;
  valid?: GbdtDataset;
  featureNames?: string[];
  /** Called after every round; a throw here aborts training with that error. */
  onRound?: (r: RoundRecord) => void;
  /** Checked before every round: training stops within one round of an abort. */
  signal?: AbortSignal;
  /**
   * Who grows the trees: 'auto' (default) the native grower when built, else TypeScript; the
   * others force one ('native' throws when it is not available). Same trees either way.
   */
  grower?: 'auto' | 'native' | 'typescript';
  /** Threads of the native grower (1 or 2; the TypeScript grower is single-threaded). Default 1. */
  threads?: number;
  /** Told once, before the first round, which grower trains and on how many threads. */
  onGrower?: (g: GrowerInfo) => void;
}

export interface GrowerInfo {
  kind: 'native' | 'typescript';
  threads: number;
  /** Why this one (the native module's path, or why it is not used). */
  reason: string;
  /** Filled in when training ends (native grower): how the helper thread took part. */
  stats?: GrowerStats;
}

export class GbdtGrowerUnavailableError extends Error {
  override name = 'GbdtGrowerUnavailableError';
}

function makeGrower(set: BinnedSet, K: number, p: GbdtParams, opts: TrainGbdtOptions): { grower: TreeGrower; info: GrowerInfo } {
  const want = opts.grower ?? 'auto';
  const status = nativeGbdtStatus();
  if (want !== 'typescript') {
    const native = createNativeGrower(set, K, p, Math.max(1, Math.floor(opts.threads ?? 1)));
    if (native) return { grower: native, info: { kind: 'native', threads: native.threads, reason: status.reason } };
    if (want === 'native') throw new GbdtGrowerUnavailableError(status.reason);
  }
  const reason = want === 'typescript' ? 'asked for the TypeScript grower' : status.reason;
  return { grower: new TsTreeGrower(set, K, p), info: { kind: 'typescript', threads: 1, reason } };
}

export class GbdtAbortedError extends Error {
  override name = 'GbdtAbortedError';
  constructor(readonly roundsDone: number) {
    super(`gbdt training aborted after ${roundsDone} rounds`);
  }
}

export async function trainGbdt(train: GbdtDataset, opts: TrainGbdtOptions = {}): Promise<GbdtModel> {
  const p: GbdtParams = { ...DEFAULT_GBDT_PARAMS, ...opts.params };
  validate(train, p, 'train');
  if (opts.valid) validate(opts.valid, p, 'valid', train.nCols);
  if (p.earlyStoppingRounds > 0 && !opts.valid) throw new GbdtInputError('earlyStoppingRounds needs a validation set');
  const { nRows, nCols } = train;
  const K = p.nClasses;
  const names = opts.featureNames ?? Array.from({ length: nCols }, (_, j) => `f${j}`);
  if (names.length !== nCols) throw new GbdtInputError(`featureNames has ${names.length} entries, data has ${nCols} columns`);

  const { cuts, bins } = fitBins(train.data, nRows, nCols, p.maxBins);
  const nBins = Int32Array.from(cuts, (c) => c.length + 1);
  const vBins = opts.valid ? binMatrix(opts.valid.data, opts.valid.nRows, nCols, cuts) : undefined;
  const margin = new Float64Array(nRows * K);
  const vMargin = opts.valid ? new Float64Array(opts.valid.nRows * K) : undefined;
  const gh = new Float64Array(2 * K * nRows);
  const rows = new Int32Array(K * nRows);
  const nUsed = new Int32Array(K);
  const inSample = new Uint8Array(K * nRows);
  const rand = mulberry32(p.seed);
  const allFeatures = Int32Array.from({ length: nCols }, (_, j) => j);
  const allRows = Int32Array.from({ length: nRows }, (_, r) => r);
  const valid = vBins ? { bins: vBins, nRows: opts.valid!.nRows } : undefined;
  const { grower, info } = makeGrower({ bins, nRows, nCols, nBins, valid }, K, p, opts);
  const py = new Float64Array(nRows);
  // Softmax of the margins -> each class's (g, h) for the next round, and the mean log loss they
  // imply (this round's training loss).
  const gradients = (): number => {
    grower.gradients(margin, train.labels, gh, py);
    return meanLogLoss(py, nRows);
  };
  const trees: Tree[] = [];
  const history: RoundRecord[] = [];
  let best = { round: -1, loss: Infinity };

  try {
    opts.onGrower?.(info);
    gradients();
    for (let round = 0; round < p.rounds; round++) {
      if (opts.signal?.aborted) throw new GbdtAbortedError(round);
      const features: Int32Array[] = [];
      for (let k = 0; k < K; k++) {
        // Same draw order as one tree at a time: rows, then features, per class.
        nUsed[k] = sampleRows(rows.subarray(k * nRows), inSample.subarray(k * nRows), allRows, p.subsample, rand);
        features.push(sampleFeatures(allFeatures, p.colsampleBytree, rand));
      }
      const roundTrees = grower.growRound({ gh, rows, nUsed, features, margin, validMargin: vMargin });
      for (let k = 0; k < K; k++) {
        const tree = roundTrees[k];
        // Sampled rows got their leaf values while growing; the rest are routed through the tree.
        if (nUsed[k] < nRows) {
          const s = k * nRows;
          for (let r = 0; r < nRows; r++) if (!inSample[s + r]) margin[r * K + k] += predictBinned(tree, bins, r * nCols);
        }
      }
      trees.push(...roundTrees);
      const rec: RoundRecord = { round, trainLoss: gradients() };
      if (opts.valid && vMargin) rec.valLoss = logLoss(vMargin, opts.valid.labels, K);
      history.push(rec);
      opts.onRound?.(rec);
      if (rec.valLoss !== undefined && rec.valLoss < best.loss) best = { round, loss: rec.valLoss };
      if (p.earlyStoppingRounds > 0 && round - best.round >= p.earlyStoppingRounds) break;
      // Let abort messages (and other engine work) in between rounds.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    if (grower instanceof NativeTreeGrower) info.stats = grower.stats();
    grower.close();
  }
  const keepRounds = p.earlyStoppingRounds > 0 ? best.round + 1 : trees.length / K;
  const { nClasses: _k, ...record } = p;
  return new GbdtModel(K, names, cuts, trees.slice(0, keepRounds * K), record, keepRounds - 1, history);
}

function validate(d: GbdtDataset, p: GbdtParams, which: string, nCols = d.nCols): void {
  if (d.nCols !== nCols) throw new GbdtInputError(`${which}: ${d.nCols} columns, expected ${nCols}`);
  if (d.data.length !== d.nRows * d.nCols) throw new GbdtInputError(`${which}: ${d.data.length} values is not ${d.nRows} x ${d.nCols}`);
  if (d.labels.length !== d.nRows) throw new GbdtInputError(`${which}: ${d.labels.length} labels for ${d.nRows} rows`);
  if (d.nRows < 2) throw new GbdtInputError(`${which}: needs at least 2 rows`);
  for (let i = 0; i < d.labels.length; i++) {
    if (d.labels[i] >= p.nClasses) throw new GbdtInputError(`${which}: label ${d.labels[i]} at row ${i} is not < ${p.nClasses}`);
  }
  if (p.subsample <= 0 || p.subsample > 1) throw new GbdtInputError(`subsample must be in (0, 1], got ${p.subsample}`);
  if (p.colsampleBytree <= 0 || p.colsampleBytree > 1) throw new GbdtInputError(`colsampleBytree must be in (0, 1], got ${p.colsampleBytree}`);
  // A tree of depth d has up to 2^(d+1) - 1 nodes, each grower keeps buffers for one: 10 is plenty.
  if (!(p.maxDepth >= 1 && p.maxDepth <= 10) || !(p.eta > 0) || !(p.lambda >= 0) || !(p.rounds >= 1)) {
    throw new GbdtInputError(`bad params (maxDepth 1..10, eta > 0, lambda >= 0, rounds >= 1): maxDepth ${p.maxDepth}, eta ${p.eta}, lambda ${p.lambda}, rounds ${p.rounds}`);
  }
}

/** Mean multiclass log loss of softmax(margin). */
export function logLoss(margin: Float64Array, labels: Uint8Array, K: number): number {
  const p = new Float64Array(K);
  let s = 0;
  for (let r = 0; r < labels.length; r++) {
    softmaxInto(margin, r * K, K, p, 0);
    s -= Math.log(Math.max(p[labels[r]], 1e-15));
  }
  return s / labels.length;
}

/** Rows a tree is grown on (ascending) into rows[0, m); `every` is 0..n-1 (the growers reorder rows). */
function sampleRows(rows: Int32Array, inSample: Uint8Array, every: Int32Array, frac: number, rand: () => number): number {
  const n = every.length;
  if (frac >= 1) {
    rows.set(every);
    inSample.fill(1, 0, n);
    return n;
  }
  let m = 0;
  for (let r = 0; r < n; r++) {
    const take = rand() < frac;
    inSample[r] = take ? 1 : 0;
    if (take) rows[m++] = r;
  }
  return m;
}

/** Features a tree may use: `every` (0..nCols-1, shared) when nothing is sampled. */
function sampleFeatures(every: Int32Array, frac: number, rand: () => number): Int32Array {
  if (frac >= 1) return every;
  const nCols = every.length;
  const all = every.slice();
  const k = Math.max(1, Math.floor(nCols * frac));
  for (let i = nCols - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = all[i];
    all[i] = all[j];
    all[j] = t;
  }
  return all.subarray(0, k).sort();
}


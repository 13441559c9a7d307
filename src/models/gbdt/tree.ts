/**
 * Regression trees on binned features and the contract of the two growers that build them
 * (ts-grower.ts, the TypeScript reference; native.ts over native/kilo_gbdt_*.c): what a round hands
 * a grower, what comes back, and the helpers both share.
 */
export interface TreeParams {
  maxDepth: number;
  minChildWeight: number;
  lambda: number;
  /** Minimum loss reduction to split (XGBoost gamma). */
  gamma: number;
  eta: number;
}

/** Nodes in preorder; a leaf has feature -1 and its (eta-scaled, float32) value in `value`. */
export interface Tree {
  feature: Int32Array;
  bin: Int32Array;
  left: Int32Array;
  right: Int32Array;
  value: Float64Array;
  gain: Float64Array;
}

/** XGBoost's kRtEps: gains below this are noise. */
export const MIN_SPLIT_GAIN = 1e-6;

/** What one round hands a grower: the training set stays fixed across rounds. */
export interface RoundInput {
  /** Class-major packed gradients: gh[(k * nRows + r) * 2] = g, [... + 1] = h. */
  gh: Float64Array;
  /** Rows of each class tree (ascending), rows[k * nRows .. + nUsed[k]]; reordered in place. */
  rows: Int32Array;
  nUsed: Int32Array;
  /** Features each class tree may split on (ascending). */
  features: Int32Array[];
  /** Row-major nRows x K margins: the rows each tree was grown on get its leaf values added. */
  margin: Float64Array;
  /** Row-major valid.nRows x K margins of the validation rows (when the set has them): every tree's value added. */
  validMargin?: Float64Array;
}

/** The shape of a training set once binned: shared by the TS grower and the native one. */
export interface BinnedSet {
  /** Row-major bins, nRows x nCols. */
  bins: Uint8Array;
  nRows: number;
  nCols: number;
  /** Bins in use per feature (cuts + 1): the split scan stops there. */
  nBins: Int32Array;
  /** Validation rows binned with the same cuts (row-major), routed through every new tree. */
  valid?: { bins: Uint8Array; nRows: number };
}

export interface TreeGrower {
  /** softmax.ts softmaxGradients over the training rows (the native grower on its threads, same bits). */
  gradients(margin: Float64Array, labels: Uint8Array, gh: Float64Array, py: Float64Array): void;
  /** Grow the K trees of one round (one per class) and add their leaf values to the margins. */
  growRound(input: RoundInput): Tree[];
  /** Free what the grower holds outside the JS heap (native buffers, threads). */
  close(): void;
}

/** A tree of n nodes copied from the grower's buffers at `at`, in one allocation (600 trees a fit). */
export function copyTree(
  n: number, at: number, feature: Int32Array, bin: Int32Array, left: Int32Array, right: Int32Array, value: Float64Array, gain: Float64Array,
): Tree {
  const buf = new ArrayBuffer(32 * n);
  const t: Tree = {
    value: new Float64Array(buf, 0, n),
    gain: new Float64Array(buf, 8 * n, n),
    feature: new Int32Array(buf, 16 * n, n),
    bin: new Int32Array(buf, 20 * n, n),
    left: new Int32Array(buf, 24 * n, n),
    right: new Int32Array(buf, 28 * n, n),
  };
  t.value.set(value.subarray(at, at + n));
  t.gain.set(gain.subarray(at, at + n));
  t.feature.set(feature.subarray(at, at + n));
  t.bin.set(bin.subarray(at, at + n));
  t.left.set(left.subarray(at, at + n));
  t.right.set(right.subarray(at, at + n));
  return t;
}

/** Nodes a tree of this depth can have (depth-wise, full binary). */
export const maxNodes = (maxDepth: number) => 2 ** (maxDepth + 1) - 1;

/** Histogram slots per feature: (g, h) per bin, the widest feature sets the stride. */
export const histStride = (nBins: Int32Array) => 2 * Math.max(1, ...nBins);

/** Route a binned row to its leaf value. */
export function predictBinned(tree: Tree, bins: Uint8Array, base: number): number {
  let n = 0;
  while (tree.feature[n] >= 0) n = bins[base + tree.feature[n]] <= tree.bin[n] ? tree.left[n] : tree.right[n];
  return tree.value[n];
}

/**
 * One regression tree on binned features, grown depth-wise from gradient/hessian histograms
 * (the XGBoost "hist" method): per node, per feature, sum g and h per bin, scan the bins for the
 * split maximising G_L^2/(H_L+lambda) + G_R^2/(H_R+lambda) - G^2/(H+lambda). Only the smaller
 * child's histogram is built; its sibling is parent minus child.
 */
export interface TreeParams {
  maxDepth: number;
  minChildWeight: number;
  lambda: number;
  /** Minimum loss reduction to split (XGBoost gamma). */
  gamma: number;
  eta: number;
}

/** Nodes in creation order; a leaf has feature -1 and its (eta-scaled, float32) value in `value`. */
export interface Tree {
  feature: Int32Array;
  bin: Int32Array;
  left: Int32Array;
  right: Int32Array;
  value: Float64Array;
  gain: Float64Array;
}

export interface TreeInput {
  /** Row-major bins, nRows x nCols. */
  bins: Uint8Array;
  nCols: number;
  grad: Float64Array;
  hess: Float64Array;
  /** Row ids used for this tree (row subsample); partitioned in place into leaves. */
  rows: Int32Array;
  /** Features allowed to split on (column subsample). */
  features: Int32Array;
  /** Bins in use per feature (cuts + 1): the split scan stops there. */
  nBins: Int32Array;
}

/** Histogram buffers reused across nodes and trees (allocating ~150 KB per split fed the GC). */
export class HistPool {
  private readonly free: Float64Array[] = [];
  constructor(private readonly size: number) {}
  acquire(): Float64Array {
    const h = this.free.pop();
    if (!h) return new Float64Array(this.size);
    h.fill(0);
    return h;
  }
  release(h: Float64Array): void {
    this.free.push(h);
  }
}

/** For each leaf: its value and the [begin, end) range of `rows` that landed in it. */
export interface LeafRange {
  value: number;
  begin: number;
  end: number;
}

const HIST_STRIDE = 512; // 256 bins x (g, h)
const EPS = 1e-6; // XGBoost's kRtEps: gains below this are noise
const NO_HIST = new Float64Array(0);

interface OpenNode {
  id: number;
  begin: number;
  end: number;
  g: number;
  h: number;
  hist: Float64Array;
  depth: number;
}

export function buildTree(input: TreeInput, p: TreeParams, tmp: Int32Array, pool: HistPool): { tree: Tree; leaves: LeafRange[] } {
  const { bins, nCols, grad, hess, rows } = input;
  const feature: number[] = [];
  const bin: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const value: number[] = [];
  const gain: number[] = [];
  const leaves: LeafRange[] = [];
  const newNode = () => {
    feature.push(-1);
    bin.push(0);
    left.push(-1);
    right.push(-1);
    value.push(0);
    gain.push(0);
    return feature.length - 1;
  };
  const makeLeaf = (n: OpenNode) => {
    const v = Math.fround((-n.g / (n.h + p.lambda)) * p.eta);
    value[n.id] = v;
    leaves.push({ value: v, begin: n.begin, end: n.end });
  };

  const rootHist = pool.acquire();
  fillHist(rootHist, bins, nCols, grad, hess, rows, 0, rows.length);
  let G = 0;
  let H = 0;
  for (let i = 0; i < rows.length; i++) {
    G += grad[rows[i]];
    H += hess[rows[i]];
  }
  let level: OpenNode[] = [{ id: newNode(), begin: 0, end: rows.length, g: G, h: H, hist: rootHist, depth: 0 }];
  while (level.length) {
    const next: OpenNode[] = [];
    for (const n of level) {
      const best = n.depth < p.maxDepth ? findSplit(n, input.features, input.nBins, p) : undefined;
      if (!best) {
        makeLeaf(n);
        if (n.hist.length) pool.release(n.hist);
        continue;
      }
      const mid = partition(bins, nCols, rows, n.begin, n.end, best.feature, best.bin, tmp);
      const l = newNode();
      const r = newNode();
      feature[n.id] = best.feature;
      bin[n.id] = best.bin;
      left[n.id] = l;
      right[n.id] = r;
      gain[n.id] = best.gain;
      const lNode: OpenNode = { id: l, begin: n.begin, end: mid, g: best.gl, h: best.hl, hist: n.hist, depth: n.depth + 1 };
      const rNode: OpenNode = { id: r, begin: mid, end: n.end, g: n.g - best.gl, h: n.h - best.hl, hist: n.hist, depth: n.depth + 1 };
      if (n.depth + 1 < p.maxDepth) {
        // Build the smaller child's histogram; the parent's buffer becomes the sibling's.
        const small = mid - n.begin <= n.end - mid ? lNode : rNode;
        const big = small === lNode ? rNode : lNode;
        const h = pool.acquire();
        fillHist(h, bins, nCols, grad, hess, rows, small.begin, small.end);
        const parent = n.hist;
        for (let i = 0; i < parent.length; i++) parent[i] -= h[i];
        small.hist = h;
        big.hist = parent;
      } else {
        pool.release(n.hist);
        lNode.hist = rNode.hist = NO_HIST;
      }
      next.push(lNode, rNode);
    }
    level = next;
  }
  const tree: Tree = {
    feature: Int32Array.from(feature),
    bin: Int32Array.from(bin),
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    value: Float64Array.from(value),
    gain: Float64Array.from(gain),
  };
  return { tree, leaves };
}

function fillHist(
  hist: Float64Array,
  bins: Uint8Array,
  nCols: number,
  grad: Float64Array,
  hess: Float64Array,
  rows: Int32Array,
  begin: number,
  end: number,
): void {
  for (let i = begin; i < end; i++) {
    const r = rows[i];
    const g = grad[r];
    const h = hess[r];
    let base = r * nCols;
    let off = 0;
    for (let f = 0; f < nCols; f++, off += HIST_STRIDE) {
      const k = off + (bins[base++] << 1);
      hist[k] += g;
      hist[k + 1] += h;
    }
  }
}

interface Split {
  feature: number;
  bin: number;
  gain: number;
  gl: number;
  hl: number;
}

function findSplit(n: OpenNode, features: Int32Array, nBins: Int32Array, p: TreeParams): Split | undefined {
  if (n.h < 2 * p.minChildWeight) return undefined;
  const parentScore = (n.g * n.g) / (n.h + p.lambda);
  let best: Split | undefined;
  let bestGain = Math.max(EPS, p.gamma);
  for (let fi = 0; fi < features.length; fi++) {
    const f = features[fi];
    const off = f * HIST_STRIDE;
    let gl = 0;
    let hl = 0;
    // Split "bin <= b"; the last bin can only be a right side.
    const last = nBins[f] - 1;
    for (let b = 0; b < last; b++) {
      const hb = n.hist[off + 2 * b + 1];
      // An empty bin moves nothing across the split: same candidate as the previous bin.
      if (hb === 0) continue;
      gl += n.hist[off + 2 * b];
      hl += hb;
      if (hl < p.minChildWeight) continue;
      const hr = n.h - hl;
      if (hr < p.minChildWeight) break;
      const gr = n.g - gl;
      const gain = (gl * gl) / (hl + p.lambda) + (gr * gr) / (hr + p.lambda) - parentScore;
      if (gain > bestGain) {
        bestGain = gain;
        best = { feature: f, bin: b, gain, gl, hl };
      }
    }
  }
  return best;
}

/** Stable in-place partition of rows[begin, end): bin <= splitBin first. Returns the boundary. */
function partition(
  bins: Uint8Array,
  nCols: number,
  rows: Int32Array,
  begin: number,
  end: number,
  f: number,
  splitBin: number,
  tmp: Int32Array,
): number {
  let w = begin;
  let t = 0;
  for (let i = begin; i < end; i++) {
    const r = rows[i];
    if (bins[r * nCols + f] <= splitBin) rows[w++] = r;
    else tmp[t++] = r;
  }
  rows.set(tmp.subarray(0, t), w);
  return w;
}

/** Route a binned row to its leaf value. */
export function predictBinned(tree: Tree, bins: Uint8Array, base: number): number {
  let n = 0;
  while (tree.feature[n] >= 0) n = bins[base + tree.feature[n]] <= tree.bin[n] ? tree.left[n] : tree.right[n];
  return tree.value[n];
}

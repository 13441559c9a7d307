/**
 * The TypeScript tree grower: regression trees on binned features, grown from gradient/hessian
 * histograms (the XGBoost "hist" method, depth-wise semantics): per node, per feature, sum g and h
 * per bin, scan the bins for the split maximising
 * G_L^2/(H_L+lambda) + G_R^2/(H_R+lambda) - G^2/(H+lambda).
 *
 * This file is the reference (pure TypeScript) grower; native/kilo_gbdt_*.c does the same
 * arithmetic in the same order, so both grow bit-identical trees (test/models/gbdt-native.test.ts).
 * What makes it fast, and what the native grower must keep doing the same way:
 * - Trees grow depth-first (preorder node ids). Every node above maxDepth with a split of positive
 *   gain is split, so the tree equals the breadth-first one; depth-first keeps only one pending
 *   histogram per level alive (a few hundred KB that stay in cache instead of a level's worth).
 * - Only the smaller child's histogram is summed; the parent's buffer becomes the sibling's
 *   (parent - child). Buffers come from a pool: no allocation per node or per tree.
 * - Without row subsampling the K class trees of a round share one pass over the bins for their
 *   roots (the largest histograms: every row): one byte load feeds K histograms.
 * - A node's children are scanned by the node: when their own children will be leaves, the larger
 *   child is read as parent - smaller and never stored.
 * - Gradients/hessians are packed per row ((g, h) adjacent, one array per class); rows are
 *   partitioned in place (stable, so every histogram sums its rows in ascending row order), reading
 *   a column-major copy of the bins.
 */
import { softmaxGradients } from './softmax.js';
import { histStride, maxNodes, MIN_SPLIT_GAIN, copyTree, predictBinned, type BinnedSet, type RoundInput, type Tree, type TreeGrower, type TreeParams } from './tree.js';

export class TsTreeGrower implements TreeGrower {
  private readonly free: Float64Array[] = [];
  private readonly histLen: number;
  private readonly stride: number;
  private readonly tmp: Int32Array;
  /** Column-major copy of the bins: a partition reads one feature of a node's (ascending) rows. */
  private readonly cols: Uint8Array;
  // Node buffers of the tree being grown (preorder), copied out per tree.
  private readonly nFeature: Int32Array;
  private readonly nBin: Int32Array;
  private readonly nLeft: Int32Array;
  private readonly nRight: Int32Array;
  private readonly nValue: Float64Array;
  private readonly nGain: Float64Array;
  private nodeCount = 0;
  // Per-tree context (set by growRound before growing class k's tree).
  private ghOff = 0;
  private rowsBase = 0;
  private cls = 0;
  private feats: Int32Array = new Int32Array(0);
  private gh: Float64Array = new Float64Array(0);
  private rows: Int32Array = new Int32Array(0);
  private margin: Float64Array = new Float64Array(0);
  /**
   * Best splits found for the nodes about to be grown, 2 per depth (left, right child): a node's
   * children are scanned by the parent, so the larger child of the last scanned level can be read
   * as parent - smaller without ever being stored. Slot s: [found, feature, bin, gain, gl, hl].
   */
  private readonly splits: Float64Array;
  private readonly prow: Float64Array;
  /** The K = 3 roots summed together, (g, h) of the 3 classes per bin. */
  private readonly roots3: Float64Array;

  constructor(
    private readonly set: BinnedSet,
    private readonly K: number,
    private readonly p: TreeParams,
  ) {
    this.stride = histStride(set.nBins);
    this.histLen = this.stride * set.nCols;
    this.tmp = new Int32Array(set.nRows);
    this.cols = columnMajor(set);
    const n = maxNodes(p.maxDepth);
    this.nFeature = new Int32Array(n);
    this.nBin = new Int32Array(n);
    this.nLeft = new Int32Array(n);
    this.nRight = new Int32Array(n);
    this.nValue = new Float64Array(n);
    this.nGain = new Float64Array(n);
    this.splits = new Float64Array(2 * (p.maxDepth + 1) * SLOT);
    this.prow = new Float64Array(K);
    this.roots3 = new Float64Array(K === 3 ? 3 * this.histLen : 0);
  }

  close(): void {
    this.free.length = 0;
  }

  gradients(margin: Float64Array, labels: Uint8Array, gh: Float64Array, py: Float64Array): void {
    softmaxGradients(margin, labels, this.set.nRows, this.K, gh, py, this.prow);
  }

  growRound(input: RoundInput): Tree[] {
    const { nRows } = this.set;
    const K = this.K;
    this.gh = input.gh;
    this.rows = input.rows;
    this.margin = input.margin;
    let shared = K > 1;
    for (let k = 0; k < K; k++) if (input.nUsed[k] !== nRows) shared = false;
    const roots: Float64Array[] = [];
    const sums = new Float64Array(2 * K);
    if (shared) {
      for (let k = 0; k < K; k++) roots.push(this.acquire());
      this.fillRoots(roots, sums);
    }
    const trees: Tree[] = [];
    for (let k = 0; k < K; k++) {
      this.cls = k;
      this.ghOff = k * nRows * 2;
      this.rowsBase = k * nRows;
      this.feats = input.features[k];
      const n = input.nUsed[k];
      let hist: Float64Array;
      if (shared) {
        hist = roots[k];
      } else {
        hist = this.acquire();
        this.fillHist(hist, this.rowsBase, this.rowsBase + n);
        let g = 0;
        let h = 0;
        const gh = this.gh;
        for (let i = this.rowsBase; i < this.rowsBase + n; i++) {
          const j = this.ghOff + 2 * this.rows[i];
          g += gh[j];
          h += gh[j + 1];
        }
        sums[2 * k] = g;
        sums[2 * k + 1] = h;
      }
      this.nodeCount = 0;
      this.findSplit(hist, NO_HIST, false, sums[2 * k], sums[2 * k + 1], 0);
      this.grow(hist, this.rowsBase, this.rowsBase + n, sums[2 * k], sums[2 * k + 1], 0, 0);
      const tree = this.takeTree();
      const valid = this.set.valid;
      const vm = input.validMargin;
      if (valid && vm) {
        const nCols = this.set.nCols;
        for (let r = 0; r < valid.nRows; r++) vm[r * K + k] += predictBinned(tree, valid.bins, r * nCols);
      }
      trees.push(tree);
    }
    return trees;
  }

  private takeTree(): Tree {
    return copyTree(this.nodeCount, 0, this.nFeature, this.nBin, this.nLeft, this.nRight, this.nValue, this.nGain);
  }

  private acquire(): Float64Array {
    const h = this.free.pop();
    if (!h) return new Float64Array(this.histLen);
    h.fill(0);
    return h;
  }

  /**
   * Grows the subtree of rows[begin, end) whose best split is already in slot `slot` of
   * this.splits; `hist` is its histogram when its children will need one (else empty).
   */
  private grow(hist: Float64Array, begin: number, end: number, g: number, h: number, depth: number, slot: number): number {
    const p = this.p;
    const sp = this.splits;
    const id = this.nodeCount++;
    const o = slot * SLOT;
    if (depth >= p.maxDepth || sp[o] === 0) {
      if (hist.length) this.free.push(hist);
      const v = Math.fround((-g / (h + p.lambda)) * p.eta);
      this.nFeature[id] = -1;
      this.nBin[id] = 0;
      this.nLeft[id] = -1;
      this.nRight[id] = -1;
      this.nValue[id] = v;
      this.nGain[id] = 0;
      const { rows, margin, K, cls } = this;
      for (let i = begin; i < end; i++) margin[rows[i] * K + cls] += v;
      return id;
    }
    const f = sp[o + 1];
    const b = sp[o + 2];
    const gl = sp[o + 4];
    const hl = sp[o + 5];
    this.nFeature[id] = f;
    this.nBin[id] = b;
    this.nValue[id] = 0;
    this.nGain[id] = sp[o + 3];
    const mid = this.partition(begin, end, f, b);
    const gr = g - gl;
    const hr = h - hl;
    const lSlot = 2 * (depth + 1);
    const rSlot = lSlot + 1;
    let lHist: Float64Array = NO_HIST;
    let rHist: Float64Array = NO_HIST;
    if (depth + 1 < p.maxDepth) {
      // Sum the smaller child; the parent's buffer becomes the sibling's (parent - child).
      const small = this.acquire();
      const leftSmall = mid - begin <= end - mid;
      if (leftSmall) this.fillHist(small, begin, mid);
      else this.fillHist(small, mid, end);
      this.findSplit(small, NO_HIST, false, leftSmall ? gl : gr, leftSmall ? hl : hr, leftSmall ? lSlot : rSlot);
      // Unless the children's children are leaves, the larger child's histogram is kept.
      const keep = depth + 2 < p.maxDepth;
      this.findSplit(hist, small, keep, leftSmall ? gr : gl, leftSmall ? hr : hl, leftSmall ? rSlot : lSlot);
      if (keep) {
        lHist = leftSmall ? small : hist;
        rHist = leftSmall ? hist : small;
      } else {
        this.free.push(hist, small);
      }
    } else {
      if (hist.length) this.free.push(hist);
      sp[lSlot * SLOT] = 0;
      sp[rSlot * SLOT] = 0;
    }
    this.nLeft[id] = this.grow(lHist, begin, mid, gl, hl, depth + 1, lSlot);
    this.nRight[id] = this.grow(rHist, mid, end, gr, hr, depth + 1, rSlot);
    return id;
  }

  /** Roots of all K class trees in one pass over every row's bins. */
  private fillRoots(roots: Float64Array[], sums: Float64Array): void {
    const { bins, nCols, nRows } = this.set;
    const { gh, stride, K, histLen } = this;
    if (K === 3) {
      // The three classes' (g, h) of a bin side by side (6 doubles, one cache line), then dealt
      // out to the three histograms: a third of the lines touched per bin.
      const h6 = this.roots3;
      h6.fill(0);
      const o1 = 2 * nRows;
      const o2 = 4 * nRows;
      const s3 = 3 * stride;
      let G0 = 0, H0 = 0, G1 = 0, H1 = 0, G2 = 0, H2 = 0;
      for (let r = 0, base = 0; r < nRows; r++) {
        const j = 2 * r;
        const g0 = gh[j], e0 = gh[j + 1];
        const g1 = gh[o1 + j], e1 = gh[o1 + j + 1];
        const g2 = gh[o2 + j], e2 = gh[o2 + j + 1];
        G0 += g0; H0 += e0; G1 += g1; H1 += e1; G2 += g2; H2 += e2;
        for (let off = 0, end = 3 * histLen; off < end; off += s3) {
          const k = off + 6 * bins[base++];
          h6[k] += g0;
          h6[k + 1] += e0;
          h6[k + 2] += g1;
          h6[k + 3] += e1;
          h6[k + 4] += g2;
          h6[k + 5] += e2;
        }
      }
      const [h0, h1, h2] = roots;
      for (let i = 0, k = 0; i < histLen; i += 2, k += 6) {
        h0[i] = h6[k];
        h0[i + 1] = h6[k + 1];
        h1[i] = h6[k + 2];
        h1[i + 1] = h6[k + 3];
        h2[i] = h6[k + 4];
        h2[i + 1] = h6[k + 5];
      }
      sums[0] = G0;
      sums[1] = H0;
      sums[2] = G1;
      sums[3] = H1;
      sums[4] = G2;
      sums[5] = H2;
      return;
    }
    for (let k = 0; k < K; k++) {
      const hist = roots[k];
      const o = k * nRows * 2;
      let G = 0;
      let H = 0;
      for (let r = 0, base = 0; r < nRows; r++) {
        const g = gh[o + 2 * r];
        const h = gh[o + 2 * r + 1];
        G += g;
        H += h;
        for (let f = 0, off = 0; f < nCols; f++, off += stride) {
          const i = off + (bins[base++] << 1);
          hist[i] += g;
          hist[i + 1] += h;
        }
      }
      sums[2 * k] = G;
      sums[2 * k + 1] = H;
    }
  }

  private fillHist(hist: Float64Array, begin: number, end: number): void {
    const { bins, nCols } = this.set;
    const { gh, rows, stride, ghOff } = this;
    const len4 = (nCols - (nCols % 4)) * stride;
    const len = nCols * stride;
    const s2 = 2 * stride;
    const s3 = 3 * stride;
    const s4 = 4 * stride;
    for (let i = begin; i < end; i++) {
      const r = rows[i];
      const g = gh[ghOff + 2 * r];
      const h = gh[ghOff + 2 * r + 1];
      let base = r * nCols;
      let off = 0;
      // Four features a step: a quarter of the loop overhead of the adds.
      for (; off < len4; off += s4, base += 4) {
        const k0 = off + (bins[base] << 1);
        const k1 = off + stride + (bins[base + 1] << 1);
        const k2 = off + s2 + (bins[base + 2] << 1);
        const k3 = off + s3 + (bins[base + 3] << 1);
        hist[k0] += g;
        hist[k0 + 1] += h;
        hist[k1] += g;
        hist[k1 + 1] += h;
        hist[k2] += g;
        hist[k2 + 1] += h;
        hist[k3] += g;
        hist[k3 + 1] += h;
      }
      for (; off < len; off += stride) {
        const k = off + (bins[base++] << 1);
        hist[k] += g;
        hist[k + 1] += h;
      }
    }
  }

  /**
   * Best split of a node into slot `slot` of this.splits (found = 0 when no split gains more than
   * the minimum). The node's histogram is `hist`, or hist - sub when `sub` is not empty: then each
   * bin is subtracted into `hist` as the scan reaches it (one pass, not two), and when `keep` (its
   * children will derive theirs from it) the bins after the scan stopped are subtracted too.
   * Otherwise the caller releases `hist` right after, so what the scan left in it does not matter.
   */
  private findSplit(hist: Float64Array, sub: Float64Array, keep: boolean, G: number, H: number, slot: number): void {
    const o = slot * SLOT;
    const sp = this.splits;
    sp[o] = 0;
    const { minChildWeight: mcw, lambda, gamma } = this.p;
    const { nBins } = this.set;
    const lazy = sub.length > 0;
    const feats = this.feats;
    const stride = this.stride;
    // A node that cannot split is a leaf: its histogram, subtracted or not, is not needed.
    if (H < 2 * mcw) return;
    const parentScore = (G * G) / (H + lambda);
    let bestGain = Math.max(MIN_SPLIT_GAIN, gamma);
    for (let fi = 0; fi < feats.length; fi++) {
      const f = feats[fi];
      const off = f * stride;
      // Split "bin <= b"; the last bin can only be a right side.
      const end = off + 2 * (nBins[f] - 1);
      let gl = 0;
      let hl = 0;
      let i = off;
      // The two loops differ only in where a bin's (g, h) comes from; keep their bodies alike.
      if (!lazy) {
        for (; i < end; i += 2) {
          const hb = hist[i + 1];
          // An empty bin moves nothing across the split: same candidate as the previous bin.
          if (hb === 0) continue;
          gl += hist[i];
          hl += hb;
          if (hl < mcw) continue;
          const hr = H - hl;
          if (hr < mcw) break;
          const gr = G - gl;
          const gain = (gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - parentScore;
          if (gain > bestGain) {
            bestGain = gain;
            sp[o] = 1;
            sp[o + 1] = f;
            sp[o + 2] = (i - off) >> 1;
            sp[o + 4] = gl;
            sp[o + 5] = hl;
          }
        }
        continue;
      }
      for (; i < end; i += 2) {
        const gb = hist[i] - sub[i];
        const hb = hist[i + 1] - sub[i + 1];
        hist[i] = gb;
        hist[i + 1] = hb;
        if (hb === 0) continue;
        gl += gb;
        hl += hb;
        if (hl < mcw) continue;
        const hr = H - hl;
        if (hr < mcw) {
          i += 2;
          break;
        }
        const gr = G - gl;
        const gain = (gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - parentScore;
        if (gain > bestGain) {
          bestGain = gain;
          sp[o] = 1;
          sp[o + 1] = f;
          sp[o + 2] = (i - off) >> 1;
          sp[o + 4] = gl;
          sp[o + 5] = hl;
        }
      }
      if (keep) for (const e = end + 2; i < e; i++) hist[i] -= sub[i];
    }
    sp[o + 3] = bestGain;
  }

  /** Stable in-place partition of rows[begin, end): bin <= splitBin first. Returns the boundary. */
  private partition(begin: number, end: number, f: number, splitBin: number): number {
    const { rows, tmp, cols } = this;
    const o = f * this.set.nRows;
    let w = begin;
    let t = 0;
    // Branch-free: which side a row goes is a coin toss to the branch predictor.
    for (let i = begin; i < end; i++) {
      const r = rows[i];
      const left = cols[o + r] <= splitBin ? 1 : 0;
      rows[w] = r;
      tmp[t] = r;
      w += left;
      t += 1 - left;
    }
    rows.set(tmp.subarray(0, t), w);
    return w;
  }
}

const NO_HIST: Float64Array = new Float64Array(0);
/** Numbers per split slot: found, feature, bin, gain, gl, hl. */
const SLOT = 6;

function columnMajor({ bins, nRows, nCols }: BinnedSet): Uint8Array {
  const out = new Uint8Array(bins.length);
  for (let r = 0, i = 0; r < nRows; r++) for (let j = 0; j < nCols; j++) out[j * nRows + r] = bins[i++];
  return out;
}

import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Cuts } from './binning.js';
import type { Tree } from './tree.js';

/**
 * A trained multiclass GBDT: trees in round-major order (round 0 class 0, round 0 class 1, ...),
 * flattened into typed arrays so one-row prediction is a tight loop with no allocation.
 * Thresholds are float32 cut values: a row goes left when x < threshold (NaN goes right).
 */
export interface GbdtParamsRecord {
  rounds: number;
  maxDepth: number;
  eta: number;
  lambda: number;
  gamma: number;
  minChildWeight: number;
  subsample: number;
  colsampleBytree: number;
  maxBins: number;
  seed: number;
  earlyStoppingRounds: number;
}

export interface RoundRecord {
  round: number;
  trainLoss: number;
  valLoss?: number;
}

export class GbdtModelFormatError extends Error {
  override name = 'GbdtModelFormatError';
}

export class GbdtInputError extends Error {
  override name = 'GbdtInputError';
}

const FORMAT = 'kilo-gbdt';
const FORMAT_VERSION = 1;
const LEAF = 0xffff;

export interface GbdtModelJSON {
  format: typeof FORMAT;
  formatVersion: number;
  nClasses: number;
  nFeatures: number;
  featureNames: string[];
  params: GbdtParamsRecord;
  bestIteration: number;
  history: RoundRecord[];
  /** Number of cuts per feature; the cut values (float32) are concatenated in `cuts`. */
  cutCounts: number[];
  cuts: string;
  nTrees: number;
  /** Preorder per tree, deflated + base64: uint16 feature per node (0xffff = leaf). */
  nodeFeatures: string;
  /** uint8 split bin per internal node, preorder. */
  nodeBins: string;
  /** float32 value per leaf, preorder. */
  leafValues: string;
  /** Total split gain per feature. */
  gain: number[];
}

export class GbdtModel {
  /** Per node: [feature (-1 = leaf), index of left child]; the right child is left + 1. */
  private readonly nodeI: Int32Array;
  /** Per node: float32 threshold (internal) or leaf value. */
  private readonly nodeF: Float32Array;
  private readonly roots: Int32Array;
  private readonly margin: Float64Array;
  private readonly gainTotals: Float64Array;
  private readonly splitCounts: Int32Array;

  constructor(
    readonly nClasses: number,
    readonly featureNames: string[],
    readonly cuts: Cuts,
    readonly trees: Tree[],
    readonly params: GbdtParamsRecord,
    /** Index (0-based) of the round kept as best; trees beyond it were dropped. */
    readonly bestIteration: number,
    readonly history: RoundRecord[],
    /** Total gain per feature when the trees no longer carry per-node gains (loaded from JSON). */
    savedGain?: number[],
  ) {
    this.gainTotals = new Float64Array(cuts.length);
    this.splitCounts = new Int32Array(cuts.length);
    for (const t of trees) {
      for (let i = 0; i < t.feature.length; i++) {
        if (t.feature[i] < 0) continue;
        this.gainTotals[t.feature[i]] += t.gain[i];
        this.splitCounts[t.feature[i]]++;
      }
    }
    if (savedGain) this.gainTotals.set(savedGain);
    let total = 0;
    for (const t of trees) total += t.feature.length;
    this.nodeI = new Int32Array(2 * total);
    this.nodeF = new Float32Array(total);
    this.roots = new Int32Array(trees.length);
    // Breadth-first renumbering puts siblings side by side: one array read picks the child.
    let next = 0;
    trees.forEach((t, ti) => {
      const queue = [0];
      const ids = [next++];
      this.roots[ti] = ids[0];
      for (let q = 0; q < queue.length; q++) {
        const src = queue[q];
        const dst = ids[q];
        const f = t.feature[src];
        this.nodeI[2 * dst] = f;
        if (f < 0) {
          this.nodeF[dst] = t.value[src];
          continue;
        }
        this.nodeF[dst] = cuts[f][t.bin[src]];
        this.nodeI[2 * dst + 1] = next;
        queue.push(t.left[src], t.right[src]);
        ids.push(next, next + 1);
        next += 2;
      }
    });
    this.margin = new Float64Array(nClasses);
  }

  get nFeatures(): number {
    return this.cuts.length;
  }

  get nRounds(): number {
    return this.trees.length / this.nClasses;
  }

  /** Class probabilities of one row (use the Float32 feature row: thresholds are float32). */
  predictProbaRow(row: ArrayLike<number>, out: Float64Array = new Float64Array(this.nClasses), offset = 0): Float64Array {
    const K = this.nClasses;
    const m = this.margin;
    m.fill(0);
    const { nodeI, nodeF, roots } = this;
    for (let t = 0, k = 0; t < roots.length; t++, k = k + 1 === K ? 0 : k + 1) {
      let n = roots[t];
      let f = nodeI[2 * n];
      while (f >= 0) {
        n = nodeI[2 * n + 1] + (row[offset + f] < nodeF[n] ? 0 : 1);
        f = nodeI[2 * n];
      }
      m[k] += nodeF[n];
    }
    softmaxInto(m, 0, K, out, 0);
    return out;
  }

  /** Probabilities for nRows rows of a row-major matrix: Float32Array nRows x nClasses. */
  predictProba(data: Float32Array, nRows = data.length / this.nFeatures): Float32Array {
    if (!Number.isInteger(nRows) || data.length !== nRows * this.nFeatures) {
      throw new GbdtInputError(`predict: ${data.length} values is not ${nRows} rows x ${this.nFeatures} features`);
    }
    const K = this.nClasses;
    const out = new Float32Array(nRows * K);
    const p = new Float64Array(K);
    for (let r = 0; r < nRows; r++) {
      this.predictProbaRow(data, p, r * this.nFeatures);
      for (let k = 0; k < K; k++) out[r * K + k] = p[k];
    }
    return out;
  }

  /** Arg-max class per row. */
  predictClass(data: Float32Array, nRows = data.length / this.nFeatures): Uint8Array {
    const p = this.predictProba(data, nRows);
    const K = this.nClasses;
    const out = new Uint8Array(nRows);
    for (let r = 0; r < nRows; r++) {
      let best = 0;
      for (let k = 1; k < K; k++) if (p[r * K + k] > p[r * K + best]) best = k;
      out[r] = best;
    }
    return out;
  }

  /** Total split gain per feature, highest first (XGBoost's "total_gain"). */
  featureImportance(): { name: string; gain: number; splits: number }[] {
    return this.featureNames
      .map((name, j) => ({ name, gain: this.gainTotals[j], splits: this.splitCounts[j] }))
      .sort((a, b) => b.gain - a.gain);
  }

  toJSON(): GbdtModelJSON {
    const feats: number[] = [];
    const bins: number[] = [];
    const leaves: number[] = [];
    for (const t of this.trees) {
      const stack = [0];
      while (stack.length) {
        const n = stack.pop()!;
        if (t.feature[n] < 0) {
          feats.push(LEAF);
          leaves.push(t.value[n]);
        } else {
          feats.push(t.feature[n]);
          bins.push(t.bin[n]);
          stack.push(t.right[n], t.left[n]);
        }
      }
    }
    const cutCounts = this.cuts.map((c) => c.length);
    const allCuts = new Float32Array(cutCounts.reduce((a, b) => a + b, 0));
    let o = 0;
    for (const c of this.cuts) {
      allCuts.set(c, o);
      o += c.length;
    }
    return {
      format: FORMAT,
      formatVersion: FORMAT_VERSION,
      nClasses: this.nClasses,
      nFeatures: this.nFeatures,
      featureNames: [...this.featureNames],
      params: { ...this.params },
      bestIteration: this.bestIteration,
      history: this.history.map((h) => ({ ...h })),
      cutCounts,
      cuts: pack(new Uint8Array(allCuts.buffer)),
      nTrees: this.trees.length,
      nodeFeatures: pack(new Uint8Array(Uint16Array.from(feats).buffer)),
      nodeBins: pack(Uint8Array.from(bins)),
      leafValues: pack(new Uint8Array(Float32Array.from(leaves).buffer)),
      gain: Array.from(this.gainTotals),
    };
  }

  static fromJSON(json: unknown, source = 'gbdt model'): GbdtModel {
    const j = json as Partial<GbdtModelJSON>;
    if (!j || j.format !== FORMAT) throw new GbdtModelFormatError(`${source}: not a ${FORMAT} model (format ${String(j?.format)})`);
    if (j.formatVersion !== FORMAT_VERSION) throw new GbdtModelFormatError(`${source}: unsupported formatVersion ${j.formatVersion}`);
    const need = ['nClasses', 'nFeatures', 'featureNames', 'params', 'bestIteration', 'cutCounts', 'cuts', 'nTrees', 'nodeFeatures', 'nodeBins', 'leafValues'] as const;
    for (const k of need) if (j[k] === undefined) throw new GbdtModelFormatError(`${source}: missing "${k}"`);
    try {
      const allCuts = new Float32Array(toAligned(unpack(j.cuts!)));
      const cuts: Cuts = [];
      let o = 0;
      for (const c of j.cutCounts!) {
        cuts.push(allCuts.slice(o, o + c));
        o += c;
      }
      if (cuts.length !== j.nFeatures || o !== allCuts.length) throw new Error('cut counts do not match the cut data');
      const feats = new Uint16Array(toAligned(unpack(j.nodeFeatures!)));
      const bins = unpack(j.nodeBins!);
      const leaves = new Float32Array(toAligned(unpack(j.leafValues!)));
      const cursor = { f: 0, b: 0, l: 0 };
      const trees: Tree[] = [];
      for (let t = 0; t < j.nTrees!; t++) trees.push(readTree(feats, bins, leaves, cursor, j.nFeatures!));
      if (cursor.f !== feats.length || cursor.b !== bins.length || cursor.l !== leaves.length) throw new Error('trailing node data');
      return new GbdtModel(j.nClasses!, j.featureNames!, cuts, trees, j.params!, j.bestIteration!, j.history ?? [], j.gain);
    } catch (err) {
      if (err instanceof GbdtModelFormatError) throw err;
      throw new GbdtModelFormatError(`${source}: corrupt tree data (${(err as Error).message})`);
    }
  }
}

function readTree(feats: Uint16Array, bins: Uint8Array, leaves: Float32Array, c: { f: number; b: number; l: number }, nFeatures: number): Tree {
  const feature: number[] = [];
  const bin: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const value: number[] = [];
  const gain: number[] = [];
  const visit = (): number => {
    if (c.f >= feats.length) throw new Error('node data ends mid-tree');
    const id = feature.length;
    const f = feats[c.f++];
    feature.push(f === LEAF ? -1 : f);
    bin.push(0);
    left.push(-1);
    right.push(-1);
    value.push(0);
    gain.push(0);
    if (f === LEAF) {
      value[id] = leaves[c.l++];
    } else {
      if (f >= nFeatures) throw new Error(`feature index ${f} >= ${nFeatures}`);
      bin[id] = bins[c.b++];
      left[id] = visit();
      right[id] = visit();
    }
    return id;
  };
  visit();
  return {
    feature: Int32Array.from(feature),
    bin: Int32Array.from(bin),
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    value: Float64Array.from(value),
    gain: Float64Array.from(gain),
  };
}

const pack = (bytes: Uint8Array): string => deflateRawSync(bytes).toString('base64');
const unpack = (s: string): Uint8Array => new Uint8Array(inflateRawSync(Buffer.from(s, 'base64')));
/** Typed-array views need an aligned, exactly sized buffer. */
const toAligned = (u: Uint8Array): ArrayBuffer => u.slice().buffer;

export function softmaxInto(m: ArrayLike<number>, mo: number, K: number, out: Float64Array, oo: number): void {
  let max = -Infinity;
  for (let k = 0; k < K; k++) if (m[mo + k] > max) max = m[mo + k];
  let s = 0;
  for (let k = 0; k < K; k++) {
    const e = Math.exp(m[mo + k] - max);
    out[oo + k] = e;
    s += e;
  }
  for (let k = 0; k < K; k++) out[oo + k] /= s;
}

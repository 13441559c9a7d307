/**
 * kilo's native tree grower (native/kilo_gbdt.c, built on `npm ci` by native/build-gbdt.mjs):
 * the same trees as TsTreeGrower, bit for bit, several times faster, on one or two threads.
 * Only training uses it; models are the same JSON either way and load and predict in TypeScript,
 * so an artifact trained with it serves on a machine without the build.
 *
 * Load order: KILO_NATIVE=0 or KILO_GBDT_NATIVE=0 turns it off; else build/native/kilo_gbdt.node
 * when it exists and carries the expected ABI number; else the TypeScript grower, with the reason
 * kept for `kilo doctor`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { copyTree, maxNodes, type BinnedSet, type RoundInput, type Tree, type TreeGrower, type TreeParams } from './tree.js';

/** Must equal KILO_GBDT_ABI in native/kilo_gbdt.c. */
const EXPECTED_ABI = 1;

type Handle = object;

interface NativeModule {
  abi?: number;
  createGrower(
    bins: Uint8Array, nRows: number, nCols: number, nBins: Int32Array, validBins: Uint8Array, nValid: number,
    K: number, maxDepth: number, minChildWeight: number, lambda: number, gamma: number, eta: number, threads: number,
  ): Handle;
  growRound(
    g: Handle, gh: Float64Array, rows: Int32Array, nUsed: Int32Array, featOn: Uint8Array, margin: Float64Array, validMargin: Float64Array,
    feature: Int32Array, bin: Int32Array, left: Int32Array, right: Int32Array, value: Float64Array, gain: Float64Array, counts: Int32Array,
  ): void;
  closeGrower(g: Handle): void;
  growerThreads(g: Handle): number;
  growerStats(g: Handle): GrowerStats;
  gradients(g: Handle, margin: Float64Array, labels: Uint8Array, gh: Float64Array, py: Float64Array): void;
}

/** How the helper thread took part: jobs (one per scanned node pair or root), chunks of them it ran. */
export interface GrowerStats {
  jobs: number;
  /** Jobs offered to the helper (the others ran while it was benched for being late). */
  offered: number;
  chunks: number;
  helperChunks: number;
  /** Time the calling thread spent waiting for chunks the helper held. */
  waitMs: number;
}

export interface NativeGbdtStatus {
  /** The native grower is loaded and trains the trees. */
  active: boolean;
  /** 'native' or 'typescript'. */
  kernel: string;
  /** Why (path of the module, or why it is not used). */
  reason: string;
}

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 7; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'native'))) return dir;
    dir = dirname(dir);
  }
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

/** KILO_GBDT_NATIVE_MODULE overrides the path (the tests load a deliberately stale build through it). */
export const NATIVE_GBDT_PATH = process.env.KILO_GBDT_NATIVE_MODULE || join(packageRoot(), 'build', 'native', 'kilo_gbdt.node');

let loaded: { mod: NativeModule | null; status: NativeGbdtStatus } | undefined;

function load(): { mod: NativeModule | null; status: NativeGbdtStatus } {
  if (loaded) return loaded;
  const off = (reason: string) => ({ mod: null, status: { active: false, kernel: 'typescript', reason } });
  if (process.env.KILO_NATIVE === '0') return (loaded = off('KILO_NATIVE=0'));
  if (process.env.KILO_GBDT_NATIVE === '0') return (loaded = off('KILO_GBDT_NATIVE=0'));
  if (!existsSync(NATIVE_GBDT_PATH)) {
    const errFile = join(dirname(NATIVE_GBDT_PATH), 'gbdt-build-error.txt');
    const why = existsSync(errFile) ? readFileSync(errFile, 'utf8').trim() : 'not built';
    return (loaded = off(`native tree grower missing (${why}): run npm rebuild or npm run build:native`));
  }
  try {
    const mod = createRequire(import.meta.url)(NATIVE_GBDT_PATH) as NativeModule;
    if (mod.abi !== EXPECTED_ABI) return (loaded = off(`native tree grower is a stale build (abi ${mod.abi ?? 'none'}, expected ${EXPECTED_ABI}): run npm run build:native`));
    return (loaded = { mod, status: { active: true, kernel: 'native', reason: NATIVE_GBDT_PATH } });
  } catch (err) {
    return (loaded = off(`native tree grower failed to load: ${(err as Error).message.split('\n')[0]}`));
  }
}

export function nativeGbdtStatus(): NativeGbdtStatus {
  return load().status;
}

export class NativeTreeGrower implements TreeGrower {
  private readonly handle: Handle;
  private readonly M: number;
  private readonly oFeature: Int32Array;
  private readonly oBin: Int32Array;
  private readonly oLeft: Int32Array;
  private readonly oRight: Int32Array;
  private readonly oValue: Float64Array;
  private readonly oGain: Float64Array;
  private readonly counts: Int32Array;
  private readonly featOn: Uint8Array;
  private closed = false;

  /** Threads the grower really runs (1 when the helper thread could not start). */
  readonly threads: number;

  constructor(
    private readonly mod: NativeModule,
    private readonly set: BinnedSet,
    private readonly K: number,
    p: TreeParams,
    threads: number,
  ) {
    const v = set.valid ?? { bins: new Uint8Array(0), nRows: 0 };
    this.handle = mod.createGrower(set.bins, set.nRows, set.nCols, set.nBins, v.bins, v.nRows, K, p.maxDepth, p.minChildWeight, p.lambda, p.gamma, p.eta, threads);
    this.threads = mod.growerThreads(this.handle);
    this.M = maxNodes(p.maxDepth);
    const n = K * this.M;
    this.oFeature = new Int32Array(n);
    this.oBin = new Int32Array(n);
    this.oLeft = new Int32Array(n);
    this.oRight = new Int32Array(n);
    this.oValue = new Float64Array(n);
    this.oGain = new Float64Array(n);
    this.counts = new Int32Array(K);
    this.featOn = new Uint8Array(K * set.nCols);
  }

  gradients(margin: Float64Array, labels: Uint8Array, gh: Float64Array, py: Float64Array): void {
    this.mod.gradients(this.handle, margin, labels, gh, py);
  }

  growRound(input: RoundInput): Tree[] {
    const { K, M, featOn } = this;
    const F = this.set.nCols;
    featOn.fill(0);
    for (let k = 0; k < K; k++) for (const f of input.features[k]) featOn[k * F + f] = 1;
    this.mod.growRound(
      this.handle, input.gh, input.rows, input.nUsed, featOn, input.margin, (this.set.valid && input.validMargin) || NO_MARGIN,
      this.oFeature, this.oBin, this.oLeft, this.oRight, this.oValue, this.oGain, this.counts,
    );
    const trees: Tree[] = [];
    for (let k = 0; k < K; k++) {
      const a = k * M;
      trees.push(copyTree(this.counts[k], a, this.oFeature, this.oBin, this.oLeft, this.oRight, this.oValue, this.oGain));
    }
    return trees;
  }

  stats(): GrowerStats {
    return this.mod.growerStats(this.handle);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.mod.closeGrower(this.handle);
  }
}

const NO_MARGIN = new Float64Array(0);

/** A native grower when the build is there (and allowed), else undefined. */
export function createNativeGrower(set: BinnedSet, K: number, p: TreeParams, threads: number): NativeTreeGrower | undefined {
  const { mod } = load();
  return mod ? new NativeTreeGrower(mod, set, K, p, threads) : undefined;
}

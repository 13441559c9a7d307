/**
 * TensorFlow.js backend choice. Order: tfjs-node (native, optional dependency that cannot install
 * on every machine) > wasm (SIMD, ~7x faster than pure JS here) > cpu. See ../shared/STACK.md.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';

export type Tf = typeof import('@tensorflow/tfjs');
export type TfBackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface TfInit {
  tf: Tf;
  backend: TfBackendName;
  /** Human reason for the choice, e.g. "tfjs-node not installed (...); wasm with SIMD". */
  reason: string;
}

export interface InitTfOptions {
  /** Try this backend first; the usual fallback order applies if it fails. */
  prefer?: TfBackendName;
}

export class TfBackendError extends Error {
  override name = 'TfBackendError';
}

// Kept as a variable so tsc does not require the optional package's types at build time.
const TFJS_NODE = '@tensorflow/tfjs-node';
const WASM_PKG = '@tensorflow/tfjs-backend-wasm';

/**
 * tfjs keeps one engine per thread (a global inside tfjs-core), so the "one backend per thread"
 * state already lives there; this memo only mirrors it so concurrent callers in the same thread
 * share one setBackend() instead of racing two.
 */
let pending: Promise<TfInit> | undefined;
let pendingPrefer: TfBackendName | undefined;

/** Pick and initialise the fastest working backend. Idempotent per thread. */
export function initTf(opts: InitTfOptions = {}): Promise<TfInit> {
  if (pending && (opts.prefer === undefined || opts.prefer === pendingPrefer)) return pending;
  pendingPrefer = opts.prefer;
  const p = doInit(opts.prefer);
  pending = p;
  // A failed init must not poison later attempts.
  p.catch(() => {
    if (pending === p) pending = undefined;
  });
  return p;
}

async function doInit(prefer: TfBackendName | undefined): Promise<TfInit> {
  const order: TfBackendName[] = ['tensorflow', 'wasm', 'cpu'];
  if (prefer) order.splice(order.indexOf(prefer), 1), order.unshift(prefer);
  const notes: string[] = [];
  for (const name of order) {
    try {
      const tf = await tryBackend(name);
      tf.enableProdMode();
      let detail = '';
      if (name === 'wasm') {
        const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
        detail = simd ? ' with SIMD' : ' without SIMD';
      }
      const chosen = `${name}${detail}${prefer && prefer !== name ? ` (preferred ${prefer} unavailable)` : ''}`;
      return { tf, backend: name, reason: [...notes, chosen].join('; ') };
    } catch (err) {
      notes.push(`${name} unavailable (${shortError(err)})`);
    }
  }
  throw new TfBackendError(`no TensorFlow.js backend could be initialised: ${notes.join('; ')}`);
}

async function tryBackend(name: TfBackendName): Promise<Tf> {
  if (name === 'tensorflow') {
    // tfjs-node re-exports tfjs with the native backend registered on the shared tfjs-core.
    await import(/* @vite-ignore */ TFJS_NODE);
    const tf = await import('@tensorflow/tfjs');
    if (!(await tf.setBackend('tensorflow'))) throw new TfBackendError('setBackend(tensorflow) returned false');
    return tf;
  }
  const tf = await import('@tensorflow/tfjs');
  if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // Point at the package's own .wasm files so they are found even if this code is ever bundled.
    wasm.setWasmPaths(dirname(createRequire(import.meta.url).resolve(WASM_PKG)) + sep);
  }
  if (!(await tf.setBackend(name))) throw new TfBackendError(`setBackend(${name}) returned false`);
  await tf.ready();
  return tf;
}

export interface BackendDetection {
  backend: TfBackendName;
  reason: string;
  tfjsNode: boolean;
  wasmFiles: boolean;
}

/**
 * What initTf() would choose and why, without initialising a backend (cheap enough for
 * `kilo doctor`): tfjs-node must import; wasm needs its package and .wasm binaries.
 */
export async function detectBackend(): Promise<BackendDetection> {
  const notes: string[] = [];
  let tfjsNode = false;
  try {
    await import(/* @vite-ignore */ TFJS_NODE);
    tfjsNode = true;
  } catch (err) {
    notes.push(`tfjs-node unavailable (${shortError(err)})`);
  }
  let wasmFiles = false;
  try {
    const dir = dirname(createRequire(import.meta.url).resolve(WASM_PKG));
    wasmFiles = existsSync(join(dir, 'tfjs-backend-wasm-simd.wasm')) || existsSync(join(dir, 'tfjs-backend-wasm.wasm'));
    if (!wasmFiles) notes.push(`wasm binaries missing in ${dir}`);
  } catch (err) {
    notes.push(`wasm package unavailable (${shortError(err)})`);
  }
  const backend: TfBackendName = tfjsNode ? 'tensorflow' : wasmFiles ? 'wasm' : 'cpu';
  notes.push(
    backend === 'tensorflow' ? 'native tfjs-node' : backend === 'wasm' ? 'wasm (~7x faster than pure-JS cpu)' : 'pure-JS cpu (slow)',
  );
  return { backend, reason: notes.join('; '), tfjsNode, wasmFiles };
}

function shortError(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const first = msg.split('\n')[0] ?? msg;
  return first.length > 120 ? first.slice(0, 117) + '...' : first;
}

/**
 * What travels through Redis. A job carries everything the training needs: the spec with its
 * candles and, when the spec asks for the champion/challenger gate, the champion artifact's files.
 * A result carries the artifact's files back. Both are JSON with typed arrays as base64 and
 * non-finite numbers spelled out (a broken model scores NaN and must stay NaN), gzipped, then
 * base64 so BullMQ can store them as plain strings.
 *
 * Why ship candles instead of letting the worker fetch them: the model is trained on exactly the
 * candles the engine saw (the engine's history checks, cleaning verdict and gate window apply to
 * the same rows), the artifact's provenance is the engine's data source, a worker needs no market
 * source or exchange keys, and 730 days of hourly candles are ~0.6 MB gzipped.
 */
import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { TrainJobSpec, TrainResult } from '../training/protocol.js';

const gz = promisify(gzip);
const gunz = promisify(gunzip);

/** Bumped when the shape changes; a worker refuses formats it does not know. */
export const PAYLOAD_FORMAT = 1;

export class PayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadError';
  }
}

type TypedName = 'f64' | 'f32' | 'i32' | 'u8';
const CTORS = { f64: Float64Array, f32: Float32Array, i32: Int32Array, u8: Uint8Array } as const;

function typedName(v: unknown): TypedName | null {
  if (v instanceof Float64Array) return 'f64';
  if (v instanceof Float32Array) return 'f32';
  if (v instanceof Int32Array) return 'i32';
  if (v instanceof Uint8Array) return 'u8';
  return null;
}

function replacer(this: unknown, _key: string, v: unknown): unknown {
  if (typeof v === 'number' && !Number.isFinite(v)) return { $num: String(v) };
  // Buffer has toJSON, so JSON.stringify hands it over as {type:'Buffer', data:[...]}: read the holder's raw value instead.
  const raw = (this as Record<string, unknown>)[_key];
  const t = typedName(raw);
  if (t) {
    const a = raw as Float64Array | Float32Array | Int32Array | Uint8Array;
    return { $typed: t, b64: Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64') };
  }
  return v;
}

function reviver(_key: string, v: unknown): unknown {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (typeof o.$num === 'string' && Object.keys(o).length === 1) {
      const n = Number(o.$num);
      if (o.$num !== 'NaN' && Number.isFinite(n)) throw new PayloadError(`bad non-finite number ${o.$num}`);
      return n;
    }
    if (typeof o.$typed === 'string' && typeof o.b64 === 'string') {
      const C = CTORS[o.$typed as TypedName];
      if (!C) throw new PayloadError(`unknown typed array ${o.$typed}`);
      const bytes = Buffer.from(o.b64, 'base64');
      if (bytes.byteLength % C.BYTES_PER_ELEMENT) throw new PayloadError(`${o.$typed} payload of ${bytes.byteLength} bytes is not whole elements`);
      // Copy into a fresh, aligned buffer (Buffer's pool slices may be misaligned for Float64Array).
      const out = new C(bytes.byteLength / C.BYTES_PER_ELEMENT);
      new Uint8Array(out.buffer).set(bytes);
      return out;
    }
  }
  return v;
}

export interface Packed {
  /** base64 of the gzipped JSON. */
  b64: string;
  /** sha256 of the gzipped bytes (transport integrity, checked before decoding). */
  sha256: string;
  /** Size of the JSON before compression, for the log. */
  rawBytes: number;
}

export async function pack(value: unknown): Promise<Packed> {
  // Typed arrays are written as the machine's bytes; every platform kilo runs on is little-endian.
  if (endianness() !== 'LE') throw new PayloadError('payload encoding needs a little-endian machine');
  const json = JSON.stringify(value, replacer);
  const z = await gz(Buffer.from(json, 'utf8'), { level: 6 });
  return { b64: z.toString('base64'), sha256: createHash('sha256').update(z).digest('hex'), rawBytes: Buffer.byteLength(json) };
}

export async function unpack<T>(p: { b64: string; sha256: string }, what: string): Promise<T> {
  if (typeof p?.b64 !== 'string' || typeof p.sha256 !== 'string') throw new PayloadError(`${what}: no payload`);
  const z = Buffer.from(p.b64, 'base64');
  if (createHash('sha256').update(z).digest('hex') !== p.sha256) throw new PayloadError(`${what}: checksum does not match (corrupted in transit)`);
  let text: string;
  try {
    text = (await gunz(z)).toString('utf8');
  } catch (err) {
    throw new PayloadError(`${what}: not gzip (${(err as Error).message})`);
  }
  try {
    return JSON.parse(text, reviver) as T;
  } catch (err) {
    if (err instanceof PayloadError) throw err;
    throw new PayloadError(`${what}: not JSON (${(err as Error).message})`);
  }
}

/** Files of an artifact folder by name (metadata.json and manifest.json included). */
export type FileMap = Record<string, Uint8Array>;

/** The job's data in Redis: a few readable fields for dashboards, the rest packed. */
export interface RemoteJobData {
  format: number;
  /** kilo version of the engine that sent it (a worker warns when its own differs). */
  kilo: string;
  /** Queue entry (q3) or null for a job that has none. */
  entry: string | null;
  symbols: string[];
  version: string | null;
  /** resources.training_timeout_s of the engine, enforced by the worker. */
  timeoutMs: number;
  payload: Packed;
}

/** Packed inside RemoteJobData.payload. Paths are blanked: the worker chooses its own folders. */
export interface JobPayload {
  spec: TrainJobSpec;
  /** Files of the serving artifact the gate scores against (spec.gate set). */
  champion: FileMap | null;
}

/** The job's return value: the worker's name and the packed ResultPayload. */
export interface RemoteJobResult {
  format: number;
  worker: string;
  payload: Packed;
}

export interface ResultPayload {
  /** artifactDir is null here: the engine publishes the files and sets its own folder. */
  result: TrainResult;
  /** The artifact's files as the worker's pipeline wrote them (null for selftest jobs). */
  files: FileMap | null;
}

/**
 * What travels through Redis. A job carries everything the training needs: the spec with its
 * candles and, when the spec asks for the champion/challenger gate, the champion artifact's files.
 * A result carries the artifact's files back. Both are JSON with typed arrays as raw bytes and
 * non-finite numbers spelled out (a broken model scores NaN and must stay NaN) in a small binary
 * container, gzipped, then base64 so BullMQ can store them in its JSON.
 *
 * Why ship candles instead of letting the worker fetch them: the model is trained on exactly the
 * candles the engine saw (the engine's history checks, cleaning verdict and gate window apply to
 * the same rows), the artifact's provenance is the engine's data source, a worker needs no market
 * source or exchange keys, and 730 days of real hourly candles are ~0.4 MB gzipped (~0.55 MB as base64).
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
/** "KPK1": a packed kilo payload, format 1 (JSON header + binary blobs, then gzip). */
const MAGIC = 0x4b504b31;

function typedName(v: unknown): TypedName | null {
  if (v instanceof Float64Array) return 'f64';
  if (v instanceof Float32Array) return 'f32';
  if (v instanceof Int32Array) return 'i32';
  if (v instanceof Uint8Array) return 'u8';
  return null;
}

export interface Packed {
  /** base64 of the gzipped container (BullMQ stores job data and results as JSON). */
  b64: string;
  /** sha256 of the gzipped bytes (transport integrity, checked before decoding). */
  sha256: string;
  /** Size of the container before compression, for the log. */
  rawBytes: number;
}

/**
 * Container: magic u32, JSON length u32, JSON (typed arrays replaced by {$typed, off, len} into the
 * blob area, non-finite numbers by {$num}), then the arrays' raw bytes; gzipped. Raw bytes rather than
 * base64 inside the JSON: gzip finds the repeats of real prices (730 days of real BTC 1h: 403 KiB
 * against 496 KiB; a byte shuffle was tried and lost on real candles, 438 KiB).
 */
export async function pack(value: unknown): Promise<Packed> {
  // Typed arrays are written as the machine's bytes; every platform kilo runs on is little-endian.
  if (endianness() !== 'LE') throw new PayloadError('payload encoding needs a little-endian machine');
  const blobs: Uint8Array[] = [];
  let off = 0;
  const json = JSON.stringify(value, function (this: unknown, key: string, v: unknown): unknown {
    if (typeof v === 'number' && !Number.isFinite(v)) return { $num: String(v) };
    // Buffer has toJSON, so JSON.stringify hands it over as {type:'Buffer', data}: read the holder's raw value.
    const raw = (this as Record<string, unknown>)[key];
    const t = typedName(raw);
    if (!t) return v;
    const a = raw as Float64Array | Float32Array | Int32Array | Uint8Array;
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    blobs.push(bytes);
    const ref = { $typed: t, off, len: bytes.byteLength };
    off += bytes.byteLength;
    return ref;
  });
  const head = Buffer.from(json, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeUInt32BE(MAGIC, 0);
  prefix.writeUInt32BE(head.byteLength, 4);
  const container = Buffer.concat([prefix, head, ...blobs]);
  const z = await gz(container, { level: 6 });
  return { b64: z.toString('base64'), sha256: createHash('sha256').update(z).digest('hex'), rawBytes: container.byteLength };
}

export async function unpack<T>(p: { b64: string; sha256: string }, what: string): Promise<T> {
  if (typeof p?.b64 !== 'string' || typeof p.sha256 !== 'string') throw new PayloadError(`${what}: no payload`);
  const z = Buffer.from(p.b64, 'base64');
  if (createHash('sha256').update(z).digest('hex') !== p.sha256) throw new PayloadError(`${what}: checksum does not match (corrupted in transit)`);
  let c: Buffer;
  try {
    c = await gunz(z);
  } catch (err) {
    throw new PayloadError(`${what}: not gzip (${(err as Error).message})`);
  }
  if (c.byteLength < 8 || c.readUInt32BE(0) !== MAGIC) throw new PayloadError(`${what}: not a kilo payload`);
  const jsonLen = c.readUInt32BE(4);
  if (8 + jsonLen > c.byteLength) throw new PayloadError(`${what}: truncated`);
  const blobs = c.subarray(8 + jsonLen);
  try {
    return JSON.parse(c.subarray(8, 8 + jsonLen).toString('utf8'), (_key, v: unknown) => {
      if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
      const o = v as Record<string, unknown>;
      if (typeof o.$num === 'string' && Object.keys(o).length === 1) {
        const n = Number(o.$num);
        if (Number.isFinite(n)) throw new PayloadError(`${what}: bad non-finite number ${o.$num}`);
        return n;
      }
      if (typeof o.$typed === 'string' && typeof o.off === 'number' && typeof o.len === 'number') {
        const C = CTORS[o.$typed as TypedName];
        if (!C) throw new PayloadError(`${what}: unknown typed array ${o.$typed}`);
        if (o.off < 0 || o.off + o.len > blobs.byteLength || o.len % C.BYTES_PER_ELEMENT) throw new PayloadError(`${what}: ${o.$typed} blob out of range`);
        // A fresh, aligned buffer (a slice of the container may be misaligned for Float64Array).
        const out = new C(o.len / C.BYTES_PER_ELEMENT);
        new Uint8Array(out.buffer).set(blobs.subarray(o.off, o.off + o.len));
        return out;
      }
      return v;
    }) as T;
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

/**
 * Streaming access to one candle CSV: a single pass in 1 MB chunks builds a sparse index (the byte
 * offset of every `blockRows`-th candle), the file's sha256, its range and its problems; ranges are
 * then read back from disk by offset. Memory stays at the index and the range asked for, whatever
 * the file's size (a 500 MB file held whole as text + candle objects peaked at 3.65 GB).
 *
 * A file that is not strictly ascending cannot be read by offset: it is loaded whole, cleaned,
 * once (broken files are small in practice, and `kilo data check` reports them).
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { TIMEFRAME_MS, type Candle, type Timeframe } from './types.js';
import { parseCandleLine, readCandleCsv, type BadRow } from './csv.js';
import { cleanCandles } from './validate.js';

export interface CsvIndex {
  file: string;
  size: number;
  mtimeMs: number;
  sha256: string;
  /** Candles that parsed (before cleaning). */
  rows: number;
  first: number | null;
  last: number | null;
  /** Strictly ascending timestamps: ranges are read by byte offset. */
  sorted: boolean;
  /** First timestamp and byte offset of every block of `blockRows` parsed rows. */
  blockTs: number[];
  blockPos: number[];
  /** Bad rows (first 100 kept) and how many in all. */
  badRows: BadRow[];
  badRowCount: number;
  /** Rows that parse but cleanCandles would drop (off grid, non-positive, inconsistent, duplicate, out of order). */
  invalidRows: number;
  /** Cleaned candles of an unsorted file (null when sorted). */
  held: Candle[] | null;
  /** Recently parsed blocks (a live replay asks for the same newest block every round). */
  blocks: Map<number, Candle[]>;
}

/** Parsed blocks kept per file: 16 x 1024 candles, well under 2 MB. */
const BLOCK_CACHE = 16;

const CHUNK = 1 << 20;
const NL = 0x0a;

export async function indexCsv(file: string, tf: Timeframe, opts: { blockRows?: number } = {}): Promise<CsvIndex> {
  const blockRows = opts.blockRows ?? 1024;
  const step = TIMEFRAME_MS[tf];
  const st = await stat(file);
  const hash = createHash('sha256');
  const idx: CsvIndex = {
    file,
    size: st.size,
    mtimeMs: st.mtimeMs,
    sha256: '',
    rows: 0,
    first: null,
    last: null,
    sorted: true,
    blockTs: [],
    blockPos: [],
    badRows: [],
    badRowCount: 0,
    invalidRows: 0,
    held: null,
    blocks: new Map(),
  };
  let carry: Buffer | null = null;
  let carryPos = 0;
  let lineNo = 0;
  let prev = -Infinity;
  const onLine = (buf: Buffer, start: number, end: number, pos: number): void => {
    lineNo++;
    const r = parseCandleLine(buf.toString('latin1', start, end), lineNo);
    if (!r) return;
    if ('bad' in r) {
      idx.badRowCount++;
      if (idx.badRows.length < 100) idx.badRows.push(r.bad);
      return;
    }
    const c = r.candle;
    if (idx.rows % blockRows === 0) {
      idx.blockTs.push(c.timestamp);
      idx.blockPos.push(pos);
    }
    idx.rows++;
    idx.first ??= c.timestamp;
    if (c.timestamp <= prev) {
      idx.sorted = false;
      idx.invalidRows++;
    } else if (
      c.timestamp % step !== 0 ||
      !(c.open > 0 && c.high > 0 && c.low > 0 && c.close > 0 && c.volume >= 0) ||
      c.high < Math.max(c.open, c.close) ||
      c.low > Math.min(c.open, c.close)
    ) {
      idx.invalidRows++;
    }
    prev = Math.max(prev, c.timestamp);
    idx.last = prev;
  };
  let pos = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: CHUNK }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    let buf = chunk;
    let base = pos;
    if (carry) {
      buf = Buffer.concat([carry, chunk]);
      base = carryPos;
    }
    let start = 0;
    for (let nl = buf.indexOf(NL, start); nl !== -1; nl = buf.indexOf(NL, start)) {
      onLine(buf, start, nl, base + start);
      start = nl + 1;
    }
    carry = start < buf.length ? buf.subarray(start) : null;
    carryPos = base + start;
    pos += chunk.length;
  }
  if (carry && carry.length) onLine(carry, 0, carry.length, carryPos);
  idx.sha256 = hash.digest('hex');
  if (!idx.sorted) idx.held = cleanCandles((await readCandleCsv(file)).candles, tf);
  return idx;
}

/** First index i with a[i] >= t (a ascending). */
function lowerBound(a: readonly number[], t: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Cleaned candles with since <= timestamp < until, read from disk by offset. */
export async function readCsvRange(idx: CsvIndex, tf: Timeframe, since: number, until: number): Promise<Candle[]> {
  if (until <= since || idx.first === null) return [];
  if (idx.held) {
    const h = idx.held;
    const ts = (i: number) => h[i].timestamp;
    let lo = 0;
    let hi = h.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ts(mid) < since) lo = mid + 1;
      else hi = mid;
    }
    const out: Candle[] = [];
    for (let i = lo; i < h.length && h[i].timestamp < until; i++) out.push(h[i]);
    return out;
  }
  // The block that may hold `since` starts at or before it; the read ends where a block starts at or after `until`.
  const b = Math.max(0, lowerBound(idx.blockTs, since + 1) - 1);
  const e = Math.max(b + 1, lowerBound(idx.blockTs, until));
  const out: Candle[] = [];
  for (let k = b; k < e; k++) {
    for (const c of await readBlock(idx, k)) if (c.timestamp >= since && c.timestamp < until) out.push(c);
  }
  return cleanCandles(out, tf);
}

async function readBlock(idx: CsvIndex, k: number): Promise<Candle[]> {
  const hit = idx.blocks.get(k);
  if (hit) {
    // Refresh its place in the LRU order.
    idx.blocks.delete(k);
    idx.blocks.set(k, hit);
    return hit;
  }
  const from = idx.blockPos[k];
  const to = k + 1 < idx.blockPos.length ? idx.blockPos[k + 1] : idx.size;
  const fh = await open(idx.file, 'r');
  let buf: Buffer;
  try {
    buf = Buffer.allocUnsafe(Math.max(0, to - from));
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, from + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    buf = buf.subarray(0, got);
  } finally {
    await fh.close();
  }
  const out: Candle[] = [];
  let start = 0;
  while (start < buf.length) {
    let nl = buf.indexOf(NL, start);
    if (nl === -1) nl = buf.length;
    // Line numbers only matter for bad rows, which the index pass already reported.
    const r = parseCandleLine(buf.toString('latin1', start, nl), 2);
    if (r && 'candle' in r) out.push(r.candle);
    start = nl + 1;
  }
  idx.blocks.set(k, out);
  if (idx.blocks.size > BLOCK_CACHE) idx.blocks.delete(idx.blocks.keys().next().value as number);
  return out;
}

/** The newest cleaned candle with timestamp < bound, or undefined. */
export async function lastCandleBefore(idx: CsvIndex, tf: Timeframe, bound: number): Promise<Candle | undefined> {
  if (idx.first === null || bound <= idx.first) return undefined;
  if (idx.held) return (await readCsvRange(idx, tf, -Infinity, bound)).at(-1);
  for (let b = lowerBound(idx.blockTs, bound) - 1; b >= 0; b--) {
    const got = await readCsvRange(idx, tf, idx.blockTs[b], bound);
    if (got.length) return got[got.length - 1];
  }
  return undefined;
}

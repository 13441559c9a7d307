/**
 * Where a process's resident memory is, read from /proc/self/smaps (Linux) beside the JS figures,
 * for bench/rss.bench.ts. Anonymous mappings are grouped by the reservation they belong to
 * (adjacent anonymous mappings merged, their rw parts and the ---p guard/reserve parts together):
 *   - malloc main arena: the [heap] (brk) mapping
 *   - malloc thread arenas: reservations starting on a 64 MB boundary and spanning exactly 64 MB
 *     (glibc's HEAP_MAX_SIZE on 64-bit; a thread that mallocs gets one, and it is never unmapped)
 *   - wasm memories: reservations of 4 GB and more (a wasm Memory reserves ~10 GB; tfjs's wasm
 *     backend and the trees' wasm, if any, live there)
 *   - other anonymous: V8's heap pages, large mmapped malloc chunks, thread stacks, code space
 * and file-backed RSS (node, its libraries, the addons) apart. glibc's own figures (mallinfo2 via
 * the addon, summed over all arenas) say how much of the arenas is free but kept.
 */
import { readFileSync } from 'node:fs';
import { mallocStats } from '../src/native/memory.js';

const MB = 1024 * 1024;
const ARENA = 64 * MB;

export interface Breakdown {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  anon: number;
  file: number;
  mainArena: number;
  threadArenas: number;
  threadArenaCount: number;
  wasm: number;
  wasmCount: number;
  otherAnon: number;
  mallocArena: number | null;
  mallocInUse: number | null;
  mallocFree: number | null;
  mallocMmapped: number | null;
  threads: number;
}

interface Region {
  start: number;
  end: number;
  perms: string;
  anon: boolean;
  name: string;
  rss: number;
}

export function regions(pid: number | 'self' = 'self'): Region[] {
  const out: Region[] = [];
  let cur: Region | null = null;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (head) {
      const name = head[5].trim();
      const anon = head[4] === '0' && (name === '' || name === '[heap]' || name.startsWith('[anon'));
      cur = { start: parseInt(head[1], 16), end: parseInt(head[2], 16), perms: head[3], anon, name, rss: 0 };
      out.push(cur);
    } else if (cur && line.startsWith('Rss:')) cur.rss = Number(line.split(/\s+/)[1]) * 1024;
  }
  return out;
}

export function breakdown(): Breakdown {
  const m = process.memoryUsage();
  const b: Breakdown = {
    rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers,
    anon: 0, file: 0, mainArena: 0, threadArenas: 0, threadArenaCount: 0, wasm: 0, wasmCount: 0, otherAnon: 0,
    mallocArena: null, mallocInUse: null, mallocFree: null, mallocMmapped: null, threads: 0,
  };
  let rs: Region[];
  try {
    rs = regions();
  } catch {
    return b;
  }
  for (let i = 0; i < rs.length; i++) {
    const r = rs[i];
    if (!r.anon) {
      b.file += r.rss;
      continue;
    }
    b.anon += r.rss;
    if (r.name === '[heap]') {
      b.mainArena += r.rss;
      continue;
    }
    const next = rs[i + 1];
    const reserve = next && next.anon && next.perms.startsWith('---') && next.start === r.end ? next : null;
    const span = (reserve ? reserve.end : r.end) - r.start;
    if (r.perms.startsWith('rw') && span >= 4096 * MB) b.wasm += r.rss, b.wasmCount++;
    else if (r.perms.startsWith('rw') && r.start % ARENA === 0 && span === ARENA) b.threadArenas += r.rss, b.threadArenaCount++;
    else b.otherAnon += r.rss;
  }
  const s = mallocStats();
  if (s) b.mallocArena = s.arena, b.mallocInUse = s.inUse, b.mallocFree = s.free, b.mallocMmapped = s.mmapped;
  try {
    b.threads = Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
  } catch {
    /* not Linux */
  }
  return b;
}

const mb = (x: number | null): string => (x === null ? 'n/a' : (x / MB).toFixed(0));

/** One line: "RSS 594 = anon 540 (main arena 12, 9 thread arenas 180, wasm x2 40, other 308) + file 54 | ..." */
export function formatBreakdown(b: Breakdown): string {
  return (
    `RSS ${mb(b.rss)} = anon ${mb(b.anon)} (malloc main arena ${mb(b.mainArena)}, ${b.threadArenaCount} thread arenas ${mb(b.threadArenas)}, ` +
    `wasm x${b.wasmCount} ${mb(b.wasm)}, other ${mb(b.otherAnon)}) + file ${mb(b.file)} | V8 heap ${mb(b.heapUsed)}/${mb(b.heapTotal)}, ` +
    `external ${mb(b.external)} (array buffers ${mb(b.arrayBuffers)}) | malloc: from system ${mb(b.mallocArena)}, in use ${mb(b.mallocInUse)}, ` +
    `free kept ${mb(b.mallocFree)}, mmapped ${mb(b.mallocMmapped)} | ${b.threads} threads`
  );
}

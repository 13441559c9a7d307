import { useEffect, useRef, useState } from 'react';
import type { EngineApi, LogEntry } from '../../src/engine-api.js';

/** Pure: merge new entries into a buffer ordered by seq, no duplicates, at most `cap` newest kept. */
export function mergeLogs(buffer: readonly LogEntry[], incoming: readonly LogEntry[], cap: number): LogEntry[] {
  const last = buffer.length ? buffer[buffer.length - 1].seq : -Infinity;
  const fresh = incoming.filter((e) => e.seq > last).sort((a, b) => a.seq - b.seq);
  if (fresh.length === 0) return buffer as LogEntry[];
  const out = buffer.concat(fresh);
  return out.length > cap ? out.slice(out.length - cap) : out;
}

/**
 * A bounded log tail that keeps filling while another panel is shown: seeded from the snapshot's
 * tail, then fed by 'log' events (which may be more frequent than snapshot updates).
 */
export function useLogBuffer(engine: EngineApi, seed: readonly LogEntry[], cap = 1000): LogEntry[] {
  const [buf, setBuf] = useState<LogEntry[]>(() => mergeLogs([], seed, cap));
  const seedRef = useRef(seed);
  useEffect(() => {
    if (seedRef.current !== seed) {
      seedRef.current = seed;
      setBuf((b) => mergeLogs(b, seed, cap));
    }
  }, [seed, cap]);
  useEffect(() => engine.on('log', (e) => setBuf((b) => mergeLogs(b, [e], cap))), [engine, cap]);
  return buf;
}

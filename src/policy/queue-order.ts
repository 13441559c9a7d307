/**
 * Order of the training queue. Pure. Runnable = queued and not waiting out a retry backoff.
 * Higher priority first; then the stalest symbol (oldest last training, never-trained first, as
 * freqai does); then the entry that waited longest; then id for a stable order.
 */
export interface OrderableEntry {
  id: string;
  state: string;
  priority: number;
  added_at: number;
  next_attempt_at: number | null;
  /** When the symbol's current model was trained (ms); null = never trained. */
  last_trained_at?: number | null;
}

export const isRunnable = (e: OrderableEntry, now: number): boolean => e.state === 'queued' && (e.next_attempt_at === null || e.next_attempt_at <= now);

export function compareQueueEntries(a: OrderableEntry, b: OrderableEntry): number {
  return (
    b.priority - a.priority ||
    (a.last_trained_at ?? -Infinity) - (b.last_trained_at ?? -Infinity) ||
    a.added_at - b.added_at ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

/** Runnable entries in the order they should start. */
export function orderQueue<T extends OrderableEntry>(entries: readonly T[], now: number): T[] {
  return entries.filter((e) => isRunnable(e, now)).sort(compareQueueEntries);
}

/** Exponential retry delay after `attempts` failed attempts (1 -> base, 2 -> 2 x base, ...), capped. */
export function retryDelayMs(attempts: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
}

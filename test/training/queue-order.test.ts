import { describe, expect, it } from 'vitest';
import { orderQueue, retryDelayMs, type OrderableEntry } from '../../src/policy/queue-order.js';

const e = (id: string, over: Partial<OrderableEntry> = {}): OrderableEntry => ({ id, state: 'queued', priority: 0, added_at: 0, next_attempt_at: null, last_trained_at: null, ...over });

describe('orderQueue', () => {
  it('priority desc, then stalest model, then oldest entry; skips backoff and non-queued entries', () => {
    const entries = [
      e('a', { added_at: 5, last_trained_at: 1000 }),
      e('b', { added_at: 9, last_trained_at: 10 }),
      e('c', { added_at: 7 }),
      e('d', { added_at: 3 }),
      e('e', { priority: 1, added_at: 99, last_trained_at: 5000 }),
      e('f', { priority: 9, next_attempt_at: 501 }),
      e('g', { priority: 9, state: 'running' }),
    ];
    expect(orderQueue(entries, 500).map((x) => x.id)).toEqual(['e', 'd', 'c', 'b', 'a']);
    expect(orderQueue(entries, 501).map((x) => x.id)[0]).toBe('f');
  });
  it('doubles the retry delay per attempt up to the cap', () => {
    expect([1, 2, 3, 4, 10].map((n) => retryDelayMs(n, 1000, 5000))).toEqual([1000, 2000, 4000, 5000, 5000]);
  });
});

import type { Clock } from '../clock.js';

export interface BackoffPolicy {
  maxRetries: number;
  /** First delay in ms; each retry doubles it. */
  baseMs: number;
  maxMs: number;
  /** 0..1 source for jitter (injected so tests are deterministic). */
  random: () => number;
  sleep: (ms: number) => Promise<void>;
}

/**
 * Delay before retry `attempt` (0-based): base * 2^attempt, plus up to 25% jitter so many clients do
 * not retry in lockstep. The jitter is below the doubling, so successive delays always grow.
 */
export const backoffDelay = (p: Pick<BackoffPolicy, 'baseMs' | 'maxMs' | 'random'>, attempt: number): number =>
  Math.min(p.maxMs, p.baseMs * 2 ** attempt * (1 + 0.25 * p.random()));

export const clockSleep =
  (clock: Clock) =>
  (ms: number): Promise<void> =>
    new Promise((resolve) => clock.setTimeout(resolve, ms));

/** Run `fn`, retrying while `retryable(err)` up to maxRetries times with backoff. */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  retryable: (err: unknown) => boolean,
  policy: BackoffPolicy,
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!retryable(err) || attempt >= policy.maxRetries) throw err;
      const delay = backoffDelay(policy, attempt);
      onRetry?.(err, attempt, delay);
      await policy.sleep(delay);
    }
  }
}

/**
 * Redis for the distributed backend: which URL (config or an environment variable), how it is
 * shown (password masked, always), the connection options BullMQ and kilo's own side channels
 * use, and a one-shot probe that fails fast with a message naming the URL.
 */
import { Redis } from 'ioredis';
import type { RedisOptions } from 'bullmq';
import type { DistributedConfig } from '../config/schema.js';

export class RedisUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUrlError';
  }
}

export class RedisUnreachableError extends Error {
  constructor(
    readonly maskedUrl: string,
    detail: string,
  ) {
    super(`Redis at ${maskedUrl} is unreachable: ${detail}`);
    this.name = 'RedisUnreachableError';
  }
}

/** The queue every engine and worker of one prefix shares. */
export const QUEUE_NAME = 'training';

/**
 * kilo's own keys live under `<prefix>::kilo:`: the empty segment keeps them out of BullMQ's
 * `<prefix>:<queue>:` keyspace, so no queue or job key can collide with them.
 */
export const kiloKeys = (prefix: string) => ({
  /** Set by the engine to ask whichever worker runs the job to abort it (read by the worker). */
  cancel: (jobId: string) => `${prefix}::kilo:cancel:${jobId}`,
  /** Hash: worker name -> JSON heartbeat (last seen, jobs, host), for `kilo doctor`. */
  workers: `${prefix}::kilo:workers`,
});

/** redis://user:secret@host:6379/0 -> redis://user:***@host:6379/0 (anything unparsable: fully masked). */
export function maskRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    else if (u.username && !u.password && url.includes('@')) u.username = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '<unparsable Redis URL>';
  }
}

/** Check a URL's shape; returns it unchanged or throws naming it (masked). */
export function checkRedisUrl(url: string, where: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RedisUrlError(`${where}: ${maskRedisUrl(url)} is not a URL (expected redis://host:6379)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new RedisUrlError(`${where}: ${maskRedisUrl(url)} is not a redis:// or rediss:// URL`);
  }
  if (!u.hostname) throw new RedisUrlError(`${where}: ${maskRedisUrl(url)} has no host`);
  return url;
}

/** The Redis URL from config: distributed.redis_url, else the variable distributed.redis_url_env names. */
export function resolveRedisUrl(d: DistributedConfig, env: NodeJS.ProcessEnv): string {
  if (d.redis_url) return checkRedisUrl(d.redis_url, 'distributed.redis_url');
  const v = env[d.redis_url_env];
  if (!v) {
    throw new RedisUrlError(`distributed.backend is bullmq but distributed.redis_url is null and $${d.redis_url_env} (distributed.redis_url_env) is not set`);
  }
  return checkRedisUrl(v, `$${d.redis_url_env}`);
}

/**
 * Reconnect quickly after a Redis restart: 250 ms, 500 ms, ... capped at 2 s (BullMQ's own default
 * backs off to 20 s, which would leave trainings idle long after Redis is back).
 */
export const reconnectDelay = (times: number): number => Math.min(250 * times, 2000);

/**
 * Connection options for BullMQ classes. `blocking` ones (Worker, QueueEvents) wait for Redis as
 * long as it takes (maxRetriesPerRequest null, as BullMQ requires); the engine's Queue fails a
 * command after a few reconnects so its own loop can retry and report instead of hanging.
 */
export function bullConnection(url: string, kind: 'blocking' | 'command', opts: { quiet?: boolean } = {}): RedisOptions & { url: string } {
  return {
    url,
    // BullMQ console.warns about a wrong eviction policy; inside the engine that would print over
    // the console UI, so the engine checks it itself and logs it (quiet), the worker lets BullMQ.
    ...(opts.quiet ? { skipVersionCheck: true } : {}),
    retryStrategy: reconnectDelay,
    maxRetriesPerRequest: kind === 'blocking' ? null : 3,
    enableOfflineQueue: true,
  };
}

/** A plain client for kilo's side channels (heartbeats, cancel requests). */
export function sideClient(url: string): Redis {
  return new Redis(url, { retryStrategy: reconnectDelay, maxRetriesPerRequest: 2, lazyConnect: true });
}

export interface RedisProbe {
  version: string;
  maxmemoryPolicy: string | null;
  /** Round trip of one PING, ms. */
  pingMs: number;
}

/** Connect once (no retries), PING, read the version and maxmemory-policy; throws RedisUnreachableError. */
export async function probeRedis(url: string, timeoutMs = 5000): Promise<RedisProbe> {
  const masked = maskRedisUrl(url);
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  // The socket error (ECONNREFUSED, ENOTFOUND, WRONGPASS) says more than the rejection ("Connection is closed").
  let socketError: Error | null = null;
  client.on('error', (err: Error) => {
    socketError ??= err;
  });
  try {
    await client.connect();
    const t0 = performance.now();
    await client.ping();
    const pingMs = performance.now() - t0;
    const info = await client.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    let maxmemoryPolicy: string | null = null;
    try {
      const r = (await client.config('GET', 'maxmemory-policy')) as string[];
      maxmemoryPolicy = r[1] ?? null;
    } catch {
      // Managed Redis often disables CONFIG; INFO memory carries the policy too.
      maxmemoryPolicy = /maxmemory_policy:(\S+)/.exec(await client.info('memory'))?.[1] ?? null;
    }
    return { version, maxmemoryPolicy, pingMs };
  } catch (err) {
    throw new RedisUnreachableError(masked, scrubUrl((socketError ?? (err as Error)).message, url));
  } finally {
    client.disconnect();
  }
}

/** Remove a URL's password from a message that may quote it (ioredis errors can). */
export function scrubUrl(message: string, url: string): string {
  let out = message;
  try {
    const u = new URL(url);
    if (u.password) out = out.split(decodeURIComponent(u.password)).join('***').split(u.password).join('***');
  } catch {
    // nothing to scrub
  }
  return out.split(url).join(maskRedisUrl(url));
}

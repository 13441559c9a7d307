/**
 * `kilo doctor` for distributed.backend bullmq: Redis reachable (version, ping), maxmemory-policy
 * noeviction (BullMQ loses jobs otherwise), and the `kilo worker` processes seen recently (their
 * heartbeats in Redis). Only reads; the URL is shown with its password masked.
 */
import { result, type CheckResult, type DoctorCheck } from './types.js';

/** A worker whose last heartbeat is older than this is not counted as seen. */
export const WORKER_SEEN_MS = 60_000;

export const distributedCheck: DoctorCheck = async (ctx) => {
  const d = ctx.config.distributed;
  if (d.backend !== 'bullmq') return result('distributed', 'ok', 'backend local: training runs on worker threads here (Redis not used)');
  const { resolveRedisUrl, maskRedisUrl, probeRedis, kiloKeys, sideClient } = await import('../distributed/redis.js');
  let url: string;
  try {
    url = resolveRedisUrl(d, ctx.env);
  } catch (err) {
    return result('redis', 'fail', (err as Error).message, `set distributed.redis_url or export ${d.redis_url_env}=redis://host:6379`);
  }
  const masked = maskRedisUrl(url);
  const out: CheckResult[] = [];
  let probe;
  try {
    probe = await probeRedis(url);
  } catch (err) {
    return result('redis', 'fail', (err as Error).message, `start redis-server there (README: "Training on more machines") or fix the URL`);
  }
  out.push(result('redis', 'ok', `${masked}: Redis ${probe.version}, ping ${probe.pingMs.toFixed(1)} ms, queue prefix ${d.queue_prefix}`));
  const policy = probe.maxmemoryPolicy;
  out.push(
    policy === 'noeviction'
      ? result('redis maxmemory-policy', 'ok', 'noeviction')
      : policy === null
        ? result('redis maxmemory-policy', 'warn', 'could not be read (CONFIG and INFO refused)', 'make sure the server runs with maxmemory-policy noeviction')
        : result('redis maxmemory-policy', 'fail', `${policy}: Redis may evict BullMQ's keys and lose jobs`, 'redis-cli CONFIG SET maxmemory-policy noeviction (and in redis.conf)'),
  );
  const client = sideClient(url);
  client.on('error', () => undefined);
  try {
    const raw = await client.hgetall(kiloKeys(d.queue_prefix).workers);
    const now = Date.now();
    const seen = Object.values(raw)
      .map((v) => {
        try {
          return JSON.parse(v) as { name: string; host: string; seen: number; jobs: string[]; stopped?: boolean };
        } catch {
          return null;
        }
      })
      .filter((w): w is NonNullable<typeof w> => w !== null && !w.stopped && now - w.seen <= WORKER_SEEN_MS)
      .sort((a, b) => a.name.localeCompare(b.name));
    out.push(
      seen.length
        ? result('workers', 'ok', `${seen.length} seen in the last ${WORKER_SEEN_MS / 1000} s: ${seen.map((w) => `${w.name}@${w.host} (${Math.round((now - w.seen) / 1000)}s ago, ${w.jobs.length} job(s))`).join(', ')}`)
        : result('workers', 'warn', `no kilo worker seen in the last ${WORKER_SEEN_MS / 1000} s on ${masked} (prefix ${d.queue_prefix}); queued trainings wait`, `on a machine with kilo: kilo worker --redis ${masked} --prefix ${d.queue_prefix}`),
    );
  } catch (err) {
    out.push(result('workers', 'warn', `could not read worker heartbeats: ${(err as Error).message}`));
  } finally {
    client.disconnect();
  }
  return out;
};

/**
 * Distributed training end to end: a real redis-server on a free loopback port, real `kilo worker`
 * processes (bin/kilo.js), the real engine with distributed.backend bullmq on the seeded simulator
 * (so a clean clone runs it), real tfjs/tree training on the workers. Skips only when Debian's
 * redis-server is not installed (.ci/run installs it).
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ManualClock } from '../../src/clock.js';
import { defaultConfig, type Config } from '../../src/config/schema.js';
import { createEngine, type Engine } from '../../src/engine.js';
import type { JobProgress } from '../../src/engine-api.js';
import { readVerifiedArtifact } from '../../src/models/artifact.js';
import { unpack, type JobPayload, type RemoteJobData } from '../../src/distributed/payload.js';
import { REDIS_SERVER, RedisServer, WorkerProcess, waitFor } from './helpers.js';

const START = Date.UTC(2024, 0, 10);
const HOUR = 3_600_000;
const KEY = 'sekrit-api-key-7f3a91';
const SECRET = 'sekrit-api-secret-c4e2b8';
/** Short lock and stalled check so a killed worker's job is recovered in seconds, not 30 s. */
const FAST_STALL = { KILO_WORKER_LOCK_MS: '2000', KILO_WORKER_STALLED_MS: '1000' };
const PREFIX = 'kilotest';

if (!REDIS_SERVER) console.warn('test/distributed: redis-server not found (apt-get install -y redis-server); distributed tests skipped');

function distConfig(url: string, over: (c: Config) => void = () => undefined): Config {
  const c = defaultConfig();
  c.data.source = 'sim';
  c.universe.symbols = ['BTC/USDT'];
  c.universe.core_symbols = [];
  c.assets.pre_trained = [];
  c.assets.quick_train = ['BTC/USDT'];
  c.model.models = ['gbdt', 'gru'];
  c.model.window = 16;
  c.training.quick = { epochs: 3, patience: 3, trees: 15, data_days: 120, batch_size: 256, ppo_steps: 256 };
  c.training.auto_profile = 'quick';
  // Tiny models rarely show an edge; without this the gate stops at the challenger's verdict and the
  // champion-vs-challenger comparison this file checks (champion files shipped to the worker) never runs.
  c.model.require_edge = false;
  c.resources.max_concurrent_trainings = 1;
  c.resources.training_timeout_s = 120;
  c.logging.file = 'data/trading.log';
  c.distributed.backend = 'bullmq';
  c.distributed.redis_url = url;
  c.distributed.queue_prefix = PREFIX;
  c.distributed.retry_backoff_s = 1;
  over(c);
  return c;
}

describe.skipIf(!REDIS_SERVER)('distributed training on BullMQ + redis-server', () => {
  let redis: RedisServer;
  const homes: string[] = [];
  const workers: WorkerProcess[] = [];
  const engines: Engine[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    // One worker for the first tests; later ones start more (and kill this one).
    workers.push(await WorkerProcess.start(redis.url, 'w1', FAST_STALL, ['--prefix', PREFIX]));
  }, 120_000);
  afterEach(async () => {
    for (const e of engines.splice(0)) await e.stop().catch(() => undefined);
  });
  afterAll(async () => {
    for (const w of workers.splice(0)) await w.stop('SIGKILL');
    await redis?.stop();
    for (const h of homes) await rm(h, { recursive: true, force: true });
  });

  async function home(): Promise<string> {
    const h = await mkdtemp(join(tmpdir(), 'kilo-dist-'));
    homes.push(h);
    return h;
  }

  /** Every worker of the file shares one prefix; engine homes keep job ids apart (e<home hash>-q1-a1). */
  async function worker(name: string): Promise<WorkerProcess> {
    const w = await WorkerProcess.start(redis.url, name, FAST_STALL, ['--prefix', PREFIX]);
    workers.push(w);
    return w;
  }

  async function engine(h: string, config: Config, env: NodeJS.ProcessEnv = {}): Promise<{ engine: Engine; clock: ManualClock; progress: JobProgress[]; logs: string[] }> {
    const clock = new ManualClock(START);
    const e = await createEngine({ home: h, config, configPath: join(h, 'config.yaml'), marketClock: clock, clock, env: { ...process.env, ...env } });
    engines.push(e);
    const progress: JobProgress[] = [];
    const logs: string[] = [];
    e.on("log", (l) => logs.push(l.message));
    if (process.env.DEBUG_DIST) e.on("log", (l) => console.log(new Date().toISOString(), "ENGINE", l.message));
    e.subscribe(() => {
      for (const j of e.getSnapshot().jobs) if (j.progress) progress.push(j.progress);
    });
    await e.start({ loop: false });
    return { engine: e, clock, progress, logs };
  }

  const artifactsOf = async (h: string): Promise<string[]> => {
    const out: string[] = [];
    for (const v of await readdir(join(h, 'models')).catch(() => [] as string[])) {
      if (v.startsWith('.')) {
        out.push(v);
        continue;
      }
      for (const k of await readdir(join(h, 'models', v))) out.push(`${v}/${k}`);
    }
    return out;
  };

  it('trains through a separate kilo worker process: progress with the worker name, artifact published in the engine home, symbol unblocked; no exchange key in Redis', async () => {
    const w1 = workers.find((w) => w.name === 'w1')!;
    const h = await home();
    const { engine: e, clock, progress } = await engine(h, distConfig(redis.url), { KILO_API_KEY: KEY, KILO_API_SECRET: SECRET });
    await e.runRound();
    const row = () => e.getSnapshot().symbols.find((r) => r.symbol === 'BTC/USDT')!;
    expect(row().state).not.toBe('live');

    // While the job is in Redis, every key's content, the packed payload decoded too, must be free of keys.
    const client = new Redis(redis.url);
    try {
      const dump = await waitFor(async () => {
        const keys = await client.keys(`${PREFIX}:training:*`);
        const jobKey = keys.find((k) => /:training:e[0-9a-f]{8}-q1-a1$/.test(k));
        return jobKey ? { keys, data: await client.hget(jobKey, 'data') } : null;
      }, 'the job in Redis', 60_000);
      let everything = '';
      for (const k of await client.keys('*')) {
        const type = await client.type(k);
        if (type === 'string') everything += await client.get(k);
        else if (type === 'hash') everything += JSON.stringify(await client.hgetall(k));
        else if (type === 'list') everything += JSON.stringify(await client.lrange(k, 0, -1));
        else if (type === 'zset') everything += JSON.stringify(await client.zrange(k, '0', '-1'));
        else if (type === 'stream') everything += JSON.stringify(await client.xrange(k, '-', '+'));
      }
      const data = JSON.parse(dump.data!) as RemoteJobData;
      const payload = await unpack<JobPayload>(data.payload, 'test');
      const decoded = JSON.stringify(payload.spec);
      expect(payload.spec.kind).toBe('train');
      expect(decoded).toContain('BTC/USDT');
      for (const s of [KEY, SECRET]) {
        expect(everything).not.toContain(s);
        expect(decoded).not.toContain(s);
      }
      // The engine's paths mean nothing on a worker and are not sent.
      expect(decoded).not.toContain(h);
    } finally {
      client.disconnect();
    }

    await waitFor(() => e.queue.list().find((q) => q.symbol === 'BTC/USDT')?.state === 'done', 'the remote job to finish', 150_000);
    // Done is marked before the promotion and hot reload; idle() waits for those too.
    await e.idle();
    const entry = e.queue.list().find((q) => q.symbol === 'BTC/USDT')!;
    expect(entry.remote_job_id).toMatch(/^e[0-9a-f]{8}-q1-a1$/);
    expect(entry.attempts).toBe(1);

    // Progress from the worker reached the engine's job view: worker name, epochs, loss, ETA.
    const remote = progress.filter((p) => p.worker === 'w1');
    expect(remote.some((p) => p.phase === 'gru' && p.epochs === 3 && p.epoch >= 1 && typeof p.loss === 'number')).toBe(true);
    expect(remote.some((p) => typeof p.etaS === 'number')).toBe(true);

    // Published once, in the engine's home, checksummed, marked with the job that trained it.
    expect(await artifactsOf(h)).toEqual(['v1.0/BTC-USDT']);
    const art = await readVerifiedArtifact(join(h, 'models', 'v1.0', 'BTC-USDT'));
    expect((art.metadata as unknown as { remote_job: { id: string; worker: string } }).remote_job).toEqual({ id: entry.remote_job_id, worker: 'w1' });
    expect(art.metadata.files.map((f) => f.type).sort()).toEqual(['feature_metadata', 'gbdt', 'gru', 'gru', 'preprocessor'].sort());

    clock.advance(HOUR);
    await e.runRound();
    expect(row().state).toBe('live');
    expect(row().modelVersion).toBe('1.0');
    expect(w1.has(/e[0-9a-f]{8}-q1-a1 BTC\/USDT: done/)).toBe(true);

    // A retrain asks for the champion/challenger gate: the champion's files travel with the job and
    // the worker scores both on the same window; the engine decides as for a local training.
    expect((await e.train({ symbol: 'BTC/USDT', models: ['gbdt'] })).ok).toBe(true);
    // The entry is marked done before the decision is recorded: wait for the decision itself.
    const decision = await waitFor(() => e.promotions.list().find((d) => d.challengerVersion === '1.1'), 'the retrain decision', 150_000);
    expect(e.queue.list().find((q) => q.id === 'q2')?.state).toBe('done');
    expect(decision).toMatchObject({ symbol: 'BTC/USDT', championVersion: '1.0', reason: expect.stringMatching(/shared candles/) });
    expect(typeof decision!.championScore).toBe('number');
    expect(typeof decision!.challengerScore).toBe('number');
    expect(await artifactsOf(h)).toEqual(['v1.0/BTC-USDT', 'v1.1/BTC-USDT']);
  }, 240_000);
  /** The single queue entry of a one-symbol home. */
  const entryOf = (e: Engine) => e.queue.list().find((q) => q.symbol === 'BTC/USDT');
  const gruFrom = (progress: JobProgress[], w: string) => progress.some((p) => p.worker === w && p.phase === 'gru' && p.epoch >= 1);
  /** The pipeline runs on worker `w` (its first progress): the moment to break things mid-job. */
  const trainingOn = (progress: JobProgress[], w: string) => progress.some((p) => p.worker === w && p.phase !== 'waiting');
  const markOf = async (h: string) =>
    ((await readVerifiedArtifact(join(h, 'models', 'v1.0', 'BTC-USDT'))).metadata as unknown as { remote_job: { id: string; worker: string } }).remote_job;

  it('cancels a running remote job: the worker aborts the pipeline through its AbortSignal, nothing is published, the worker takes the next job', async () => {
    const w1 = workers.find((w) => w.name === 'w1')!;
    const h = await home();
    // Long enough that only a cancel can end it.
    const { engine: e, progress } = await engine(h, distConfig(redis.url, (c) => (c.training.quick = { ...c.training.quick, epochs: 400, patience: 400 })));
    await e.runRound();
    await waitFor(() => gruFrom(progress, 'w1'), 'the remote job to train on w1', 120_000);
    const jobId = entryOf(e)!.remote_job_id!;
    const res = await e.cancelJob(entryOf(e)!.id);
    expect(res.ok).toBe(true);
    await waitFor(() => entryOf(e)?.state === 'cancelled' && e.getSnapshot().jobsRunning === 0, 'the job to end cancelled', 60_000);
    await waitFor(() => w1.has(new RegExp(`${jobId} BTC/USDT: cancelled`)), 'the worker to report the abort', 30_000);
    expect(w1.has(new RegExp(`${jobId} BTC/USDT: done`))).toBe(false);
    expect(await artifactsOf(h)).toEqual([]);
    const client = new Redis(redis.url);
    try {
      expect(await client.exists(`${PREFIX}:training:${jobId}`)).toBe(0);
    } finally {
      client.disconnect();
    }
    expect(w1.alive).toBe(true);
  }, 240_000);

  it('kill -9 of the worker mid-job: BullMQ hands the stalled job to a second worker, which publishes exactly one artifact', async () => {
    const w1 = workers.find((w) => w.name === 'w1')!;
    const h = await home();
    const { engine: e, progress, logs } = await engine(h, distConfig(redis.url, (c) => (c.training.quick = { ...c.training.quick, epochs: 4, patience: 4 })));
    await e.runRound();
    await waitFor(() => logs.some((l) => /remote job \S+ running on worker w1/.test(l)), 'w1 to take the job', 120_000);
    const jobId = entryOf(e)!.remote_job_id!;
    // The second worker starts while the first trains (it finds the queue empty until the stall check).
    await Promise.all([worker('w2'), waitFor(() => trainingOn(progress, 'w1'), 'the pipeline to run on w1', 60_000)]);
    expect(entryOf(e)?.state).toBe('running');
    w1.proc.kill('SIGKILL');
    expect((await w1.exited).signal).toBe('SIGKILL');
    await waitFor(() => entryOf(e)?.state === 'done', 'the job to finish on w2', 150_000);
    expect(await artifactsOf(h)).toEqual(['v1.0/BTC-USDT']);
    expect(await markOf(h)).toEqual({ id: jobId, worker: 'w2' });
    expect(entryOf(e)).toMatchObject({ attempts: 1, remote_job_id: jobId });
    expect(logs.some((l) => l.includes(`remote job ${jobId} moved to worker w2`))).toBe(true);
    expect(progress.some((p) => p.worker === 'w2')).toBe(true);
  }, 240_000);

  it('Redis restarted (empty) mid-job: the engine adds the job again, the worker drops its orphaned run, one artifact', async () => {
    const w2 = workers.find((w) => w.name === 'w2')!;
    const h = await home();
    const { engine: e, progress, logs } = await engine(h, distConfig(redis.url, (c) => (c.training.quick = { ...c.training.quick, epochs: 4, patience: 4 })));
    await e.runRound();
    await waitFor(() => trainingOn(progress, 'w2'), 'the remote job to train on w2', 120_000);
    const jobId = entryOf(e)!.remote_job_id!;
    await redis.restart();
    await waitFor(() => entryOf(e)?.state === 'done', 'the job to finish after the restart', 150_000);
    expect(await artifactsOf(h)).toEqual(['v1.0/BTC-USDT']);
    expect(await markOf(h)).toEqual({ id: jobId, worker: 'w2' });
    expect(entryOf(e)).toMatchObject({ attempts: 1, remote_job_id: jobId });
    expect(logs.some((l) => l.includes(`remote job ${jobId} vanished from Redis`))).toBe(true);
    // The run that lost its job stopped instead of training to the end for nothing.
    expect(w2.has(new RegExp(`${jobId}: lost the job lock`))).toBe(true);
    expect(w2.alive).toBe(true);
  }, 240_000);

  it('engine restart re-attaches to the running remote job by id; SIGTERM hands the job back (exit 0) and another worker finishes it: one artifact, one job id', async () => {
    const w2 = workers.find((w) => w.name === 'w2')!;
    const h = await home();
    const config = distConfig(redis.url, (c) => (c.training.quick = { ...c.training.quick, epochs: 4, patience: 4 }));
    const a = await engine(h, config);
    await a.engine.runRound();
    await waitFor(() => trainingOn(a.progress, 'w2'), 'the remote job to train on w2', 120_000);
    const jobId = entryOf(a.engine)!.remote_job_id!;
    await a.engine.stop();
    engines.splice(engines.indexOf(a.engine), 1);
    // The record on disk: still running, with the job to re-attach to.
    const file = JSON.parse(await readFile(join(h, 'data', 'new_symbol_training_queue.json'), 'utf8')) as { entries: { state: string; remote_job_id?: string }[] };
    expect(file.entries[0]).toMatchObject({ state: 'running', remote_job_id: jobId });

    // The worker stops cleanly while the engine is away: the job goes back to waiting.
    const stopped = await w2.stop('SIGTERM');
    expect(stopped.code).toBe(0);
    expect(w2.has(new RegExp(`${jobId}: handed back to the queue`))).toBe(true);

    const [b] = await Promise.all([engine(h, config), worker('w3')]);
    await b.engine.runRound();
    await waitFor(() => b.logs.some((l) => l.includes(`re-attached to remote job ${jobId}`)), 'the engine to re-attach', 60_000);
    await waitFor(() => entryOf(b.engine)?.state === 'done', 'the re-attached job to finish on w3', 150_000);
    expect(await artifactsOf(h)).toEqual(['v1.0/BTC-USDT']);
    expect(await markOf(h)).toEqual({ id: jobId, worker: 'w3' });
    // Re-attached, not queued again: the entry still names the first job.
    expect(entryOf(b.engine)?.remote_job_id).toBe(jobId);
  }, 240_000);

  it('the worker enforces the training timeout (not retried) and retries a failing job with backoff (job_attempts)', async () => {
    const { BullmqPool } = await import('../../src/distributed/bullmq-pool.js');
    const { Queue } = await import('bullmq');
    const h = await home();
    const opts = { url: redis.url, engineId: 'etest', prefix: PREFIX, modelsDir: join(h, 'models'), attempts: 2, backoffMs: 200, kiloVersion: 'test', log: () => undefined };
    // The timeout runs from the worker thread's start; a loaded machine needs seconds just to start one.
    const pool = new BullmqPool({ ...opts, timeoutMs: 1500 });
    const roomy = new BullmqPool({ ...opts, timeoutMs: 120_000 });
    const queue = new Queue('training', { connection: { url: redis.url }, prefix: PREFIX });
    try {
      await expect(
        pool.run({ kind: 'selftest', symbol: 'HANG/USDT', behaviour: 'hang' }, { queueEntry: { id: 'q1', attempts: 1, remote_job_id: null } }),
      ).rejects.toThrow(/timed out after 1\.5s \(remote job etest-q1-a1\)/);
      expect((await queue.getJob('etest-q1-a1'))?.attemptsMade).toBe(1);
      await expect(
        roomy.run({ kind: 'selftest', symbol: 'FAIL/USDT', behaviour: 'throw' }, { queueEntry: { id: 'q2', attempts: 1, remote_job_id: null } }),
      ).rejects.toThrow(/selftest failure for FAIL\/USDT \(remote job etest-q2-a1\)/);
      expect((await queue.getJob('etest-q2-a1'))?.attemptsMade).toBe(2);
      // And a job that works comes back through the same path.
      const ok = await roomy.run({ kind: 'selftest', symbol: 'OK/USDT', behaviour: 'progress', steps: 2, stepMs: 5 });
      expect(ok.notes.join(' ')).toMatch(/2 steps.*ran on worker w\d/);
    } finally {
      await pool.close();
      await roomy.close();
      await queue.close();
    }
  }, 120_000);

  it('kilo doctor: Redis reachable with its version, noeviction, the live worker seen; an unreachable URL fails naming it without its password', async () => {
    const { distributedCheck } = await import('../../src/doctor/distributed-check.js');
    const ctx = (url: string) => ({ home: '/nonexistent', configPath: '/nonexistent/config.yaml', env: {}, config: distConfig(url), configValid: true });
    const ok = [await distributedCheck(ctx(redis.url))].flat();
    expect(ok.find((c) => c.name === 'redis')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/Redis 7\.|Redis \d+\./) });
    expect(ok.find((c) => c.name === 'redis maxmemory-policy')).toMatchObject({ status: 'ok', detail: 'noeviction' });
    expect(ok.find((c) => c.name === 'workers')).toMatchObject({ status: 'ok', detail: expect.stringContaining('w3@') });
    expect(ok.find((c) => c.name === 'workers')!.detail).not.toContain('w1@');
    const bad = [await distributedCheck(ctx('redis://admin:hunter2@127.0.0.1:1'))].flat();
    expect(bad[0]).toMatchObject({ name: 'redis', status: 'fail' });
    expect(bad[0].detail).toContain('redis://admin:***@127.0.0.1:1');
    expect(bad[0].detail).not.toContain('hunter2');
  }, 60_000);

  it('a wrong URL: kilo worker exits 4 with a clear error naming the URL (password masked); the engine refuses a missing URL naming the keys', async () => {
    const w = WorkerProcess.spawn(['--redis', 'redis://admin:hunter2@127.0.0.1:1', '--name', 'nowhere']);
    const malformed = WorkerProcess.spawn(['--redis', 'http://127.0.0.1:6379']);
    const { code } = await w.exited;
    expect(code).toBe(4);
    const out = w.lines.join('\n');
    expect(out).toContain('Redis at redis://admin:***@127.0.0.1:1 is unreachable');
    expect(out).toMatch(/ECONNREFUSED/);
    expect(out).not.toContain('hunter2');
    expect((await malformed.exited).code).toBe(2);
    expect(malformed.lines.join('\n')).toContain('http://127.0.0.1:6379 is not a redis:// or rediss:// URL');

    const h = await home();
    const config = distConfig(redis.url, (c) => (c.distributed.redis_url = null));
    await expect(createEngine({ home: h, config, configPath: join(h, 'config.yaml'), env: {} })).rejects.toThrow(/distributed\.redis_url is null and \$KILO_REDIS_URL \(distributed\.redis_url_env\) is not set/);
  }, 150_000);
});

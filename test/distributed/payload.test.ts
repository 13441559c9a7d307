/**
 * The pieces of distributed training that need no Redis: packing job data and results, verified
 * idempotent publishing of returned artifacts, Redis URL handling, and the queue file field.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArtifactExistsError, readVerifiedArtifact, writeArtifact } from '../../src/models/artifact.js';
import type { ModelMetadata } from '../../src/models/metadata.js';
import { pack, unpack, PayloadError } from '../../src/distributed/payload.js';
import { publishRemoteArtifact, RemoteArtifactError } from '../../src/distributed/publish.js';
import { readArtifactFiles } from '../../src/distributed/bullmq-pool.js';
import { checkRedisUrl, maskRedisUrl, resolveRedisUrl, scrubUrl } from '../../src/distributed/redis.js';
import { defaultConfig } from '../../src/config/schema.js';
import { TrainingQueue } from '../../src/training/queue.js';
import { ManualClock } from '../../src/clock.js';

describe('payload packing', () => {
  it('round-trips typed arrays bit for bit, NaN and infinities, nested in arrays and objects', async () => {
    const ts = Float64Array.from([1.5, -0, Number.MAX_VALUE, 5e-324]);
    const value = { a: ts, list: [new Float32Array([0.1, 2]), new Uint8Array([0, 255, 7])], i: new Int32Array([-3, 4]), s: { nan: NaN, inf: Infinity, ninf: -Infinity, n: 3 }, buf: Buffer.from('hello') };
    const p = await pack(value);
    const back = await unpack<typeof value>(p, 'test');
    expect(back.a).toBeInstanceOf(Float64Array);
    expect([...back.a]).toEqual([...ts]);
    expect(Object.is(back.a[1], -0)).toBe(true);
    expect(back.list[0]).toBeInstanceOf(Float32Array);
    expect([...back.list[0]]).toEqual([...new Float32Array([0.1, 2])]);
    expect([...back.list[1]]).toEqual([0, 255, 7]);
    expect([...back.i]).toEqual([-3, 4]);
    expect(back.s.nan).toBeNaN();
    expect(back.s).toMatchObject({ inf: Infinity, ninf: -Infinity, n: 3 });
    expect(Buffer.from(back.buf as unknown as Uint8Array).toString()).toBe('hello');
  });

  it('compresses candles: a year of hourly closes packs to well under its raw size', async () => {
    const n = 8760;
    let x = 100;
    const close = new Float64Array(n).map(() => (x *= 1 + (Math.sin(x) * 0.01)));
    const ts = new Float64Array(n).map((_, i) => 1_700_000_000_000 + i * 3_600_000);
    const p = await pack({ ts, close });
    expect(Buffer.from(p.b64, 'base64').byteLength).toBeLessThan(n * 16 * 0.8);
  });

  it('refuses a payload changed in transit, and one that is not gzip', async () => {
    const p = await pack({ x: 1 });
    const flipped = Buffer.from(p.b64, 'base64');
    flipped[flipped.length - 5] ^= 1;
    await expect(unpack({ b64: flipped.toString('base64'), sha256: p.sha256 }, 'job q1-a1')).rejects.toThrow(/job q1-a1: checksum does not match/);
    await expect(unpack({ b64: 'bm90IGd6aXA=', sha256: '2bbf6e1d1a6e8c3f' }, 'x')).rejects.toBeInstanceOf(PayloadError);
  });
});

describe('publishing a remote artifact', () => {
  let root: string;
  let workerModels: string;
  let engineModels: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'kilo-pub-'));
    workerModels = join(root, 'worker-models');
    engineModels = join(root, 'engine-models');
  });
  afterEach(async () => rm(root, { recursive: true, force: true }));

  const meta = (version: string): Omit<ModelMetadata, 'files'> =>
    ({
      version,
      trained_symbols: ['BTC/USDT'],
      training_days: 120,
      training_end_timestamp: 1,
      min_history_days_per_symbol: 120,
      training_mode: 'single_symbol',
      symbol_encoding_type: 'one_hot',
      symbol_encoding_map: { 'BTC/USDT': 0 },
      timeframe: '1h',
      window: 16,
      horizon: 1,
      label_threshold: 0.002,
      performance: {},
      feature_schema_hash: 'abc',
      backend: 'cpu',
      created_at: new Date(0).toISOString(),
    }) as Omit<ModelMetadata, 'files'>;

  async function workerArtifact(version = '1.0') {
    const dir = await writeArtifact({
      modelsDir: workerModels,
      version,
      key: 'BTC-USDT',
      files: [
        { type: 'gbdt', file: 'gbdt_model_BTC-USDT_x.json', data: '{"trees":[1,2,3]}' },
        { type: 'preprocessor', file: 'preprocessor_BTC-USDT_x.json', data: '{"mean":[0]}' },
      ],
      metadata: meta(version),
    });
    return readArtifactFiles(dir);
  }

  it('verifies, publishes through writeArtifact into the engine folder with the job id, and never twice for one job id', async () => {
    const files = await workerArtifact();
    const first = await publishRemoteArtifact({ modelsDir: engineModels, version: '1.0', key: 'BTC-USDT', jobId: 'e1-q1-a1', worker: 'w1', files });
    expect(first.fresh).toBe(true);
    expect(first.dir).toBe(join(engineModels, 'v1.0', 'BTC-USDT'));
    const v = await readVerifiedArtifact(first.dir);
    expect((v.metadata as unknown as { remote_job: unknown }).remote_job).toEqual({ id: 'e1-q1-a1', worker: 'w1' });
    expect(v.read('gbdt_model_BTC-USDT_x.json').toString()).toBe('{"trees":[1,2,3]}');
    const stamp = (await readFile(join(first.dir, 'metadata.json'), 'utf8')).length;

    // The same job delivered again (retried, recovered, re-attached): the folder is returned, not rewritten.
    const again = await publishRemoteArtifact({ modelsDir: engineModels, version: '1.0', key: 'BTC-USDT', jobId: 'e1-q1-a1', worker: 'w2', files });
    expect(again).toMatchObject({ fresh: false, dir: first.dir });
    expect((await readFile(join(first.dir, 'metadata.json'), 'utf8')).length).toBe(stamp);
    // Two deliveries at once: one folder, both told where it is.
    const files11 = await workerArtifact('1.1');
    const [x, y] = await Promise.all([
      publishRemoteArtifact({ modelsDir: engineModels, version: '1.1', key: 'BTC-USDT', jobId: 'e1-q2-a1', worker: 'w1', files: files11 }),
      publishRemoteArtifact({ modelsDir: engineModels, version: '1.1', key: 'BTC-USDT', jobId: 'e1-q2-a1', worker: 'w1', files: files11 }),
    ]);
    expect([x.fresh, y.fresh].sort()).toEqual([false, true]);
    expect((await readdir(engineModels)).sort()).toEqual(['v1.0', 'v1.1']);

    // Another job cannot take a published version (versions are immutable).
    await expect(publishRemoteArtifact({ modelsDir: engineModels, version: '1.0', key: 'BTC-USDT', jobId: 'e1-q9-a1', worker: 'w1', files })).rejects.toBeInstanceOf(ArtifactExistsError);
  });

  it('refuses files that do not match the manifest, extra files, and a version the engine did not ask for; nothing is written', async () => {
    const files = await workerArtifact();
    const tampered = { ...files, 'gbdt_model_BTC-USDT_x.json': Buffer.from('{"trees":[9,9,9]}') };
    await expect(publishRemoteArtifact({ modelsDir: engineModels, version: '1.0', key: 'BTC-USDT', jobId: 'j', worker: 'w', files: tampered })).rejects.toThrow(/gbdt_model_BTC-USDT_x\.json checksum does not match/);
    const extra = { ...files, 'evil.sh': Buffer.from('rm -rf /') };
    await expect(publishRemoteArtifact({ modelsDir: engineModels, version: '1.0', key: 'BTC-USDT', jobId: 'j', worker: 'w', files: extra })).rejects.toThrow(/evil\.sh is not listed/);
    const missing = { ...files };
    delete missing['preprocessor_BTC-USDT_x.json'];
    await expect(publishRemoteArtifact({ modelsDir: engineModels, version: '1.0', key: 'BTC-USDT', jobId: 'j', worker: 'w', files: missing })).rejects.toBeInstanceOf(RemoteArtifactError);
    await expect(publishRemoteArtifact({ modelsDir: engineModels, version: '2.0', key: 'BTC-USDT', jobId: 'j', worker: 'w', files })).rejects.toThrow(/version 1\.0, the job asked for 2\.0/);
    expect(await readdir(engineModels).catch(() => [])).toEqual([]);
  });
});

describe('Redis URL handling', () => {
  it('masks the password everywhere it is shown', () => {
    expect(maskRedisUrl('redis://admin:hunter2@10.0.0.5:6379/0')).toBe('redis://admin:***@10.0.0.5:6379/0');
    expect(maskRedisUrl('redis://:hunter2@host:6379')).toBe('redis://:***@host:6379');
    expect(maskRedisUrl('rediss://host:6380')).toBe('rediss://host:6380');
    expect(maskRedisUrl('not a url hunter2')).not.toContain('hunter2');
    expect(scrubUrl('failed: redis://a:hunter2@h:1 said WRONGPASS hunter2', 'redis://a:hunter2@h:1')).not.toContain('hunter2');
  });

  it('takes distributed.redis_url, else the variable redis_url_env names; a bad or missing one names the key', () => {
    const d = defaultConfig().distributed;
    expect(resolveRedisUrl({ ...d, redis_url: 'redis://h:1' }, {})).toBe('redis://h:1');
    expect(resolveRedisUrl(d, { KILO_REDIS_URL: 'redis://x:2' })).toBe('redis://x:2');
    expect(() => resolveRedisUrl({ ...d, redis_url_env: 'MY_REDIS' }, {})).toThrow(/\$MY_REDIS \(distributed\.redis_url_env\) is not set/);
    expect(() => resolveRedisUrl(d, { KILO_REDIS_URL: 'http://a:pw@h' })).toThrow(/\$KILO_REDIS_URL: http:\/\/a:\*\*\*@h is not a redis/);
    expect(() => checkRedisUrl('redis://', '--redis')).toThrow(/--redis/);
  });

  it('the config defaults to the local backend and validates the distributed keys', async () => {
    const { configSchema } = await import('../../src/config/schema.js');
    expect(defaultConfig().distributed).toEqual({ backend: 'local', redis_url: null, redis_url_env: 'KILO_REDIS_URL', queue_prefix: 'kilo', job_attempts: 2, retry_backoff_s: 10 });
    expect(configSchema.safeParse({ distributed: { backend: 'celery' } }).success).toBe(false);
    expect(configSchema.safeParse({ distributed: { redis_url: 'http://h' } }).success).toBe(false);
    expect(configSchema.safeParse({ distributed: { queue_prefix: 'a:b' } }).success).toBe(false);
    expect(configSchema.safeParse({ distributed: { backend: 'bullmq', redis_url: 'redis://10.0.0.5:6379' } }).success).toBe(true);
  });
});

describe('queue file: remote_job_id', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kilo-q-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('reads files written before the field existed, records the job id, and a restart keeps it for re-attaching', async () => {
    const file = join(dir, 'new_symbol_training_queue.json');
    const old = {
      queued_symbols: ['BTC/USDT'],
      queued_at: { 'BTC/USDT': '2024-01-01T00:00:00.000Z' },
      entries: [{ id: 'q1', symbol: 'BTC/USDT', priority: 0, state: 'queued', attempts: 0, last_error: null, reason: 'x', next_attempt_at: null, added_at: 0, started_at: null, finished_at: null, last_trained_at: null }],
      next_seq: 2,
    };
    await writeFile(file, JSON.stringify(old));
    const clock = new ManualClock(1000);
    const q = await TrainingQueue.open({ file, clock, maxAttempts: 3 });
    expect(q.list()[0].remote_job_id).toBeUndefined();
    await q.markRunning('q1', 1000);
    await q.setRemoteJobId('q1', 'eab12cd34-q1-a1');
    const onDisk = JSON.parse(await readFile(file, 'utf8'));
    expect(onDisk.entries[0]).toMatchObject({ state: 'running', remote_job_id: 'eab12cd34-q1-a1' });
    const after = await TrainingQueue.open({ file, clock, maxAttempts: 3, recoverRunning: true });
    expect(after.list()[0]).toMatchObject({ state: 'queued', remote_job_id: 'eab12cd34-q1-a1' });
    expect(after.warnings.join('\n')).toContain('re-attaching to job eab12cd34-q1-a1');
  });
});

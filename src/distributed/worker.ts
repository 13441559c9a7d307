/**
 * `kilo worker`: pulls training jobs from the BullMQ queue and runs each with the SAME pipeline a
 * local training runs, on a worker thread (the local WorkerPool), so this process's event loop stays
 * free to renew the job's lock and report progress. The job is self-contained: the worker unpacks
 * spec, candles and champion files into its own temp folder, trains, and returns the artifact's
 * files as the job result. It never writes the engine's home.
 *
 * Aborts have a kind, decided before worker.cancelJob is called:
 * - cancel    the engine asked (cancel key): fail without retry;
 * - handback  this worker is stopping: the job goes back to waiting for another worker;
 * - lost-lock Redis lost the job or its lock expired: someone else may run it, so stop.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobProgress, LogLevel } from '../engine-api.js';
import { JobTimeoutError, WorkerPool } from '../training/pool.js';
import type { TrainJobSpec, TrainResult } from '../training/protocol.js';
import { readArtifactFiles } from './bullmq-pool.js';
import { PAYLOAD_FORMAT, PayloadError, pack, unpack, type FileMap, type JobPayload, type RemoteJobData, type RemoteJobResult } from './payload.js';
import type { RemoteProgress } from './progress.js';
import { bullConnection, kiloKeys, maskRedisUrl, probeRedis, QUEUE_NAME, scrubUrl, sideClient, type RedisProbe } from './redis.js';

export interface KiloWorkerOptions {
  url: string;
  prefix: string;
  concurrency: number;
  name: string;
  kiloVersion: string;
  log: (level: LogLevel, message: string) => void;
  /** Let running jobs finish on stop instead of handing them back. */
  finishJobs?: boolean;
  /** BullMQ lock duration and stalled-check interval (ms); short values only make sense in tests. */
  lockMs?: number;
  stalledMs?: number;
  /** How often a running job's cancel key is checked (ms). */
  cancelPollMs?: number;
  /** Worker-thread entry override (tests). */
  workerEntry?: URL;
}

type AbortKind = 'cancel' | 'handback' | 'lost-lock';

/** A worker seen by `kilo doctor`: written every few seconds to the workers hash. */
export interface WorkerHeartbeat {
  name: string;
  host: string;
  pid: number;
  concurrency: number;
  jobs: string[];
  seen: number;
  started: number;
  kilo: string;
  stopped?: boolean;
}

export const HEARTBEAT_MS = 5000;

export class KiloWorker {
  private worker: Worker<RemoteJobData, RemoteJobResult> | null = null;
  private side: Redis | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly running = new Map<string, { started: number }>();
  private readonly abortKind = new Map<string, AbortKind>();
  private readonly started = Date.now();
  private stopping: Promise<void> | null = null;
  private outage = false;
  private warnedVersion = false;
  readonly masked: string;
  probe: RedisProbe | null = null;

  constructor(private readonly opts: KiloWorkerOptions) {
    this.masked = maskRedisUrl(opts.url);
  }

  /** Probe Redis (throws RedisUnreachableError naming the URL), then start taking jobs. */
  async start(): Promise<void> {
    const { opts } = this;
    this.probe = await probeRedis(opts.url);
    if (this.probe.maxmemoryPolicy !== null && this.probe.maxmemoryPolicy !== 'noeviction') {
      opts.log('warn', `Redis at ${this.masked} has maxmemory-policy ${this.probe.maxmemoryPolicy}; BullMQ needs noeviction (jobs can be evicted)`);
    }
    this.side = sideClient(opts.url);
    this.side.on('error', (err) => this.noteError(err));
    const worker = new Worker<RemoteJobData, RemoteJobResult>(QUEUE_NAME, (job, token, signal) => this.process(job, token, signal), {
      connection: bullConnection(opts.url, 'blocking'),
      prefix: opts.prefix,
      name: opts.name,
      concurrency: opts.concurrency,
      lockDuration: opts.lockMs ?? 30_000,
      stalledInterval: opts.stalledMs ?? 30_000,
      // A job that killed two workers is more likely the cause than the victim.
      maxStalledCount: 2,
      autorun: false,
    });
    worker.on('error', (err) => this.noteError(err));
    worker.on('ready', () => this.noteReady());
    worker.on('lockRenewalFailed', (ids) => {
      for (const id of ids) {
        if (!this.running.has(id)) continue;
        this.abortKind.set(id, 'lost-lock');
        opts.log('warn', `${id}: lost the job lock (Redis restarted or this worker stalled); stopping it, another worker may run it`);
        worker.cancelJob(id, 'lost the job lock');
      }
    });
    this.worker = worker;
    void worker.run().catch((err) => this.noteError(err as Error));
    await worker.waitUntilReady();
    await this.pruneHeartbeats();
    await this.beat();
    this.heartbeat = setInterval(() => void this.beat(), HEARTBEAT_MS);
    opts.log('info', `worker ${opts.name} taking training jobs from ${this.masked} (prefix ${opts.prefix}, Redis ${this.probe.version}, concurrency ${opts.concurrency})`);
  }

  get activeJobs(): string[] {
    return [...this.running.keys()];
  }

  /**
   * Stop taking jobs. Running ones are handed back to the queue (another worker takes them at
   * once, no stalled-job wait) unless finishJobs, in which case they finish first.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const w = this.worker;
      if (w && !this.opts.finishJobs) {
        for (const id of this.running.keys()) {
          this.abortKind.set(id, 'handback');
          w.cancelJob(id, 'worker stopping');
        }
      }
      if (this.running.size) this.opts.log('info', `stopping: ${this.opts.finishJobs ? 'finishing' : 'handing back'} ${[...this.running.keys()].join(', ')}`);
      await w?.close();
      if (this.heartbeat) clearInterval(this.heartbeat);
      await this.beat(true).catch(() => undefined);
      await this.side?.quit().catch(() => undefined);
      this.opts.log('info', `worker ${this.opts.name} stopped`);
    })();
    return this.stopping;
  }

  private async beat(stopped = false): Promise<void> {
    if (!this.side) return;
    const hb: WorkerHeartbeat = {
      name: this.opts.name,
      host: hostname(),
      pid: process.pid,
      concurrency: this.opts.concurrency,
      jobs: this.activeJobs,
      seen: Date.now(),
      started: this.started,
      kilo: this.opts.kiloVersion,
      ...(stopped ? { stopped: true } : {}),
    };
    await this.side.hset(kiloKeys(this.opts.prefix).workers, this.opts.name, JSON.stringify(hb)).catch((err) => this.noteError(err as Error));
  }

  /** Names carry a pid by default, so restarts add entries: drop those silent for a day. */
  private async pruneHeartbeats(): Promise<void> {
    const key = kiloKeys(this.opts.prefix).workers;
    const all = await this.side!.hgetall(key).catch(() => ({}) as Record<string, string>);
    const stale = Object.entries(all)
      .filter(([, v]) => {
        try {
          return Date.now() - (JSON.parse(v) as WorkerHeartbeat).seen > 86_400_000;
        } catch {
          return true;
        }
      })
      .map(([k]) => k);
    if (stale.length) await this.side!.hdel(key, ...stale).catch(() => undefined);
  }

  private noteError(err: Error): void {
    if (this.outage) return;
    this.outage = true;
    this.opts.log('warn', `Redis at ${this.masked}: ${scrubUrl(err.message, this.opts.url)}; reconnecting`);
  }

  private noteReady(): void {
    if (!this.outage) return;
    this.outage = false;
    this.opts.log('info', `Redis at ${this.masked} reachable again`);
  }

  private async process(job: Job<RemoteJobData, RemoteJobResult>, token: string | undefined, signal?: AbortSignal): Promise<RemoteJobResult> {
    const { opts } = this;
    const id = job.id ?? '?';
    const data = job.data;
    if (data?.format !== PAYLOAD_FORMAT) throw new UnrecoverableError(`job format ${String(data?.format)} is not ${PAYLOAD_FORMAT}: run the same kilo version on the engine and the workers`);
    if (data.kilo !== opts.kiloVersion && !this.warnedVersion) {
      this.warnedVersion = true;
      opts.log('warn', `the engine runs kilo ${data.kilo}, this worker ${opts.kiloVersion}; artifacts may differ from local ones`);
    }
    this.running.set(id, { started: Date.now() });
    const reporter = new ProgressReporter(job, `${opts.name}:${randomUUID().slice(0, 8)}`, opts.name);
    reporter.log('info', `picked up by worker ${opts.name}${job.attemptsStarted > 1 ? ` (start ${job.attemptsStarted})` : ''}`);
    opts.log('info', `${id} ${data.symbols.join(',')}: started`);
    const cancelKey = kiloKeys(opts.prefix).cancel(id);
    const checkCancel = async (): Promise<void> => {
      const reason = await this.side?.get(cancelKey).catch(() => null);
      if (reason && !signal?.aborted) {
        this.abortKind.set(id, 'cancel');
        opts.log('info', `${id}: cancel requested (${reason})`);
        this.worker?.cancelJob(id, reason);
      }
    };
    const cancelWatch = setInterval(() => void checkCancel(), opts.cancelPollMs ?? 1000);
    const tmp = await mkdtemp(join(tmpdir(), `kilo-job-${id.replace(/[^A-Za-z0-9_-]/g, '_')}-`));
    try {
      await checkCancel();
      const { spec, champion } = await unpack<JobPayload>(data.payload, `job ${id}`);
      const local = await this.localSpec(spec, champion, tmp);
      const pool = new WorkerPool({ maxConcurrent: 1, timeoutMs: data.timeoutMs, entry: opts.workerEntry });
      let result: TrainResult;
      try {
        result = await pool.run(local, {
          signal,
          onProgress: (p) => reporter.progress(p),
          onLog: (level, message) => reporter.log(level, message),
        });
      } finally {
        await pool.close();
      }
      const files = result.kind === 'train' && result.artifactDir ? await readArtifactFiles(result.artifactDir) : null;
      await reporter.flush();
      const payload = await pack({ result: { ...result, artifactDir: null }, files });
      opts.log('info', `${id} ${data.symbols.join(',')}: done in ${result.durationS.toFixed(1)}s, returning ${(payload.b64.length / 1024).toFixed(0)} KiB`);
      return { format: PAYLOAD_FORMAT, worker: opts.name, payload };
    } catch (err) {
      const kind = signal?.aborted ? this.abortKind.get(id) : undefined;
      const msg = (err as Error).message;
      if (kind === 'handback' && token) {
        await job.moveToWait(token);
        opts.log('info', `${id}: handed back to the queue`);
        throw new WaitingError();
      }
      opts.log(kind === 'cancel' ? 'info' : 'warn', `${id} ${data.symbols.join(',')}: ${kind === 'cancel' ? 'cancelled' : `failed: ${msg}`}`);
      if (kind === 'cancel') throw new UnrecoverableError(`cancelled: ${String(signal?.reason ?? 'by the engine')}`);
      // The same job on a like machine would time out again; a bad payload stays bad.
      if (err instanceof JobTimeoutError || err instanceof PayloadError) throw new UnrecoverableError(msg);
      throw err;
    } finally {
      clearInterval(cancelWatch);
      reporter.stop();
      this.running.delete(id);
      this.abortKind.delete(id);
      await rm(tmp, { recursive: true, force: true });
    }
  }

  /** The spec with this worker's own folders: models/ and the champion under the job's temp folder. */
  private async localSpec(spec: TrainJobSpec, champion: FileMap | null, tmp: string): Promise<TrainJobSpec> {
    if (spec.kind !== 'train') return spec;
    let gate = spec.gate;
    if (gate) {
      if (!champion) throw new PayloadError('the job asks for the champion/challenger gate but carries no champion files');
      const dir = join(tmp, 'champion');
      await mkdir(dir, { recursive: true });
      for (const [name, bytes] of Object.entries(champion)) {
        if (name.includes('/') || name.includes('\\') || name.startsWith('.')) throw new PayloadError(`champion file name ${JSON.stringify(name)} is not a plain file name`);
        await writeFile(join(dir, name), bytes);
      }
      gate = { ...gate, championDir: dir };
    }
    return { ...spec, modelsDir: join(tmp, 'models'), gate };
  }
}

/**
 * Sends progress and log lines through job.updateProgress at most every 500 ms (a phase change at
 * once), one update in flight at a time; Redis being away only delays updates.
 */
class ProgressReporter {
  private seq = 0;
  private last: JobProgress | null = null;
  private logs: { level: LogLevel; message: string }[] = [];
  private lastSent = 0;
  private timer: NodeJS.Timeout | null = null;
  private inflight: Promise<void> | null = null;
  private dirty = false;
  private stopped = false;

  constructor(
    private readonly job: Job,
    private readonly run: string,
    private readonly worker: string,
  ) {}

  progress(p: JobProgress): void {
    const now = this.last?.phase !== p.phase;
    this.last = p;
    this.schedule(now);
  }

  log(level: LogLevel, message: string): void {
    // Bounded: a chatty job during a Redis outage must not grow memory without end.
    if (this.logs.length >= 100) this.logs.shift();
    this.logs.push({ level, message });
    this.schedule(false);
  }

  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.inflight;
    if (this.logs.length || this.dirty) await this.send();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(now: boolean): void {
    if (this.stopped) return;
    const wait = now ? 0 : Math.max(0, 500 - (Date.now() - this.lastSent));
    if (wait === 0) {
      void this.send();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = null;
      void this.send();
    }, wait);
  }

  private send(): Promise<void> {
    if (this.inflight) {
      this.dirty = true;
      return this.inflight;
    }
    this.dirty = false;
    this.lastSent = Date.now();
    const update: RemoteProgress = { run: this.run, seq: ++this.seq, worker: this.worker, progress: this.last, logs: this.logs.splice(0) };
    this.inflight = this.job
      .updateProgress(update as unknown as object)
      .catch(() => undefined)
      .finally(() => {
        this.inflight = null;
        if (this.dirty && !this.stopped) void this.send();
      });
    return this.inflight;
  }
}

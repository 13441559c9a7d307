/**
 * Engine side of distributed training: the same run(spec) -> TrainResult contract as WorkerPool,
 * carried out by a BullMQ job that a `kilo worker` process (any machine) runs with the same
 * pipeline. The engine packs the spec with its candles (and the champion's files for the gate),
 * follows the job (QueueEvents wake it up, a poll every second catches what events miss, e.g.
 * across a Redis restart), and publishes the returned files into its own models/ once per job id.
 *
 * Failure handling, each in one place:
 * - a worker dies (kill -9): BullMQ's stalled-job check hands the job to another worker;
 * - Redis restarts empty (no persistence): the job vanishes, the engine adds it again under the
 *   same id (the old run cannot complete: its lock is gone);
 * - the engine restarts: the queue entry keeps `remote_job_id`, run() re-attaches to that job;
 * - the operator cancels: a cancel key the worker polls -> worker.cancelJob -> AbortSignal.
 */
import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobProgress, LogLevel } from '../engine-api.js';
import { artifactKey, readVerifiedArtifact } from '../models/artifact.js';
import { MANIFEST_FILE } from '../models/metadata.js';
import { JobCancelledError, JobFailedError, JobRejectedError } from '../training/pool.js';
import { jobSymbols, type TrainJobSpec, type TrainResult } from '../training/protocol.js';
import type { BackendRunOptions, TrainingBackend } from './backend.js';
import { PAYLOAD_FORMAT, pack, unpack, type FileMap, type JobPayload, type RemoteJobData, type RemoteJobResult, type ResultPayload } from './payload.js';
import { publishRemoteArtifact, type Published } from './publish.js';
import { bullConnection, kiloKeys, maskRedisUrl, QUEUE_NAME, scrubUrl, sideClient } from './redis.js';
import { parseRemoteProgress } from './progress.js';

export interface BullmqPoolOptions {
  url: string;
  /**
   * Stable per engine home (see engineJobPrefix): job ids are `<engineId>-<entry>-a<attempt>`, so two
   * homes whose queues both have a q3 never share a job even on one prefix.
   */
  engineId: string;
  prefix: string;
  /** The engine's models/ folder: the only place artifacts are published. */
  modelsDir: string;
  /** resources.training_timeout_s, enforced by the worker. */
  timeoutMs: number;
  /** BullMQ tries per job and the first backoff delay (exponential). */
  attempts: number;
  backoffMs: number;
  kiloVersion: string;
  log: (level: LogLevel, message: string) => void;
  /** Persist the job id on the queue entry before the job is added (re-attach after a restart). */
  recordJobId?: (entryId: string, jobId: string) => Promise<void>;
  /** Poll of the job's state between events (ms). */
  pollMs?: number;
  /** How long a cancelled job may take to stop on its worker before run() gives up waiting. */
  cancelGraceMs?: number;
  /** How often a job that vanished from Redis is added again before the run fails. */
  maxResubmits?: number;
}

/** States in which a job still runs or will run. */
const LIVE = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

const WAITING: JobProgress = { phase: 'waiting', epoch: 0, epochs: 0, loss: null, valMetric: null, fraction: 0, etaS: null };

interface Snapshot {
  state: string;
  progress: unknown;
  returnvalue: unknown;
  failedReason: string | undefined;
}

export class BullmqPool implements TrainingBackend {
  private readonly queue: Queue;
  private readonly events: QueueEvents;
  private readonly side: Redis;
  private readonly masked: string;
  private readonly busy = new Set<string>();
  private readonly wakers = new Map<string, Set<() => void>>();
  private readonly progressTaps = new Map<string, (data: unknown) => void>();
  private readonly publishing = new Map<string, Promise<Published>>();
  private readonly keys: ReturnType<typeof kiloKeys>;
  private detaching = false;
  private closed = false;
  private outage: string | null = null;

  constructor(private readonly opts: BullmqPoolOptions) {
    this.masked = maskRedisUrl(opts.url);
    this.keys = kiloKeys(opts.prefix);
    // Results and payloads are large (candles, weights): keep the events stream short.
    this.queue = new Queue(QUEUE_NAME, { connection: bullConnection(opts.url, 'command', { quiet: true }), prefix: opts.prefix, streams: { events: { maxLen: 200 } } });
    this.events = new QueueEvents(QUEUE_NAME, { connection: bullConnection(opts.url, 'blocking', { quiet: true }), prefix: opts.prefix });
    this.side = sideClient(opts.url);
    const onError = (err: Error): void => this.noteOutage(err);
    this.queue.on('error', onError);
    this.events.on('error', onError);
    this.side.on('error', onError);
    this.events.on('progress', ({ jobId, data }) => this.progressTaps.get(jobId)?.(data));
    for (const ev of ['completed', 'failed', 'active', 'waiting', 'removed', 'stalled', 'delayed'] as const) {
      this.events.on(ev, (e: { jobId: string }) => this.wake(e.jobId));
    }
  }

  get activeJobs(): number {
    return this.busy.size;
  }

  detachOnAbort(): void {
    this.detaching = true;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const set of this.wakers.values()) for (const w of set) w();
    await Promise.allSettled([this.events.close(), this.queue.close(), this.side.quit()]);
  }

  async run(job: TrainJobSpec, ro: BackendRunOptions = {}): Promise<TrainResult> {
    if (this.closed) throw new JobRejectedError('the BullMQ backend is closed');
    const symbols = jobSymbols(job);
    const clash = symbols.find((s) => this.busy.has(s));
    if (clash) throw new JobRejectedError(`${clash} is already training; one job per symbol at a time`);
    if (ro.signal?.aborted) throw new JobCancelledError();
    for (const s of symbols) this.busy.add(s);
    try {
      const jobId = await this.attachOrSubmit(job, ro);
      return await this.follow(jobId, job, ro);
    } finally {
      for (const s of symbols) this.busy.delete(s);
    }
  }

  // ----- submit / re-attach -----

  private async attachOrSubmit(job: TrainJobSpec, ro: BackendRunOptions): Promise<string> {
    const entry = ro.queueEntry;
    if (entry?.remote_job_id) {
      const prev = { state: await this.retrying(() => this.queue.getJobState(entry.remote_job_id!), 'look up the previous job') };
      const compatible = prev.state !== 'unknown' && prev.state !== 'failed' && (await this.sameWork(entry.remote_job_id, job));
      if (compatible) {
        this.opts.log('info', `re-attached to remote job ${entry.remote_job_id} (${prev.state}) instead of training again`);
        return entry.remote_job_id;
      }
      if (LIVE.has(prev.state)) {
        // It trains something else now (another version was decided): stop it, start this one.
        await this.requestCancel(entry.remote_job_id, 'superseded by a new attempt');
      }
    }
    const jobId = entry ? `${this.opts.engineId}-${entry.id}-a${entry.attempts}` : `${this.opts.engineId}-adhoc-${randomUUID()}`;
    // Recorded before the add: a crash in between leaves an id with no job, which the next start ignores.
    if (entry) await this.opts.recordJobId?.(entry.id, jobId);
    const st = { state: await this.retrying(() => this.queue.getJobState(jobId), 'look up the job') };
    if ((LIVE.has(st.state) || st.state === 'completed') && (await this.sameWork(jobId, job))) return jobId;
    if (st.state !== 'unknown') await this.retrying(() => this.queue.remove(jobId), 'remove a stale job');
    await this.submit(jobId, job, entry?.id ?? null);
    return jobId;
  }

  /** True when the job in Redis trains the same symbols and version as `job`. */
  private async sameWork(jobId: string, job: TrainJobSpec): Promise<boolean> {
    const j = await this.retrying(() => Job.fromId<RemoteJobData>(this.queue, jobId), 'read the job');
    if (!j) return false;
    const want = job.kind === 'train' ? job.version : null;
    return j.data.version === want && JSON.stringify(j.data.symbols) === JSON.stringify(jobSymbols(job));
  }

  private readonly packed = new WeakMap<TrainJobSpec, Promise<RemoteJobData>>();

  /** The job's data, packed once per spec (a resubmission reuses it). */
  private jobData(job: TrainJobSpec, entry: string | null): Promise<RemoteJobData> {
    let p = this.packed.get(job);
    if (!p) {
      p = (async () => {
        let champion: FileMap | null = null;
        let spec: TrainJobSpec = job;
        if (job.kind === 'train') {
          if (job.gate) champion = await readArtifactFiles(job.gate.championDir);
          // Paths on this machine mean nothing on a worker; it chooses its own temp folders.
          spec = { ...job, modelsDir: '', gate: job.gate ? { ...job.gate, championDir: '' } : undefined };
        }
        const payload: JobPayload = { spec, champion };
        return {
          format: PAYLOAD_FORMAT,
          kilo: this.opts.kiloVersion,
          entry,
          symbols: jobSymbols(job),
          version: job.kind === 'train' ? job.version : null,
          timeoutMs: this.opts.timeoutMs,
          payload: await pack(payload),
        };
      })();
      this.packed.set(job, p);
    }
    return p;
  }

  private async submit(jobId: string, job: TrainJobSpec, entry: string | null): Promise<void> {
    const data = await this.jobData(job, entry);
    await this.retrying(
      () =>
        this.queue.add(job.kind, data, {
          jobId,
          attempts: this.opts.attempts,
          backoff: { type: 'exponential', delay: this.opts.backoffMs },
          // Jobs hold candles and weights: the engine removes a job once published; these bound the rest.
          removeOnComplete: { age: 86_400, count: 50 },
          removeOnFail: { age: 7 * 86_400, count: 50 },
        }),
      'add the job',
    );
    this.opts.log('info', `remote job ${jobId} queued on ${this.masked} (${(data.payload.b64.length / 1024).toFixed(0)} KiB packed)`);
    const workers = await this.queue.getWorkersCount().catch(() => -1);
    if (workers === 0) this.opts.log('warn', `no kilo worker is connected to ${this.masked}; job ${jobId} waits until one starts (kilo worker --redis URL)`);
  }

  // ----- follow -----

  private async follow(jobId: string, job: TrainJobSpec, ro: BackendRunOptions): Promise<TrainResult> {
    let run: string | null = null;
    let seq = -1;
    let waitingShown = false;
    let cancelDeadline: number | null = null;
    let resubmits = 0;
    let polls = 0;
    const deliver = (data: unknown): void => {
      const p = parseRemoteProgress(data);
      if (!p || cancelDeadline !== null) return;
      if (p.run !== run) {
        this.opts.log('info', run === null ? `remote job ${jobId} running on worker ${p.worker}` : `remote job ${jobId} moved to worker ${p.worker} (the previous run stopped)`);
        run = p.run;
        seq = -1;
      }
      if (p.seq <= seq) return;
      seq = p.seq;
      for (const l of p.logs) ro.onLog?.(l.level, `[${p.worker}] ${l.message}`);
      if (p.progress) ro.onProgress?.({ ...p.progress, worker: p.worker });
    };
    this.progressTaps.set(jobId, deliver);
    const sleeper = this.sleeper(jobId);
    try {
      for (;;) {
        if (this.closed) throw new JobCancelledError('the BullMQ backend closed');
        if (ro.signal?.aborted && cancelDeadline === null) {
          if (this.detaching) throw new JobCancelledError(`engine stopping: remote job ${jobId} keeps running; the next start re-attaches to it`);
          await this.requestCancel(jobId, 'cancelled by the operator');
          cancelDeadline = Date.now() + (this.opts.cancelGraceMs ?? 15_000);
        }
        let snap: Snapshot;
        try {
          // The job hash holds the packed candles: read it only when there is something to read in it
          // (the outcome, or progress that events may have missed, every few polls).
          snap = await this.snapshot(jobId, ++polls % 5 === 0);
          this.noteRecovered();
        } catch (err) {
          this.noteOutage(err as Error);
          await sleeper.sleep(this.opts.pollMs ?? 1000);
          continue;
        }
        if (cancelDeadline !== null) {
          // Whatever the worker did after the cancel, nothing of this job is published.
          if (!LIVE.has(snap.state) || Date.now() > cancelDeadline) {
            await this.queue.remove(jobId).catch(() => undefined);
            throw new JobCancelledError();
          }
        } else if (snap.state === 'completed') {
          const result = await this.collect(jobId, job, snap.returnvalue);
          // Published: the job's payload and result need not sit in Redis any longer.
          await this.queue.remove(jobId).catch(() => undefined);
          return result;
        } else if (snap.state === 'failed') {
          throw new JobFailedError(`${snap.failedReason ?? 'failed'} (remote job ${jobId})`);
        } else if (snap.state === 'unknown') {
          // Redis lost it (restarted without persistence). The old run cannot complete without its
          // lock, so adding the same id again cannot produce a second artifact.
          if (++resubmits > (this.opts.maxResubmits ?? 5)) throw new JobFailedError(`remote job ${jobId} vanished from Redis ${resubmits - 1} times`);
          this.opts.log('warn', `remote job ${jobId} vanished from Redis (restarted without persistence?); adding it again`);
          await this.submit(jobId, job, ro.queueEntry?.id ?? null);
          run = null;
          continue;
        } else {
          if (snap.progress) deliver(snap.progress);
          if (snap.state !== 'active' && !waitingShown) {
            waitingShown = true;
            ro.onProgress?.(WAITING);
          }
          if (snap.state === 'active') waitingShown = false;
        }
        await sleeper.sleep(this.opts.pollMs ?? 1000);
      }
    } finally {
      this.progressTaps.delete(jobId);
      sleeper.done();
    }
  }

  /** Unpack a completed job's result and publish its files (once per job id). */
  private async collect(jobId: string, job: TrainJobSpec, rv: unknown): Promise<TrainResult> {
    const r = rv as RemoteJobResult | undefined;
    if (!r || r.format !== PAYLOAD_FORMAT || typeof r.worker !== 'string') throw new JobFailedError(`remote job ${jobId} returned no kilo result (format ${String(r?.format)})`);
    const { result, files } = await unpack<ResultPayload>(r.payload, `result of remote job ${jobId}`);
    if (job.kind !== 'train') return { ...result, notes: [...result.notes, `ran on worker ${r.worker}`] };
    if (!files) throw new JobFailedError(`remote job ${jobId} returned no artifact files`);
    let p = this.publishing.get(jobId);
    if (!p) {
      p = publishRemoteArtifact({ modelsDir: this.opts.modelsDir, version: job.version, key: artifactKey(job.symbols, job.trainingMode), jobId, worker: r.worker, files });
      this.publishing.set(jobId, p);
      p.catch(() => this.publishing.delete(jobId));
    }
    const pub = await p;
    if (!pub.fresh) this.opts.log('info', `remote job ${jobId} was already published to ${pub.dir}; not publishing twice`);
    return { ...result, artifactDir: pub.dir, metadata: pub.metadata, notes: [...result.notes, `trained on worker ${r.worker} (remote job ${jobId})`] };
  }

  private async requestCancel(jobId: string, reason: string): Promise<void> {
    // The worker running it polls this key; a job still waiting is simply removed.
    await this.side.set(this.keys.cancel(jobId), reason, 'EX', 3600).catch((err) => this.noteOutage(err as Error));
    await this.queue.remove(jobId).catch(() => undefined);
    this.wake(jobId);
  }

  private async snapshot(jobId: string, withProgress: boolean): Promise<Snapshot> {
    const light = await this.queue.getJobState(jobId);
    if (!withProgress && light !== 'completed' && light !== 'failed') return { state: light, progress: null, returnvalue: undefined, failedReason: undefined };
    const j = await Job.fromId(this.queue, jobId);
    if (!j) return { state: 'unknown', progress: null, returnvalue: undefined, failedReason: undefined };
    const state = await j.getState();
    return { state, progress: j.progress, returnvalue: j.returnvalue, failedReason: j.failedReason };
  }

  /** Retry a Redis call through an outage, for up to ~30 s, then fail naming the URL. */
  private async retrying<T>(fn: () => Promise<T>, what: string): Promise<T> {
    const end = Date.now() + 30_000;
    for (;;) {
      try {
        const v = await fn();
        this.noteRecovered();
        return v;
      } catch (err) {
        this.noteOutage(err as Error);
        if (this.closed || Date.now() > end) throw new JobFailedError(`could not ${what} on Redis at ${this.masked}: ${scrubUrl((err as Error).message, this.opts.url)}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private noteOutage(err: Error): void {
    const msg = scrubUrl(err.message, this.opts.url);
    if (this.outage !== null) return;
    this.outage = msg;
    this.opts.log('warn', `Redis at ${this.masked}: ${msg}; retrying`);
  }

  private noteRecovered(): void {
    if (this.outage === null) return;
    this.outage = null;
    this.opts.log('info', `Redis at ${this.masked} reachable again`);
  }

  private wake(jobId: string): void {
    for (const w of this.wakers.get(jobId) ?? []) w();
  }

  private sleeper(jobId: string): { sleep(ms: number): Promise<void>; done(): void } {
    let wakeNow: (() => void) | null = null;
    const waker = (): void => wakeNow?.();
    const set = this.wakers.get(jobId) ?? new Set();
    set.add(waker);
    this.wakers.set(jobId, set);
    return {
      sleep: (ms) =>
        new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            wakeNow = null;
            resolve();
          }, ms);
          wakeNow = () => {
            clearTimeout(t);
            wakeNow = null;
            resolve();
          };
        }),
      done: () => {
        set.delete(waker);
        if (set.size === 0) this.wakers.delete(jobId);
      },
    };
  }
}

/** e<8 hex>: the same for one home on one machine across restarts (re-attach), different elsewhere. */
export const engineJobPrefix = (home: string): string => `e${createHash('sha256').update(`${hostname()}:${home}`).digest('hex').slice(0, 8)}`;

/** An artifact folder's files, checked against its manifest first (the manifest itself included). */
export async function readArtifactFiles(dir: string): Promise<FileMap> {
  const v = await readVerifiedArtifact(dir);
  const files: FileMap = {};
  for (const name of Object.keys(v.manifest)) files[name] = v.read(name);
  // The verified manifest, not the file: an older read-only artifact has its checksums in memory only.
  files[MANIFEST_FILE] = Buffer.from(`${JSON.stringify(v.manifest, null, 2)}\n`);
  return files;
}

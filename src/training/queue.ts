/**
 * The persistent training queue. Every mutation re-reads the file, applies the change and writes
 * it through lowdb (steno: temp file + rename, so kill -9 leaves the old or the new file), then
 * refreshes the `.bak` copy atomically. Re-reading first lets `kilo queue add` from another
 * process land between engine writes instead of being overwritten by stale memory.
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import type { Clock } from '../clock.js';
import { writeFileAtomic } from '../util/atomic.js';
import { orderQueue, retryDelayMs } from '../policy/queue-order.js';
import { backupPath, loadQueueFile, type QueueEntry, type QueueFileData, type QueueTrigger } from './queue-store.js';
import { withFileLock } from './file-lock.js';
import { checkSymbolSyntax } from '../market/symbols.js';

export { QueueCorruptError, QUEUE_TRIGGERS, type QueueEntry, type QueueEntryState, type QueueTrigger } from './queue-store.js';

export const QUEUE_FILE_NAME = 'new_symbol_training_queue.json';
/** Finished entries kept for the history view; older ones are dropped on write. */
const KEEP_FINISHED = 200;

export class QueueEntryNotFoundError extends Error {
  constructor(readonly ref: string) {
    super(`no queue entry matches "${ref}" (give an id like q3 or a symbol like SOL/USDT)`);
    this.name = 'QueueEntryNotFoundError';
  }
}

/** markRunning on an entry that left the queue meanwhile (an operator's cancel won the race). */
export class QueueEntryNotQueuedError extends Error {
  constructor(
    readonly id: string,
    readonly state: string,
  ) {
    super(`queue entry ${id} is ${state}, not queued; not started`);
    this.name = 'QueueEntryNotQueuedError';
  }
}

export interface TrainingQueueOptions {
  file: string;
  clock: Clock;
  /** auto_training.max_attempts: after this many failures an entry fails for good. */
  maxAttempts: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Told when an entry is rejected after open() (a bad symbol written into the file while running). */
  onWarn?: (message: string) => void;
  /**
   * Put entries left `running` by a crash back to `queued`. Only the engine (the one that runs
   * trainings) should do this; the CLI looking at a live engine's queue must not.
   */
  recoverRunning?: boolean;
  /**
   * Nothing but this process writes the file (a replay's private home): next() picks from the
   * entries as this queue last wrote them instead of re-reading the file. @default false
   */
  privateFile?: boolean;
}

export interface AddOptions {
  priority?: number;
  /** What queued it. @default 'operator' */
  trigger?: QueueTrigger;
  reason?: string;
  lastTrainedAt?: number | null;
}

const ACTIVE = new Set(['queued', 'running']);
const isActive = (e: QueueEntry): boolean => ACTIVE.has(e.state);

export class TrainingQueue {
  /** Recovery notes from open() (corrupt file restored, crashed runs requeued). */
  readonly warnings: string[] = [];
  private readonly db: Low<QueueFileData>;
  private lock: Promise<unknown> = Promise.resolve();
  /** Entries already reported as rejected (warned once per process, not at every reload). */
  private readonly rejected = new Set<string>();

  private constructor(private readonly opts: TrainingQueueOptions) {
    this.db = new Low<QueueFileData>(new JSONFile<QueueFileData>(opts.file), { queued_symbols: [], queued_at: {}, entries: [], next_seq: 1 });
  }

  static async open(opts: TrainingQueueOptions): Promise<TrainingQueue> {
    const q = new TrainingQueue(opts);
    // No data/ folder yet: no file to race on, and a read-only `kilo queue` should not create one.
    const hasDir = await stat(dirname(opts.file)).then(
      () => true,
      () => false,
    );
    await (hasDir ? withFileLock(q.lockFile, () => q.load()) : q.load());
    return q;
  }

  private async load(): Promise<void> {
    const loaded = await loadQueueFile(this.opts.file, this.opts.clock.now());
    this.warnings.push(...loaded.warnings);
    this.db.data = loaded.data;
    let dirty = this.rejectBadSymbols() || loaded.dirty;
    if (this.opts.recoverRunning) {
      for (const e of this.db.data.entries.filter((x) => x.state === 'running')) {
        e.state = 'queued';
        e.started_at = null;
        // A remote job keeps running without the engine: the trainer re-attaches to it by this id.
        this.warnings.push(
          e.remote_job_id
            ? `${e.id} (${e.symbol}) was running on a remote worker when the engine stopped; re-attaching to job ${e.remote_job_id}`
            : `${e.id} (${e.symbol}) was running when the engine stopped; queued again`,
        );
        dirty = true;
      }
    }
    if (dirty) await this.persist();
  }

  /** `<file>.lock`: held by whichever process (engine or `kilo queue`) is changing the file. */
  private get lockFile(): string {
    return `${this.opts.file}.lock`;
  }

  get file(): string {
    return this.opts.file;
  }

  /** Serialise mutations inside this process; each one works on the freshest file. */
  private mutate<T>(fn: (d: QueueFileData) => T): Promise<T> {
    // The file lock makes read-modify-write atomic across processes: without it, an entry that
    // `kilo queue add` acknowledged could be overwritten by the engine's next write.
    const run = this.lock.then(async () => {
      await mkdir(dirname(this.opts.file), { recursive: true });
      return withFileLock(this.lockFile, async () => {
        await this.reloadUnlocked();
        const out = fn(this.db.data);
        await this.persist();
        return out;
      });
    });
    this.lock = run.catch(() => undefined);
    return run;
  }

  private async reloadUnlocked(): Promise<void> {
    const loaded = await loadQueueFile(this.opts.file, this.opts.clock.now());
    this.warnings.push(...loaded.warnings);
    for (const w of loaded.warnings) this.opts.onWarn?.(w);
    this.db.data = loaded.data;
    this.rejectBadSymbols();
  }

  /**
   * A symbol read from the file goes through the same check as one typed by the operator: a
   * planted `X/../../` entry once made the engine read a CSV outside csv_dir. A bad active entry
   * fails for good (never retried), named with the file and its id; true when something changed.
   */
  private rejectBadSymbols(): boolean {
    let changed = false;
    for (const e of this.db.data.entries) {
      const r = checkSymbolSyntax(e.symbol, { normalise: false });
      if (r.ok) continue;
      const what = `${this.opts.file}: entry ${e.id}: symbol ${r.reason.replace(/^expected a symbol like BTC\/USDT, got /, '')} is not a symbol like BTC/USDT; entry rejected, never retried`;
      if (!this.rejected.has(e.id)) {
        this.rejected.add(e.id);
        this.warnings.push(what);
        this.opts.onWarn?.(what);
      }
      if (isActive(e)) {
        e.state = 'failed';
        e.last_error = what;
        e.next_attempt_at = null;
        e.finished_at = this.opts.clock.now();
        changed = true;
      }
    }
    return changed;
  }

  private async persist(): Promise<void> {
    const d = this.db.data;
    const finished = d.entries.filter((e) => !isActive(e));
    if (finished.length > KEEP_FINISHED) {
      const drop = new Set(finished.slice(0, finished.length - KEEP_FINISHED).map((e) => e.id));
      d.entries = d.entries.filter((e) => !drop.has(e.id));
    }
    const active = d.entries.filter(isActive);
    d.queued_symbols = [...new Set(active.map((e) => e.symbol))];
    d.queued_at = Object.fromEntries(active.map((e) => [e.symbol, new Date(e.added_at).toISOString()]));
    // steno does not create folders; the first write may come before data/ exists.
    await mkdir(dirname(this.opts.file), { recursive: true });
    // Unique temp names (not lowdb's fixed `.<file>.tmp`, which two processes would share and rename from under each other).
    await writeFileAtomic(this.opts.file, JSON.stringify(d, null, 2));
    await writeFileAtomic(backupPath(this.opts.file), JSON.stringify(d, null, 2));
  }

  /** Re-read the file (another process may have changed it). */
  async reload(): Promise<void> {
    const run = this.lock.then(() => this.reloadUnlocked());
    this.lock = run.catch(() => undefined);
    await run;
  }

  /** Entries as last read, oldest first. */
  list(): QueueEntry[] {
    return this.db.data.entries.map((e) => ({ ...e }));
  }

  private find(d: QueueFileData, ref: string): QueueEntry[] {
    const byId = d.entries.filter((e) => e.id === ref);
    if (byId.length) return byId;
    return d.entries.filter((e) => e.symbol === ref && isActive(e));
  }

  /** Queue a symbol; an active entry for it is returned instead of a duplicate. */
  add(symbol: string, o: AddOptions = {}): Promise<{ entry: QueueEntry; added: boolean }> {
    const now = this.opts.clock.now();
    const ok = checkSymbolSyntax(symbol, { normalise: false });
    if (!ok.ok) return Promise.reject(new RangeError(`queue add: ${ok.reason}`));
    return this.mutate((d) => {
      const existing = d.entries.find((e) => e.symbol === symbol && isActive(e));
      if (existing) return { entry: { ...existing }, added: false };
      const entry: QueueEntry = {
        id: `q${d.next_seq++}`,
        symbol,
        priority: o.priority ?? 0,
        state: 'queued',
        attempts: 0,
        last_error: null,
        reason: o.reason ?? '',
        next_attempt_at: null,
        added_at: now,
        started_at: null,
        finished_at: null,
        last_trained_at: o.lastTrainedAt ?? null,
        trigger: o.trigger ?? 'operator',
      };
      d.entries.push(entry);
      return { entry: { ...entry }, added: true };
    });
  }

  /** Cancel by id, or every active entry of a symbol. Running entries are marked; the engine stops the job. */
  cancel(ref: string): Promise<QueueEntry[]> {
    const now = this.opts.clock.now();
    return this.mutate((d) => {
      const hits = this.find(d, ref).filter(isActive);
      if (hits.length === 0) throw new QueueEntryNotFoundError(ref);
      for (const e of hits) {
        e.state = 'cancelled';
        e.finished_at = now;
      }
      return hits.map((e) => ({ ...e }));
    });
  }

  /** Drop every entry that is not running; returns how many were dropped. */
  clear(): Promise<number> {
    return this.mutate((d) => {
      const before = d.entries.length;
      d.entries = d.entries.filter((e) => e.state === 'running');
      return before - d.entries.length;
    });
  }

  /** Set the priority (`{value}`) or move it (`{delta}`). */
  prioritize(ref: string, change: { value: number } | { delta: number }): Promise<QueueEntry> {
    return this.mutate((d) => {
      const e = this.find(d, ref).find(isActive);
      if (!e) throw new QueueEntryNotFoundError(ref);
      e.priority = 'value' in change ? change.value : e.priority + change.delta;
      return { ...e };
    });
  }

  /** The entry to start next, or null; reads the freshest file. */
  async next(now: number): Promise<QueueEntry | null> {
    if (!this.opts.privateFile) await this.reload();
    const first = orderQueue(this.db.data.entries, now)[0];
    return first ? { ...first } : null;
  }

  private transition(id: string, fn: (e: QueueEntry) => void): Promise<QueueEntry> {
    return this.mutate((d) => {
      const e = d.entries.find((x) => x.id === id);
      if (!e) throw new QueueEntryNotFoundError(id);
      fn(e);
      return { ...e };
    });
  }

  /** Start a queued entry. Refused (QueueEntryNotQueuedError) when it is no longer queued: a cancel
   * that landed between picking the job and starting it must not be undone by the start. */
  markRunning(id: string, now: number): Promise<QueueEntry> {
    return this.transition(id, (e) => {
      if (e.state !== 'queued') throw new QueueEntryNotQueuedError(id, e.state);
      e.state = 'running';
      e.attempts += 1;
      e.started_at = now;
      e.next_attempt_at = null;
    });
  }

  /** Record which remote (BullMQ) job runs this entry's current attempt, so a restart can re-attach. */
  setRemoteJobId(id: string, jobId: string | null): Promise<QueueEntry> {
    return this.transition(id, (e) => {
      e.remote_job_id = jobId;
    });
  }

  markDone(id: string, now: number): Promise<QueueEntry> {
    return this.transition(id, (e) => {
      e.state = 'done';
      e.finished_at = now;
      e.last_error = null;
    });
  }

  /** Retry later with exponential backoff, or fail for good after maxAttempts. */
  markFailed(id: string, error: string, now: number): Promise<QueueEntry> {
    return this.transition(id, (e) => {
      e.last_error = error;
      if (e.attempts >= this.opts.maxAttempts) {
        e.state = 'failed';
        e.finished_at = now;
        e.next_attempt_at = null;
      } else {
        e.state = 'queued';
        e.next_attempt_at = now + retryDelayMs(e.attempts, this.opts.backoffBaseMs ?? 60_000, this.opts.backoffMaxMs ?? 3_600_000);
      }
    });
  }
}

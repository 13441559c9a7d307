/**
 * A cross-process lock for read-modify-write of a shared file: the engine and `kilo queue` (another
 * process) both change the training queue, and without a lock one write silently drops the other's
 * acknowledged entry. The lock is `<file>.lock`, created with O_EXCL and holding "<pid> <token>".
 * A lock whose owner is gone (kill -9) or that is older than `staleMs` is taken over, so a crash
 * never blocks the queue. Two processes taking over the same stale lock at the same instant could
 * both win; that needs a crash first and is accepted.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rm, stat } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { ownerState, selfIdentity } from '../util/process-identity.js';

export class FileLockTimeoutError extends Error {
  constructor(
    readonly lockFile: string,
    holder: string,
  ) {
    super(`${lockFile} is held by another process (${holder || 'unknown'}); gave up waiting. Remove the file if no kilo process is running.`);
    this.name = 'FileLockTimeoutError';
  }
}

export interface FileLockOptions {
  /** Give up after this long. @default 15000 */
  timeoutMs?: number;
  /** A lock older than this is considered abandoned. @default 60000 */
  staleMs?: number;
}

async function readLock(lockFile: string): Promise<{ text: string; ageMs: number } | null> {
  try {
    const [text, st] = await Promise.all([readFile(lockFile, 'utf8'), stat(lockFile)]);
    return { text, ageMs: Date.now() - st.mtimeMs };
  } catch {
    return null; // released meanwhile
  }
}

function isStale(lock: { text: string; ageMs: number }, staleMs: number): boolean {
  const [pidText, , start, boot] = lock.text.split(' ');
  const pid = Number(pidText);
  // Empty: the owner died between creating and writing the file (or is writing it right now).
  if (!Number.isInteger(pid) || pid <= 0) return lock.ageMs > 1000;
  // The start time and boot id tell a reused pid from the owner (older locks hold only "<pid> <token>").
  const owner = { pid, start: start && start !== '-' ? Number(start) : null, boot: boot && boot !== '-' ? boot : null };
  if (pid !== process.pid && ownerState(owner) !== 'alive') return true;
  return lock.ageMs > staleMs;
}

/** Run `fn` holding `lockFile`; released afterwards even when `fn` throws. */
export async function withFileLock<T>(lockFile: string, fn: () => Promise<T>, opts: FileLockOptions = {}): Promise<T> {
  const me = selfIdentity();
  const token = `${process.pid} ${randomBytes(6).toString('hex')} ${me.start ?? '-'} ${me.boot ?? '-'}`;
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(lockFile, 'wx', 0o644);
      try {
        await fh.writeFile(token);
      } finally {
        await fh.close();
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const held = await readLock(lockFile);
      if (held && isStale(held, opts.staleMs ?? 60_000)) {
        const again = await readLock(lockFile);
        if (again?.text === held.text) await rm(lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new FileLockTimeoutError(lockFile, held?.text ?? '');
      await delay(Math.min(40, 2 + attempt * 2) * (0.5 + Math.random()));
    }
  }
  try {
    return await fn();
  } finally {
    const held = await readLock(lockFile);
    if (held?.text === token) await rm(lockFile, { force: true });
  }
}

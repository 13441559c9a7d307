/**
 * Who holds a lock: a pid alone is not enough. After a crash and a reboot (or just enough time),
 * the pid written in a lock file can belong to an unrelated process, and a pid-only liveness check
 * then blocks kilo forever ("another kilo engine (pid 9306) is running"). A lock therefore records
 * the pid, the process start time (clock ticks since boot, /proc/<pid>/stat field 22) and the boot
 * id; an owner is alive only if a process with that pid exists AND started at that time in this boot.
 * Where /proc is missing (not Linux), the check degrades to pid liveness.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

export interface ProcessIdentity {
  pid: number;
  /** Start time in clock ticks since boot; null where /proc is unavailable. */
  start: number | null;
  /** /proc/sys/kernel/random/boot_id; null where unavailable. */
  boot: string | null;
  /** What the process is, for people (e.g. "kilo run"); never its full argv (it may hold a URL with a password). */
  cmd?: string;
}

export type OwnerState = 'alive' | 'dead' | 'reused';

const read = (file: string): string | null => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
};

/** Field 22 of /proc/<pid>/stat (after the parenthesised command, which may contain spaces). */
export function processStartTicks(pid: number): number | null {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return null;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const v = Number(fields[19]);
  return Number.isFinite(v) ? v : null;
}

export const bootId = (): string | null => read('/proc/sys/kernel/random/boot_id')?.trim() || null;

/** The command name of a running pid, for messages ("bash", "node"); null when unknown. */
export const processName = (pid: number): string | null => read(`/proc/${pid}/comm`)?.trim() || null;

export function selfIdentity(): ProcessIdentity {
  const sub = process.argv.slice(2).find((a) => !a.startsWith('-'));
  return { pid: process.pid, start: processStartTicks(process.pid), boot: bootId(), cmd: `kilo${sub ? ` ${sub}` : ''}` || basename(process.argv[1] ?? 'node') };
}

const pidExists = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Is the process that wrote `id` still running? 'reused' when the pid now belongs to another process. */
export function ownerState(id: ProcessIdentity): OwnerState {
  if (!Number.isInteger(id.pid) || id.pid <= 0) return 'dead';
  if (id.boot && bootId() && id.boot !== bootId()) return pidExists(id.pid) ? 'reused' : 'dead';
  if (!pidExists(id.pid)) return 'dead';
  if (id.start !== null && id.start !== undefined) {
    const now = processStartTicks(id.pid);
    if (now !== null && now !== id.start) return 'reused';
  }
  return 'alive';
}

/**
 * Parse what a lock file holds: the JSON identity, or the older plain "<pid>" / "<pid> <token>"
 * forms (start and boot unknown: liveness by pid only, as before).
 */
export function parseIdentity(text: string): ProcessIdentity | null {
  const t = text.trim();
  if (t.startsWith('{')) {
    try {
      const o = JSON.parse(t) as Partial<ProcessIdentity>;
      if (typeof o.pid !== 'number') return null;
      return { pid: o.pid, start: typeof o.start === 'number' ? o.start : null, boot: typeof o.boot === 'string' ? o.boot : null, cmd: typeof o.cmd === 'string' ? o.cmd : undefined };
    } catch {
      return null;
    }
  }
  const pid = Number.parseInt(t.split(/\s+/)[0] ?? '', 10);
  return Number.isInteger(pid) && pid > 0 ? { pid, start: null, boot: null } : null;
}

/** "pid 9306 (kilo run)", plus what the pid is now when it was reused. */
export function describeOwner(id: ProcessIdentity, state: OwnerState = ownerState(id)): string {
  const base = `pid ${id.pid}${id.cmd ? ` (${id.cmd})` : ''}`;
  if (state === 'alive') return `${base}, running`;
  if (state === 'dead') return `${base}, no longer running`;
  return `${base}, no longer running: pid ${id.pid} now belongs to another process${processName(id.pid) ? ` (${processName(id.pid)})` : ''}`;
}

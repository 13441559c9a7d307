/**
 * One engine per home folder. Two engines on the same data/ would interleave whole-file writes of
 * the same stats and state; the second one is refused with the pid of the first. A lock left by a
 * killed engine (pid no longer alive) is taken over, and only then are temp files of the writes
 * that kill interrupted swept away (nobody else can be writing them).
 */
import { open, readFile, readdir, rm, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileOpError } from '../util/atomic.js';
import { describeOwner, ownerState, parseIdentity, selfIdentity, type OwnerState, type ProcessIdentity } from '../util/process-identity.js';

export class EngineRunningError extends Error {
  constructor(
    readonly lockFile: string,
    readonly pid: number,
  ) {
    super(`another kilo engine (pid ${pid}) is running on this home (${lockFile}); stop it first, or use another --home`);
    this.name = 'EngineRunningError';
  }
}

export const engineLockPath = (home: string): string => join(home, 'data', 'engine.lock');

/** Who holds the engine lock of `home` and whether they still run (null: no lock file). */
export async function readEngineLock(home: string): Promise<{ file: string; owner: ProcessIdentity | null; state: OwnerState; text: string } | null> {
  const file = engineLockPath(home);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return null;
  }
  const owner = parseIdentity(text);
  return { file, owner, state: owner ? ownerState(owner) : 'dead', text };
}

export { describeOwner };

export interface HomeLock {
  release(): Promise<void>;
  /** Temp files removed at takeover (writes interrupted by a crash). */
  swept: string[];
}

export async function lockHome(home: string): Promise<HomeLock> {
  const dataDir = join(home, 'data');
  await mkdir(dataDir, { recursive: true });
  const file = engineLockPath(home);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(file, 'wx');
      await fh.writeFile(`${JSON.stringify({ ...selfIdentity(), at: new Date().toISOString() })}\n`);
      await fh.close();
      const swept = await sweepTemps(home);
      return { swept, release: () => rm(file, { force: true }) };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw fileOpError('take the engine lock', file, err);
      const lock = await readEngineLock(home);
      // A pid alone is not proof: after a reboot or pid wrap it may be an unrelated process.
      if (lock?.owner && lock.owner.pid !== process.pid && lock.state === 'alive') throw new EngineRunningError(file, lock.owner.pid);
      await rm(file, { force: true }); // its owner is gone: take over
    }
  }
  throw new Error(`${file}: could not take the engine lock`);
}

/** Leftovers of interrupted writes: data/**\/.kilo-tmp-* files and models/.tmp-* folders. */
async function sweepTemps(home: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.name.startsWith('.kilo-tmp-') || (e.name.endsWith('.tmp') && e.isFile())) {
        await rm(p, { recursive: true, force: true });
        out.push(p);
      } else if (e.isDirectory() && depth > 0) await walk(p, depth - 1);
    }
  };
  await walk(join(home, 'data'), 3);
  for (const e of await readdir(join(home, 'models'), { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory() && e.name.startsWith('.tmp-')) {
      await rm(join(home, 'models', e.name), { recursive: true, force: true });
      out.push(join(home, 'models', e.name));
    }
  }
  return out;
}

/**
 * One engine per home folder. Two engines on the same data/ would interleave whole-file writes of
 * the same stats and state; the second one is refused with the pid of the first. A lock left by a
 * killed engine (pid no longer alive) is taken over, and only then are temp files of the writes
 * that kill interrupted swept away (nobody else can be writing them).
 */
import { open, readFile, readdir, rm, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { alive } from '../training/file-lock.js';

export class EngineRunningError extends Error {
  constructor(
    readonly lockFile: string,
    readonly pid: number,
  ) {
    super(`another kilo engine (pid ${pid}) is running on this home (${lockFile}); stop it first, or use another --home`);
    this.name = 'EngineRunningError';
  }
}

export interface HomeLock {
  release(): Promise<void>;
  /** Temp files removed at takeover (writes interrupted by a crash). */
  swept: string[];
}

export async function lockHome(home: string): Promise<HomeLock> {
  const dataDir = join(home, 'data');
  await mkdir(dataDir, { recursive: true });
  const file = join(dataDir, 'engine.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(file, 'wx');
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      const swept = await sweepTemps(home);
      return { swept, release: () => rm(file, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number.parseInt((await readFile(file, 'utf8').catch(() => '')).trim(), 10);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) throw new EngineRunningError(file, pid);
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

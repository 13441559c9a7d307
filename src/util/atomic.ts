import { mkdirSync, openSync, writeSync, fsyncSync, closeSync, renameSync, rmSync } from 'node:fs';
import { access, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Every file the engine writes goes through here: write a temp name in the same folder, fsync,
 * rename over the target. A reader (or a restart after kill -9) sees the old file or the new
 * one, never half of either.
 */
export const tempName = (target: string): string =>
  join(dirname(target), `.kilo-tmp-${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}`);

export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const tmp = tempName(target);
  try {
    const fh = await open(tmp, 'w', 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export function writeFileAtomicSync(target: string, data: string | Uint8Array): void {
  mkdirSync(dirname(target), { recursive: true });
  const tmp = tempName(target);
  try {
    const fd = openSync(tmp, 'w', 0o644);
    try {
      writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

export const writeJsonAtomic = (target: string, value: unknown): Promise<void> =>
  writeFileAtomic(target, `${JSON.stringify(value, null, 2)}\n`);

/**
 * A free name to keep a corrupt file under: `<file>.corrupt-<ISO time>` (with -2, -3... when that
 * exists), so a second recovery never overwrites the evidence of the first.
 */
export async function corruptAsideName(file: string, nowMs = Date.now()): Promise<string> {
  const base = `${file}.corrupt-${new Date(nowMs).toISOString().replace(/[:.]/g, '-')}`;
  for (let i = 1; ; i++) {
    const name = i === 1 ? base : `${base}-${i}`;
    try {
      await access(name);
    } catch {
      return name;
    }
  }
}

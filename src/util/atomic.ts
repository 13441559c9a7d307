import { mkdirSync, openSync, writeSync, fsyncSync, closeSync, renameSync, rmSync } from 'node:fs';
import { access, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Every file the engine writes goes through here: write a temp name in the same folder, fsync,
 * rename over the target. A reader (or a restart after kill -9) sees the old file or the new
 * one, never half of either.
 */
/**
 * A file-system failure that names the file and what was being done to it. A bare Node error on
 * a full disk reads `ENOSPC: no space left on device, write` and names nothing; an operator needs
 * `write data/performance.json: ENOSPC ...` to know which disk and which file.
 */
export class FileOpError extends Error {
  readonly code: string | undefined;
  constructor(
    readonly op: string,
    readonly path: string,
    override readonly cause: unknown,
  ) {
    const e = cause as NodeJS.ErrnoException;
    super(`${op} ${path} failed: ${e?.code ? `${e.code}: ` : ''}${(e?.message ?? String(cause)).replace(/^[A-Z]+: /, '')}`);
    this.name = 'FileOpError';
    this.code = e?.code;
  }
}

/** Wrap an fs error so it names `op` and `path` (an error that already does is passed through). */
export const fileOpError = (op: string, path: string, err: unknown): Error => (err instanceof FileOpError ? err : new FileOpError(op, path, err));

export const tempName = (target: string): string =>
  join(dirname(target), `.kilo-tmp-${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}`);

export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(target), { recursive: true }).catch((err) => {
    throw fileOpError('create folder for', target, err);
  });
  const tmp = tempName(target);
  let op = 'write';
  try {
    const fh = await open(tmp, 'w', 0o644);
    try {
      await fh.writeFile(data);
      op = 'fsync';
      await fh.sync();
    } finally {
      await fh.close();
    }
    op = 'rename into place';
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw fileOpError(op, target, err);
  }
}

export function writeFileAtomicSync(target: string, data: string | Uint8Array): void {
  let op = 'create folder for';
  const tmp = tempName(target);
  try {
    mkdirSync(dirname(target), { recursive: true });
    op = 'write';
    const fd = openSync(tmp, 'w', 0o644);
    try {
      writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
      op = 'fsync';
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    op = 'rename into place';
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw fileOpError(op, target, err);
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

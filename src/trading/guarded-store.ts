/**
 * A lowdb JSON file with a last-good copy. After every successful write the same data is written
 * (atomically) to `<file>.bak`. On open, a file that does not parse or does not pass validation
 * is recovered from the .bak with a warning (the bad file is kept as `<file>.corrupt-<time>`, one per recovery), never
 * silently emptied; when both are bad, opening fails naming the file and nothing is overwritten.
 */
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { corruptAsideName, writeJsonAtomic } from '../util/atomic.js';

export class StoreCorruptError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`${file} is corrupt and could not be recovered: ${detail}`);
    this.name = 'StoreCorruptError';
  }
}

export interface GuardedStoreOptions<T> {
  /** Fresh contents when neither the file nor its .bak exists. */
  defaults: () => T;
  /** Validate and normalise what was read; throw (with the offending key) when it is wrong. */
  parse: (raw: unknown) => T;
  /** Receives the recovery warning text. */
  onWarn?: (message: string) => void;
}

export class GuardedStore<T> {
  private chain: Promise<void> = Promise.resolve();

  private constructor(
    readonly file: string,
    private readonly db: Low<T>,
  ) {}

  get data(): T {
    return this.db.data;
  }
  set data(value: T) {
    this.db.data = value;
  }

  static async open<T>(file: string, opts: GuardedStoreOptions<T>): Promise<GuardedStore<T>> {
    const bak = `${file}.bak`;
    await mkdir(dirname(file), { recursive: true });
    // Explicit adapter: lowdb's presets switch to memory under NODE_ENV=test.
    const db = new Low<T>(new JSONFile<T>(file), opts.defaults());
    const store = new GuardedStore(file, db);
    let mainError: string | null = null;
    const text = await readIfExists(file);
    if (text !== null) {
      try {
        db.data = opts.parse(JSON.parse(text));
        return store;
      } catch (err) {
        mainError = err instanceof Error ? err.message : String(err);
      }
    }
    const bakText = await readIfExists(bak);
    if (bakText === null) {
      if (mainError !== null) throw new StoreCorruptError(file, `${mainError} (no ${bak} to recover from)`);
      db.data = opts.defaults();
      return store;
    }
    try {
      db.data = opts.parse(JSON.parse(bakText));
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new StoreCorruptError(file, `${mainError ?? 'file missing'}; ${bak} is also bad: ${detail}`);
    }
    let aside = '';
    if (mainError !== null) {
      aside = await corruptAsideName(file);
      await copyFile(file, aside);
    }
    opts.onWarn?.(
      mainError !== null
        ? `${file} was corrupt (${mainError}); recovered the last good copy from ${bak}, bad file kept as ${aside}`
        : `${file} was missing; recovered the last good copy from ${bak}`,
    );
    await store.write();
    return store;
  }

  /** Write the file, then its .bak; writes are serialised so the .bak always trails a complete file. */
  write(): Promise<void> {
    const snapshot = structuredClone(this.db.data);
    const next = this.chain.then(async () => {
      // Not lowdb's adapter: it renames without fsync, so a power cut could leave an empty file.
      await writeJsonAtomic(this.file, snapshot);
      await writeJsonAtomic(`${this.file}.bak`, snapshot);
    });
    this.chain = next.catch(() => undefined);
    return next;
  }
}

async function readIfExists(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * data/serving.json {symbol: version}: which version the promotion gate put in service per symbol.
 * Kept like the other state files (src/trading/guarded-store.ts): temp + fsync + rename, a `.bak`
 * after every write, a corrupt file recovered from the .bak with a warning and kept under a
 * timestamped name. When both copies are lost, the map is rebuilt from data/promotions.json (every
 * gate decision, in order: the last one per symbol says what it serves) with a warning.
 * Several processes write it (the engine, `kilo train`, `kilo models --rollback`): every change is
 * a read-modify-write under `<file>.lock`.
 */
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { corruptAsideName, writeJsonAtomic } from '../util/atomic.js';
import { GuardedStore, StoreCorruptError } from '../trading/guarded-store.js';
import { withFileLock } from '../training/file-lock.js';
import { parseVersion } from './version.js';
import { checkSymbolSyntax } from '../market/symbols.js';

export type ServingMap = Record<string, string>;

export class ServingFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'ServingFileError';
  }
}

export interface ServingStoreOptions {
  /** data/promotions.json: the record of decisions to rebuild from when serving.json and its .bak are lost. */
  promotionsFile?: string;
  onWarn?: (message: string) => void;
  /** The writer has never seen a serving map (a fresh home's first promotion): a missing file is
   * not a loss then, even though the decision being applied is already in promotions.json. */
  freshIfMissing?: boolean;
}

/** Bad entries already reported, per file: the map is read every refresh, the warning is said once. */
const reportedBad = new Set<string>();

/**
 * A symbol key goes through the same check as one typed by the operator (issue 17 item 4): a bad
 * one is dropped with the file and entry named (once per process) and is gone at the next write.
 */
export function parseServingMap(file: string, raw: unknown, onWarn?: (message: string) => void): ServingMap {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ServingFileError(file, 'expected an object {symbol: version}');
  const out: ServingMap = {};
  for (const [symbol, v] of Object.entries(raw)) {
    const ok = checkSymbolSyntax(symbol, { normalise: false });
    if (!ok.ok) {
      const key = `${file}\0${symbol}`;
      if (!reportedBad.has(key) && reportedBad.add(key)) onWarn?.(`${file}: entry ${JSON.stringify(symbol.slice(0, 60))}: ${ok.reason}; entry rejected, never served`);
      continue;
    }
    if (typeof v !== 'string' || !parseVersion(v)) throw new ServingFileError(file, `"${symbol}" should map to a version like "1.0", got ${JSON.stringify(v)}`);
    out[symbol] = v;
  }
  return out;
}

/**
 * A decision as data/promotions.json records it (only the fields serving depends on). Older files
 * say `promoted: boolean` and "-" for no challenger; newer ones a typed `kind` and null.
 */
interface RecordedDecision {
  symbol: string;
  kind?: string;
  promoted?: boolean;
  championVersion: string | null;
  challengerVersion: string | null;
}

/**
 * What each symbol serves after the decisions, applied in order: the challenger when it was put in
 * service (promoted, or a rollback to it), else the champion it kept (the engine writes exactly
 * this to serving.json after each decision).
 */
export function servingFromDecisions(decisions: readonly RecordedDecision[]): ServingMap {
  const out: ServingMap = {};
  for (const d of decisions) {
    const putInService = d.kind !== undefined ? d.kind === 'promoted' || d.kind === 'rollback' : d.promoted === true;
    const v = putInService ? d.challengerVersion : d.championVersion;
    if (v && parseVersion(v) && checkSymbolSyntax(d.symbol, { normalise: false }).ok) out[d.symbol] = v;
  }
  return out;
}

/** Decisions from promotions.json, else its .bak; null when neither can be read. Never writes. */
async function readDecisions(file: string): Promise<{ decisions: RecordedDecision[]; from: string } | null> {
  for (const f of [file, `${file}.bak`]) {
    try {
      const raw = JSON.parse(await readFile(f, 'utf8')) as { decisions?: unknown };
      if (!Array.isArray(raw.decisions)) continue;
      const decisions = raw.decisions.filter(
        (d): d is RecordedDecision =>
          typeof d === 'object' && d !== null && typeof d.symbol === 'string' && (typeof d.kind === 'string' || typeof d.promoted === 'boolean'),
      );
      return { decisions, from: f };
    } catch {
      // missing or unreadable: try the next copy
    }
  }
  return null;
}

/**
 * The store, recovered or rebuilt as the header says; null when there is nothing on disk and
 * nothing to rebuild from (a fresh home: reading must not create files).
 */
async function openStore(file: string, opts: ServingStoreOptions): Promise<GuardedStore<ServingMap> | null> {
  const open = (): Promise<GuardedStore<ServingMap>> =>
    GuardedStore.open<ServingMap>(file, { defaults: () => ({}), parse: (raw) => parseServingMap(file, raw, opts.onWarn), onWarn: opts.onWarn });
  const exists = async (f: string): Promise<boolean> => (await readFile(f).catch(() => null)) !== null;
  const missing = !(await exists(file)) && !(await exists(`${file}.bak`));
  if (missing && opts.freshIfMissing) return null;
  let corrupt: StoreCorruptError | null = null;
  if (!missing) {
    try {
      return await open();
    } catch (err) {
      if (!(err instanceof StoreCorruptError)) throw err;
      corrupt = err;
    }
  }
  const rec = opts.promotionsFile ? await readDecisions(opts.promotionsFile) : null;
  // No copy and no decision recorded: a fresh install, not a loss.
  if (missing && (!rec || rec.decisions.length === 0)) return null;
  // Nothing to rebuild from: leave the files as they are for the operator (like any guarded store).
  if (corrupt && !rec) {
    throw new ServingFileError(file, `${corrupt.detail}; nothing to rebuild it from (${opts.promotionsFile ? `${opts.promotionsFile} cannot be read` : 'no promotions file'})`);
  }
  const map = servingFromDecisions(rec!.decisions);
  // Keep the bad copies for the operator before the rebuilt map replaces them.
  const kept: string[] = [];
  for (const f of [file, `${file}.bak`]) {
    const aside = await corruptAsideName(f);
    if (await copyFile(f, aside).then(() => true, () => false)) kept.push(aside);
  }
  await writeJsonAtomic(file, map);
  await writeJsonAtomic(`${file}.bak`, map);
  const what = missing ? `${file} and its .bak are missing` : `${file} and its .bak are both unreadable`;
  const listed = Object.entries(map).map(([s, v]) => `${s} ${v}`).join(', ') || 'none';
  const keptText = kept.length ? `; bad copies kept as ${kept.join(', ')}` : '';
  opts.onWarn?.(`${what}; rebuilt serving from ${rec!.from} (the last gate decision per symbol: ${listed})${keptText}`);
  return open();
}

/** The serving map; recovers (and warns) as the header says. Throws ServingFileError only without a promotions file to rebuild from. */
export async function readServingMap(file: string, opts: ServingStoreOptions = {}): Promise<ServingMap> {
  return { ...((await openStore(file, opts))?.data ?? {}) };
}

/** Change the map under the cross-process lock; returns the map as written. */
export async function updateServingMap(file: string, change: (map: ServingMap) => void, opts: ServingStoreOptions = {}): Promise<ServingMap> {
  await mkdir(dirname(file), { recursive: true });
  return withFileLock(`${file}.lock`, async () => {
    const store =
      (await openStore(file, opts)) ??
      (await GuardedStore.open<ServingMap>(file, { defaults: () => ({}), parse: (raw) => parseServingMap(file, raw, opts.onWarn), onWarn: opts.onWarn }));
    const next = { ...store.data };
    change(next);
    store.data = Object.fromEntries(Object.entries(next).sort(([a], [b]) => a.localeCompare(b)));
    await store.write();
    return { ...store.data };
  });
}

/** Replace the whole map (under the same lock). */
export async function writeServingMap(file: string, map: ServingMap, opts: ServingStoreOptions = {}): Promise<void> {
  await updateServingMap(
    file,
    (m) => {
      for (const k of Object.keys(m)) delete m[k];
      Object.assign(m, map);
    },
    opts,
  );
}

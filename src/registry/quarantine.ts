/**
 * models/.quarantine/: artifact folders whose bytes no longer match their manifest (a flipped byte,
 * a zeroed checksum, a missing file). They are moved here whole, never deleted, so an operator can
 * inspect them; a note `<name>.json` beside each says what was wrong and where it came from.
 * Discovery never looks here (not a version folder), and the names keep the version "used", so a
 * later training never reuses it.
 */
import { mkdir, readdir, readFile, rename } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ArtifactCorruptError } from '../models/artifact-errors.js';
import { writeJsonAtomic } from '../util/atomic.js';
import type { DiscoveredArtifact } from './discover.js';
import { parseVersion } from './version.js';

export const QUARANTINE_DIR = '.quarantine';

export interface QuarantineNote {
  version: string;
  key: string;
  symbols: string[];
  reason: string;
  /** ISO time of the move. */
  at: string;
  /** Where it was, relative to models/. */
  from: string;
  /** Where it is now, relative to the home (models/.quarantine/...). */
  movedTo: string;
}

/** True for damage to the bytes on disk (as opposed to intact files this build cannot use). */
export const isIntegrityError = (err: unknown): boolean => err instanceof ArtifactCorruptError && err.integrity;

export type MoveResult = { ok: true; path: string } | { ok: false; gone: boolean; error: string };

export async function moveToQuarantine(modelsDir: string, a: DiscoveredArtifact, reason: string, nowMs: number): Promise<MoveResult> {
  const root = join(modelsDir, QUARANTINE_DIR);
  const stamp = new Date(nowMs).toISOString().replace(/[:.]/g, '-');
  let name = `v${a.version}-${a.key}-${stamp}`;
  try {
    await mkdir(root, { recursive: true });
    const taken = new Set(await readdir(root));
    for (let i = 2; taken.has(name); i++) name = `v${a.version}-${a.key}-${stamp}-${i}`;
    await rename(a.dir, join(root, name));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Another process (kilo signal, a second engine) moved it first.
    return { ok: false, gone: code === 'ENOENT', error: code ?? (err as Error).message };
  }
  const movedTo = join('models', QUARANTINE_DIR, name);
  const note: QuarantineNote = { version: a.version, key: a.key, symbols: a.servesSymbols, reason, at: new Date(nowMs).toISOString(), from: relative(modelsDir, a.dir), movedTo };
  // The folder is already out of service; a note that cannot be written only loses the reason.
  await writeJsonAtomic(join(root, `${name}.json`), note).catch(() => undefined);
  return { ok: true, path: movedTo };
}

/** The notes in models/.quarantine, keyed "version/key" (the newest note wins). */
export async function readQuarantine(modelsDir: string): Promise<Map<string, QuarantineNote>> {
  const out = new Map<string, QuarantineNote>();
  const root = join(modelsDir, QUARANTINE_DIR);
  let names: string[];
  try {
    names = (await readdir(root)).filter((n) => n.endsWith('.json') && !n.startsWith('.'));
  } catch {
    return out;
  }
  for (const n of names.sort()) {
    try {
      const note = JSON.parse(await readFile(join(root, n), 'utf8')) as QuarantineNote;
      if (typeof note.version !== 'string' || !parseVersion(note.version) || typeof note.key !== 'string' || !Array.isArray(note.symbols)) continue;
      out.set(`${note.version}/${note.key}`, { ...note, reason: String(note.reason ?? ''), movedTo: String(note.movedTo ?? join('models', QUARANTINE_DIR, n.slice(0, -5))) });
    } catch {
      // A torn or foreign note is not worth failing discovery over.
    }
  }
  return out;
}

/**
 * Storage cleanup. A version folder is removed only when it is BOTH older than maxAgeDays and
 * outside the keepTopN most used versions, and it is never serving a symbol, pinned or selected.
 * Removal renames the folder to `.tmp-delete-*` first so discovery ignores it while it is deleted.
 */
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DiscoveredVersion } from './discover.js';
import { compareVersions } from './version.js';
import { DAY_MS } from '../policy/selection.js';

export interface CleanupInput {
  modelsDir: string;
  versions: readonly DiscoveredVersion[];
  /** Prediction counts per version, from the engine; missing versions count 0. */
  usage: Record<string, number>;
  /** Versions that must stay: serving (any symbol), pinned, selected. */
  protect: { version: string; why: string }[];
  maxAgeDays: number;
  keepTopN: number;
  now: number;
  dryRun?: boolean;
}

export interface CleanupItem {
  version: string;
  bytes: number;
  reason: string;
}

export interface CleanupReport {
  removed: CleanupItem[];
  kept: CleanupItem[];
  freedBytes: number;
}

/** Age of a version: its newest training end, else created_at, else the folder's mtime. */
async function versionTime(v: DiscoveredVersion): Promise<number> {
  const times = v.artifacts
    .map((a) => a.metadata?.training_end_timestamp ?? (a.metadata?.created_at ? Date.parse(a.metadata.created_at) : NaN))
    .filter((t): t is number => typeof t === 'number' && Number.isFinite(t));
  if (times.length) return Math.max(...times);
  return (await stat(v.dir)).mtimeMs;
}

export async function cleanupModels(input: CleanupInput): Promise<CleanupReport> {
  const protectedBy = new Map(input.protect.map((p) => [p.version, p.why]));
  const top = new Set(
    [...input.versions]
      .sort((a, b) => (input.usage[b.version] ?? 0) - (input.usage[a.version] ?? 0) || compareVersions(b.version, a.version))
      .slice(0, input.keepTopN)
      .map((v) => v.version),
  );
  const report: CleanupReport = { removed: [], kept: [], freedBytes: 0 };
  for (const v of input.versions) {
    const bytes = v.sizeBytes;
    const ageDays = Math.floor((input.now - (await versionTime(v))) / DAY_MS);
    const guard = protectedBy.get(v.version);
    if (guard) report.kept.push({ version: v.version, bytes, reason: guard });
    else if (top.has(v.version)) report.kept.push({ version: v.version, bytes, reason: `among the ${input.keepTopN} most used (${input.usage[v.version] ?? 0} uses; ties keep the newer)` });
    else if (ageDays <= input.maxAgeDays) report.kept.push({ version: v.version, bytes, reason: `${ageDays} days old <= ${input.maxAgeDays}` });
    else {
      if (!input.dryRun) {
        const doomed = join(input.modelsDir, `.tmp-delete-v${v.version}-${input.now}`);
        await rename(v.dir, doomed);
        await rm(doomed, { recursive: true, force: true });
      }
      report.removed.push({ version: v.version, bytes, reason: `${ageDays} days old > ${input.maxAgeDays} and ${input.usage[v.version] ?? 0} uses (not in top ${input.keepTopN})` });
      report.freedBytes += bytes;
    }
  }
  return report;
}

/**
 * Total bytes of every file under modelsDir (including in-progress writes: they use disk too).
 * A worker renames its `.tmp-*` folder into place at any moment, so an entry that vanished between
 * readdir and stat is skipped (it is counted under its new name or not at all), never an error.
 */
export async function modelsDirSizeBytes(modelsDir: string): Promise<number> {
  const gone = (err: unknown): boolean => (err as NodeJS.ErrnoException).code === 'ENOENT';
  let total = 0;
  let ents;
  try {
    ents = await readdir(modelsDir, { withFileTypes: true });
  } catch (err) {
    if (gone(err)) return 0;
    throw err;
  }
  for (const e of ents) {
    const p = join(modelsDir, e.name);
    if (e.isDirectory()) total += await modelsDirSizeBytes(p);
    else if (e.isFile()) {
      try {
        total += (await stat(p)).size;
      } catch (err) {
        if (!gone(err)) throw err;
      }
    }
  }
  return total;
}

/** Versions cleanup must keep: every version serving a symbol, the pinned one and the selected one. */
export function protectedVersions(serving: Record<string, string>, pinned: string | null, selected: string | null): { version: string; why: string }[] {
  const out = new Map<string, string[]>();
  const add = (v: string, why: string): void => void out.set(v, [...(out.get(v) ?? []), why]);
  for (const [symbol, v] of Object.entries(serving)) add(v, `serving ${symbol}`);
  if (pinned) add(pinned, 'pinned');
  if (selected) add(selected, 'selected');
  return [...out].map(([version, why]) => ({ version, why: why.join(', ') }));
}

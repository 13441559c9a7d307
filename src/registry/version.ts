/** Model versions are "<major>.<minor>" and live in folders named v<major>.<minor>. */
export interface ParsedVersion {
  major: number;
  minor: number;
}

const VERSION_RE = /^(\d+)\.(\d+)$/;

export function parseVersion(v: string): ParsedVersion | null {
  const m = VERSION_RE.exec(v);
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : null;
}

/** Ascending order; unparsable versions sort first so they never win a "newest" pick. */
export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  if (!pa || !pb) return (pa ? 1 : 0) - (pb ? 1 : 0) || a.localeCompare(b);
  return pa.major - pb.major || pa.minor - pb.minor;
}

/** "1.0" -> "1.1": trainings add minor versions; majors are bumped by hand. */
export function bumpMinor(v: string): string {
  const p = parseVersion(v);
  if (!p) throw new Error(`not a model version: "${v}" (expected like "1.0")`);
  return `${p.major}.${p.minor + 1}`;
}

export const versionFolderName = (v: string): string => `v${v}`;

/** "v1.2" -> "1.2"; null for folders that are not version folders. */
export function versionFromFolder(name: string): string | null {
  if (!name.startsWith('v')) return null;
  const v = name.slice(1);
  return parseVersion(v) ? v : null;
}

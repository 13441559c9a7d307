import type { CheckResult } from './types.js';

const MARK = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' } as const;

/** Plain text for terminals and logs: one line per check, the fix indented under it. */
export function formatReport(checks: readonly CheckResult[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  const lines: string[] = [];
  for (const c of checks) {
    lines.push(`${MARK[c.status]}  ${c.name.padEnd(width)}  ${c.detail.split('\n').join(`\n${' '.repeat(width + 8)}`)}`);
    if (c.fix && c.status !== 'ok') lines.push(`${' '.repeat(width + 8)}fix: ${c.fix}`);
  }
  const fails = checks.filter((c) => c.status === 'fail').length;
  const warns = checks.filter((c) => c.status === 'warn').length;
  lines.push('', fails ? `${fails} check(s) failed, ${warns} warning(s)` : `all checks passed (${warns} warning(s))`);
  return lines.join('\n');
}

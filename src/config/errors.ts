import { basename } from 'node:path';

/** One thing wrong with a config file: the dotted key, the 1-based line (when known) and why. */
export interface ConfigProblem {
  path: string;
  line: number | null;
  message: string;
}

export class ConfigNotFoundError extends Error {
  constructor(readonly file: string) {
    super(`config file not found: ${file} (create one with \`kilo setup\`)`);
    this.name = 'ConfigNotFoundError';
  }
}

/** Every problem of a file at once, so the operator fixes them in one pass. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(problems.map((p) => formatProblem(file, p)).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatProblem(file: string, p: ConfigProblem): string {
  const where = p.line === null ? basename(file) : `${basename(file)}:${p.line}`;
  return p.path ? `${where}: ${p.path}: ${p.message}` : `${where}: ${p.message}`;
}

import { resolve } from 'node:path';
import type { Command } from 'commander';

/** Global options every subcommand shares: where the config and state live. */
export interface GlobalOptions {
  home: string;
  configPath: string;
}

export function globalOptions(cmd: Command): GlobalOptions {
  let root: Command = cmd;
  while (root.parent) root = root.parent;
  const o = root.opts<{ home: string; config: string }>();
  const home = resolve(o.home ?? process.cwd());
  return { home, configPath: resolve(home, o.config ?? 'config.yaml') };
}

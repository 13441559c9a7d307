import { useCallback } from 'react';
import type { CommandResult } from '../../src/engine-api.js';

export type Report = (r: CommandResult) => void;

/** Runs an engine command and reports its result (or its rejection, normalised) to the status line. */
export function useRunCommand(report: Report): (fn: () => Promise<CommandResult>) => void {
  return useCallback(
    (fn) => {
      let p: Promise<CommandResult>;
      try {
        p = fn();
      } catch (err) {
        p = Promise.reject(err);
      }
      p.then(report, (err: unknown) => report({ ok: false, message: err instanceof Error ? err.message : String(err) }));
    },
    [report],
  );
}

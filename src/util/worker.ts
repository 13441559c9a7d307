import { Worker, type WorkerOptions } from 'node:worker_threads';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { readFileSync, readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * Start a worker from a module URL whether we run from TypeScript sources (tsx, vitest) or from
 * the tsc build. tsx's loader does not reach a worker's entry file, so for a .ts entry we start a
 * tiny eval'd bootstrap that registers tsx and then imports the entry (see ../shared/STACK.md).
 */
export function startWorker(entry: URL, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  if (entry.pathname.endsWith('.ts')) {
    const tsxApi = tsxEsmApiUrl();
    const boot = `
      const { register } = await import(${JSON.stringify(tsxApi)});
      register();
      await import(${JSON.stringify(entry.href)});
    `;
    return new Worker(`import(${JSON.stringify('data:text/javascript,' + encodeURIComponent(boot))})`, {
      ...options,
      eval: true,
    });
  }
  return new Worker(fileURLToPath(entry), options);
}

/** The entry next to `caller` with the caller's extension (.ts under tsx/vitest, .js after tsc). */
export function siblingEntry(callerUrl: string, baseName: string): URL {
  const ext = callerUrl.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./${baseName}${ext}`, callerUrl);
}

/** tsx's ESM register API as an absolute URL (a data: URL bootstrap cannot resolve bare names). */
function tsxEsmApiUrl(): string {
  const require = createRequire(import.meta.url);
  const pkgJson = require.resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgJson, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  return pathToFileURL(join(dirname(pkgJson), pkg.exports['./esm/api'].import.default)).href;
}

/**
 * Training may use every core; the console must not stutter. On Linux a thread has its own nice
 * value: raise this worker thread's (never needs privileges) so the main thread wins the CPU.
 */
export function lowerThreadPriority(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, 10);
  } catch {
    // Not Linux or /proc unavailable: run at normal priority.
  }
}

/**
 * Process-wide behaviour of a long-running kilo process. The tfjs WebAssembly backend (emscripten)
 * installs an 'uncaughtException' handler that rethrows, which turns any stray error - a closed
 * stdout included - into exit 7 and a dump of its minified source. Here:
 *  - stdout's reader going away (EPIPE, `kilo run --headless | head -1`) is reported once to the
 *    caller, which stops the engine cleanly and exits 0;
 *  - 'uncaughtException' handlers added by libraries are removed as they are added, and ours prints
 *    one line (the stack only with KILO_DEBUG) and exits 1.
 */
export interface ProcessGuard {
  dispose(): void;
}

const closedStream = (err: NodeJS.ErrnoException): boolean => err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED' || err.code === 'ECONNRESET';

export function guardProcess(o: { onStdoutClosed: () => void }): ProcessGuard {
  let closed = false;
  const stdoutClosed = (): void => {
    if (closed) return;
    closed = true;
    o.onStdoutClosed();
  };
  const onStdoutError = (err: NodeJS.ErrnoException): void => {
    if (closedStream(err)) stdoutClosed();
    else process.stderr.write(`kilo: stdout: ${err.message}\n`);
  };
  const onUncaught = (err: unknown): void => {
    const e = err as NodeJS.ErrnoException;
    if (e && closedStream(e) && e.syscall === 'write') return stdoutClosed();
    process.stderr.write(`kilo: ${e instanceof Error ? e.message : String(err)}\n`);
    if (process.env.KILO_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    process.exit(1);
  };
  const strip = (): void => {
    for (const l of process.listeners('uncaughtException')) if (l !== onUncaught) process.off('uncaughtException', l);
  };
  const onNewListener = (event: string | symbol): void => {
    // Called before the listener is added: remove it right after.
    if (event === 'uncaughtException') queueMicrotask(strip);
  };
  process.stdout.on('error', onStdoutError);
  strip();
  process.on('uncaughtException', onUncaught);
  process.on('newListener', onNewListener);
  return {
    dispose() {
      process.off('newListener', onNewListener);
      process.off('uncaughtException', onUncaught);
      // A write racing the end of the run may still fail: keep swallowing a closed stdout.
      if (!closed) process.stdout.off('error', onStdoutError);
    },
  };
}

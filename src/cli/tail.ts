/** The last lines of a (possibly large, rotating) log file, and following what is appended to it. */
import { open, stat } from 'node:fs/promises';

const CHUNK = 64 * 1024;

/** The last `n` lines, read backwards in chunks (a 5 MB log is not read whole), and the size read up to. */
export async function tailFile(file: string, n: number): Promise<{ text: string[]; size: number }> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { text: [], size: 0 };
    throw err;
  }
  try {
    const { size } = await fh.stat();
    let pos = size;
    let text = '';
    while (pos > 0 && text.split('\n').length <= n + 1) {
      const len = Math.min(CHUNK, pos);
      pos -= len;
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, pos);
      text = buf.toString('utf8') + text;
    }
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    return { text: lines.slice(-n), size };
  } finally {
    await fh.close();
  }
}

/**
 * Print every line appended after `from` until Ctrl+C. A file that shrank was rotated (the logger
 * renamed it to .1 and began a new one): read the new one from its start.
 */
export async function followFile(file: string, from: number, onLine: (line: string) => unknown, pollMs = 500): Promise<void> {
  let pos = from;
  let partial = '';
  let stop = false;
  process.once('SIGINT', () => (stop = true));
  while (!stop) {
    const size = await stat(file).then(
      (s) => s.size,
      () => 0,
    );
    if (size < pos) pos = 0;
    if (size > pos) {
      const fh = await open(file, 'r');
      try {
        const buf = Buffer.alloc(size - pos);
        await fh.read(buf, 0, buf.length, pos);
        pos = size;
        const lines = (partial + buf.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) onLine(l);
      } finally {
        await fh.close();
      }
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

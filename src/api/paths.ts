/**
 * Where the control API of the engine running on a home listens: a Unix domain socket,
 * <home>/data/kilo.sock, mode 0600. A socket path is limited to ~107 bytes by the kernel; a home
 * deeper than that gets its socket under the temp folder in a 0700 directory of this user, at a name
 * derived from the home, so the engine and its clients find the same one without asking anybody.
 */
import { createHash } from 'node:crypto';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';

const MAX_SOCKET_PATH = 100;

export function apiSocketPath(home: string): string {
  const abs = resolve(home);
  const inHome = join(abs, 'data', 'kilo.sock');
  if (Buffer.byteLength(inHome) <= MAX_SOCKET_PATH) return inHome;
  const id = createHash('sha256').update(abs).digest('hex').slice(0, 16);
  return join(tmpdir(), `kilo-${userInfo().uid}`, `${id}.sock`);
}

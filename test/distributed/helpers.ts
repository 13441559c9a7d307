/**
 * Real pieces for the distributed tests: a redis-server on a free loopback port (mocks cannot run
 * BullMQ's Lua scripts) and `kilo worker` processes spawned from bin/kilo.js.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repo root (works under vitest and plain tsx, which the bench uses). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Path of Debian's redis-server, or null (the tests then skip and say so). */
export const REDIS_SERVER: string | null = (() => {
  for (const p of ['/usr/bin/redis-server', '/usr/local/bin/redis-server', '/usr/sbin/redis-server']) if (existsSync(p)) return p;
  const r = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : null;
})();

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

/** Poll `fn` until truthy or the deadline passes (no fixed sleeps). */
export async function waitFor<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 60_000, everyMs = 50): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

function ping(port: number): Promise<boolean> {
  return new Promise((res) => {
    const sock = connect(port, '127.0.0.1');
    let buf = '';
    sock.setTimeout(500, () => {
      sock.destroy();
      res(false);
    });
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('+PONG')) {
        sock.end();
        res(true);
      }
    });
    sock.on('error', () => res(false));
  });
}

export class RedisServer {
  private proc: ChildProcess | null = null;
  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<RedisServer> {
    const r = new RedisServer(await freePort());
    await r.launch();
    return r;
  }

  /** As the STACK notes say: no persistence, noeviction (BullMQ needs it), loopback only. */
  async launch(): Promise<void> {
    if (!REDIS_SERVER) throw new Error('redis-server not found');
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--daemonize', 'no'];
    this.proc = spawn(REDIS_SERVER, args, { stdio: 'ignore' });
    const proc = this.proc;
    await waitFor(async () => proc.exitCode === null && (await ping(this.port)), `redis-server on port ${this.port}`, 10_000);
  }

  /** SIGKILL (no save: the data is gone, as after a crash of a non-persistent Redis). */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
    this.proc = null;
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  async stop(): Promise<void> {
    await this.kill();
  }
}

/** A `kilo worker` process with its output collected line by line. */
export class WorkerProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private constructor(
    readonly name: string,
    readonly proc: ChildProcess,
  ) {
    const collect = (d: Buffer): void => {
      for (const l of d.toString().split('\n')) {
        if (!l.trim()) continue;
        this.lines.push(l);
        if (process.env.DEBUG_DIST) console.log(`[${this.name}] ${l}`);
      }
    };
    proc.stdout!.on('data', collect);
    proc.stderr!.on('data', collect);
    this.exited = new Promise((r) => proc.once('exit', (code, signal) => r({ code, signal })));
  }

  static spawn(args: string[], env: NodeJS.ProcessEnv = {}, name = 'worker'): WorkerProcess {
    const proc = spawn(process.execPath, [resolve(ROOT, 'bin/kilo.js'), 'worker', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new WorkerProcess(name, proc);
  }

  /** Start a worker named `name` on `url` and wait until it takes jobs. */
  static async start(url: string, name: string, env: NodeJS.ProcessEnv = {}, extra: string[] = []): Promise<WorkerProcess> {
    const w = WorkerProcess.spawn(['--redis', url, '--name', name, ...extra], env, name);
    await waitFor(() => w.has(/taking training jobs/) || w.proc.exitCode !== null, `worker ${name} to start`, 30_000);
    if (w.proc.exitCode !== null) throw new Error(`worker ${name} exited ${w.proc.exitCode}: ${w.lines.join('\n')}`);
    return w;
  }

  has(re: RegExp): boolean {
    return this.lines.some((l) => re.test(l));
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.alive) this.proc.kill(signal);
    return this.exited;
  }
}

/**
 * Shared pieces of the reliability suite: running the real CLI as a child process, reading sizes
 * from the environment, hashing files, and writing small fast configs into a temp home.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import YAML from 'yaml';

export const REPO = resolve(import.meta.dirname, '../..');
export const KILO_BIN = join(REPO, 'bin', 'kilo.js');

/** Integer from the environment (suite sizes), with a default for the CI form. */
export function envInt(name: string, dflt: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}: expected a non-negative integer, got "${raw}"`);
  return n;
}

export const freshHome = (tag: string): Promise<string> => mkdtemp(join(tmpdir(), `kilo-rel-${tag}-`));

/** A config.yaml for the offline simulator: small universe, trees only, tiny quick profile. */
export function simConfig(over: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    data: { source: 'sim', sim_seed: 7, round_interval_s: 0.05 },
    universe: { symbols: ['BTC/USDT', 'ETH/USDT', 'SOL/USDT'], core_symbols: ['BTC/USDT'] },
    assets: { pre_trained: [], quick_train: ['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'LINK/USDT', 'DOT/USDT', 'AVAX/USDT'] },
    model: { models: ['gbdt'], window: 16, min_history_days_to_train: 30 },
    auto_training: { max_days_between_retrain: 0.1, min_candles_for_training: 500 },
    training: { auto_profile: 'quick', quick: { epochs: 1, patience: 1, trees: 4, data_days: 40, batch_size: 256, ppo_steps: 256 } },
    resources: { max_concurrent_trainings: 1, training_timeout_s: 60 },
    heartbeat_interval_s: 3600,
  };
  for (const [section, value] of Object.entries(over)) {
    const cur = base[section];
    base[section] = cur && typeof cur === 'object' && value && typeof value === 'object' && !Array.isArray(value) ? { ...cur, ...value } : value;
  }
  return base;
}

export async function writeConfig(home: string, cfg: Record<string, unknown>): Promise<string> {
  const path = join(home, 'config.yaml');
  await writeFile(path, YAML.stringify(cfg));
  return path;
}

export interface KiloChild {
  child: ChildProcess;
  /** stdout lines so far. */
  lines: string[];
  /** stdout lines that parsed as JSON objects. */
  events: Record<string, unknown>[];
  stderr: () => string;
  stdout: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start `bin/kilo.js <args>` (tsx from source) and collect its output. */
export function startKilo(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): KiloChild {
  return startNode([KILO_BIN, ...args], opts);
}

/** Run a .ts script under tsx in a child (e.g. a config editor that the suite kills mid-write). */
export function startTsScript(script: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): KiloChild {
  return startNode(['--import', 'tsx', script, ...args], opts);
}

function startNode(argv: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string }): KiloChild {
  const child = spawn(process.execPath, argv, { cwd: opts.cwd ?? REPO, env: { ...process.env, NO_COLOR: '1', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const events: Record<string, unknown>[] = [];
  let out = '';
  let all = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    all += d;
    out += d;
    let nl: number;
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      lines.push(line);
      if (line.startsWith('{')) {
        try {
          events.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // a pretty-printed multi-line JSON document: parsed by the caller from stdout()
        }
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
  return { child, lines, events, stderr: () => err, stdout: () => all, exited };
}

/** Run to completion. */
export async function runKilo(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const k = startKilo(args, opts);
  const timer = setTimeout(() => k.child.kill('SIGKILL'), opts.timeoutMs ?? 90_000);
  const { code } = await k.exited;
  clearTimeout(timer);
  return { code, stdout: k.stdout(), stderr: k.stderr() };
}

/** Poll until `fn` is truthy or the deadline passes (no fixed sleeps). */
export async function pollUntil<T>(fn: () => T | Promise<T>, timeoutMs: number, everyMs = 10): Promise<T | undefined> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) return undefined;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** sha256 of every file under `dir` (relative path -> hash); missing dir -> {}. */
export async function hashTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string): Promise<void> => {
    const ents = await readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of ents) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out[relative(dir, p)] = sha256(await readFile(p));
    }
  };
  if (await stat(dir).catch(() => null)) await walk(dir);
  return out;
}

/** Every file under `dir` as bytes (for secret scans). */
export async function readTree(dir: string): Promise<{ file: string; data: Buffer }[]> {
  const out: { file: string; data: Buffer }[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push({ file: p, data: await readFile(p) });
    }
  };
  await walk(dir);
  return out;
}

/** Deterministic 0..1 generator (mulberry32) so a failing trial can be replayed with its seed. */
export { mulberry32 as seededRandom } from '../../src/util/random.js';

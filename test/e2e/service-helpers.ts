/**
 * A home for the real kilo process on the offline simulator: two symbols, BTC/USDT with a real
 * (tiny) GRU trained by `kilo train` so the engine loads the tfjs WebAssembly backend, ETH/USDT
 * trading on its TA fallback, every signal traded (entry threshold 0), fast rounds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repo = resolve(import.meta.dirname, '../..');
export const kiloBin = join(repo, 'bin', 'kilo.js');

export const SERVICE_CONFIG = `data:
  source: sim
  round_interval_s: 0.25
universe:
  symbols: [BTC/USDT, ETH/USDT]
  core_symbols: []
model:
  models: [gru]
  window: 16
  auto_train_new_symbols: false
  block_untrained_symbols: false
  # The service's plumbing needs paper trades from a 1-epoch GRU whatever its walk-forward verdict
  # (the edge gate is tested with it on in test/engine/edge-serving.test.ts).
  require_edge: false
auto_training:
  enabled: false
training:
  auto_profile: quick
  quick: {epochs: 1, patience: 1, trees: 10, data_days: 40, batch_size: 256, ppo_steps: 256}
paper_trading:
  entry_threshold: 0
heartbeat_interval_s: 2
`;

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run kilo to completion. */
export function kilo(home: string, args: string[], timeoutMs = 240_000): Promise<Run> {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, [kiloBin, '--home', home, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: '' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      rej(new Error(`kilo ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    // 'close': stdout and stderr are read to their end ('exit' can come before the last chunk).
    p.on('close', (code, signal) => {
      clearTimeout(t);
      res({ code, signal, stdout, stderr });
    });
  });
}

/** A fresh home with the config above and, when `trained`, a GRU for BTC/USDT (v1.0). */
export async function serviceHome(trained: boolean): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), 'kilo-svc-'));
  await writeFile(join(home, 'config.yaml'), SERVICE_CONFIG);
  if (trained) {
    const r = await kilo(home, ['train', '--symbol', 'BTC/USDT', '--model', 'gru', '--quick']);
    if (r.code !== 0) throw new Error(`kilo train failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return home;
}

export interface Engine {
  proc: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start `kilo run --headless` and wait until its output says `ready` (a regexp). */
export async function startHeadless(home: string, ready: RegExp, extra: string[] = [], timeoutMs = 120_000): Promise<Engine> {
  const proc = spawn(process.execPath, [kiloBin, '--home', home, 'run', '--headless', ...extra], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: '' } });
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d) => (stdout += d));
  proc.stderr!.on('data', (d) => (stderr += d));
  // 'close', not 'exit': the process's last output may still be in the pipe when 'exit' fires.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => proc.on('close', (code, signal) => res({ code, signal })));
  const deadline = Date.now() + timeoutMs;
  while (!ready.test(stdout)) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`headless engine never matched ${ready}\n${stdout}\n${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { proc, out: () => stdout, err: () => stderr, exited };
}

export const lockFile = (home: string): string => join(home, 'data', 'engine.lock');
export const hasLock = (home: string): boolean => existsSync(lockFile(home));

/**
 * `kilo attach` in a real terminal: a real headless engine (`kilo run --headless`) trades on the
 * offline simulator; tmux runs `kilo attach` on the same home, the screen shows that engine's data
 * (its symbols, the trades it made, the commands reach it), `q` detaches with exit 0, and the engine
 * is still running and answering `kilo status`. Own tmux server (-L) per run, killed in afterAll.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineSnapshot } from '../../src/engine-api.js';
import { ApiClient } from '../../src/api/client.js';
import { hasLock, kilo, kiloBin, serviceHome, startHeadless, type Engine } from './service-helpers.js';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const server = `kilo-attach-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', server, ...args], { encoding: 'utf8' });
const screen = (): string => tmux('capture-pane', '-p', '-t', 'attach');
const keys = (...k: string[]): void => void tmux('send-keys', '-t', 'attach', ...k);

async function waitScreen(pred: string | RegExp | ((s: string) => boolean), timeoutMs = 60_000): Promise<string> {
  const test = typeof pred === 'string' ? (s: string) => s.includes(pred) : pred instanceof RegExp ? (s: string) => pred.test(s) : pred;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = screen();
    if (test(s)) return s;
    if (Date.now() > deadline) throw new Error(`screen never matched ${String(pred)}; screen:\n${s}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

let home = '';
let engine: Engine | null = null;

beforeAll(async () => {
  if (!hasTmux) return;
  home = await serviceHome(false);
  engine = await startHeadless(home, /control API on /);
}, 300_000);

afterAll(async () => {
  if (hasTmux) spawnSync('tmux', ['-L', server, 'kill-server']);
  if (engine && engine.proc.exitCode === null) {
    engine.proc.kill('SIGTERM');
    await engine.exited;
  }
  if (home) await rm(home, { recursive: true, force: true });
});

describe.skipIf(!hasTmux)('kilo attach in tmux (skipped when tmux is not installed)', () => {
  it('shows the running engine, sends it commands, q detaches and the engine keeps trading and answering', async () => {
    const client = new ApiClient(home);
    // Some trades first, so the Trades panel has the engine's own rows to show.
    for (let i = 0; i < 900 && (await client.snapshot()).portfolio.tradeCount < 1; i++) await new Promise((r) => setTimeout(r, 200));
    const before = await client.snapshot();
    expect(before.portfolio.tradeCount).toBeGreaterThanOrEqual(1);

    // The shell stays after kilo exits, so its exit code can be read off the screen. CI must be
    // unset, not empty: Ink treats any CI as "render the last frame only".
    tmux('new-session', '-d', '-s', 'attach', '-x', '150', '-y', '45', `env -u CI "${process.execPath}" "${kiloBin}" --home "${home}" attach; echo "kilo exited $?"; sleep 600`);
    // The engine's symbols, on its simulator (a cold tsx cache compiles the console first).
    const first = await waitScreen((s) => s.includes('BTC/USDT') && s.includes('ETH/USDT') && s.includes('src simulator'), 150_000);
    expect(first).toMatch(/\[1 Heartbeat\]/);
    // The Trades panel lists the engine's paper trades (made before this console existed).
    keys('5');
    const trade = before.portfolio.trades[0];
    const trades = await waitScreen((s) => s.includes('[5 Trades]') && s.includes(trade.symbol) && /\b(buy|sell)\b/.test(s));
    expect(trades).toContain(trade.symbol);

    // A command typed here reaches the engine in the other process.
    keys(':');
    await waitScreen('Tab completes');
    keys('block eth/usdt from tmux', 'Enter');
    const blocked = async (): Promise<EngineSnapshot['symbols'][number] | undefined> => (await client.snapshot()).symbols.find((r) => r.symbol === 'ETH/USDT');
    for (let i = 0; i < 300 && (await blocked())?.state !== 'blocked'; i++) await new Promise((r) => setTimeout(r, 200));
    expect((await blocked())?.state).toBe('blocked');
    expect((await blocked())?.stateReason).toMatch(/from tmux/);

    keys('q');
    const after = await waitScreen('kilo exited');
    expect(after).toMatch(/detached; the engine \(pid \d+\) keeps running/);
    expect(after).toContain('kilo exited 0');

    // The engine did not notice: still running, rounds going on, answering kilo status.
    expect(engine!.proc.exitCode).toBeNull();
    expect(hasLock(home)).toBe(true);
    const round = (await client.snapshot()).round;
    for (let i = 0; i < 300 && (await client.snapshot()).round <= round; i++) await new Promise((r) => setTimeout(r, 200));
    expect((await client.snapshot()).round).toBeGreaterThan(round);
    const st = await kilo(home, ['status', '--json']);
    expect(st.code, st.stderr).toBe(0);
    const s = JSON.parse(st.stdout) as { source: string; pid: number; snapshot: EngineSnapshot };
    expect(s.source).toBe('engine');
    expect(s.pid).toBe(engine!.proc.pid);
    expect(s.snapshot.status).toBe('running');

    engine!.proc.kill('SIGTERM');
    expect((await engine!.exited).code).toBe(0);
    expect(hasLock(home)).toBe(false);
  }, 300_000);
});

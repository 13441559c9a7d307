/**
 * The real program in a real terminal: tmux runs `bin/kilo.js --home <tmp>` (no config.yaml, so the
 * wizard comes first) on the offline simulator; keys go in with send-keys, the screen comes back
 * with capture-pane. Own tmux server (-L) per run, killed in afterAll.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const repo = resolve(import.meta.dirname, '../..');
const server = `kilo-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', server, ...args], { encoding: 'utf8' });
const screen = (): string => tmux('capture-pane', '-p', '-t', 'kilo');
const keys = (...k: string[]): void => void tmux('send-keys', '-t', 'kilo', ...k);

async function waitScreen(pred: string | RegExp | ((s: string) => boolean), timeoutMs = 30_000): Promise<string> {
  const test = typeof pred === 'string' ? (s: string) => s.includes(pred) : pred instanceof RegExp ? (s: string) => pred.test(s) : pred;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = screen();
    if (test(s)) return s;
    if (Date.now() > deadline) throw new Error(`screen never matched ${String(pred)}; screen:\n${s}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Answer one wizard step: wait for its title, then send the keys. */
async function step(title: string, ...k: string[]): Promise<void> {
  await waitScreen(title);
  keys(...k);
  await waitScreen((s) => !s.includes(title), 10_000);
}

function findFiles(dir: string, name: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? findFiles(p, name) : e === name ? [p] : [];
  });
}

describe.skipIf(!hasTmux)('console in a real terminal (tmux)', () => {
  let home = '';
  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'kilo-e2e-'));
    // CI=true (set by the CI runner) makes Ink render only the final frame: a real operator's
    // terminal does not have it, so the program under test must not either.
    const cmd = `env -u CI ${join(repo, 'bin', 'kilo.js')} --home ${home}; echo KILO_EXIT=$?; sleep 120`;
    tmux('new-session', '-d', '-s', 'kilo', '-x', '110', '-y', '32', cmd);
  });
  afterAll(() => {
    spawnSync('tmux', ['-L', server, 'kill-server']);
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('wizard -> heartbeat -> train with a moving progress bar -> log filter -> quit', async () => {
    // The first start in a fresh clone compiles the sources (tsx cache is cold): allow for it.
    await waitScreen('Where do candles come from?', 150_000);
    await step('Where do candles come from?', 'Enter'); // offline simulator
    await step('Universe: symbols to watch', 'C-u', 'BTC/USDT', 'Enter');
    await step('Core symbols', 'C-u', 'BTC/USDT', 'Enter');
    await step('Training mode', 'Enter');
    await step('Auto-training settings', 'Down', 'Enter'); // edit them
    await step('Train new symbols automatically?', 'Down', 'Enter'); // no: the operator queues the training below
    await step('Block untrained symbols?', 'Enter');
    await step('History policy', 'Enter');
    await step('Days of history', 'Enter');
    await step('win rate drops below', 'Enter');
    await step('Retrain at least every', 'Enter');
    await step('Initial training of BTC/USDT', 'Down', 'Enter'); // later
    await step('Start the bot now?', 'Enter');

    const config = readFileSync(join(home, 'config.yaml'), 'utf8');
    expect(config).toMatch(/auto_train_new_symbols: false/);
    expect(config).toMatch(/source: sim/);

    let s = await waitScreen(/> BTC\/USDT\s+\d/, 60_000);
    expect(s).toContain('[1 Heartbeat]');

    keys('3');
    await waitScreen('[3 Queue]');
    keys('t');
    s = await waitScreen(/BTC\/USDT\s+running/, 60_000);
    const pct = (x: string): number => Number(/running\s+\d+\s+\[[^\]]*\]\s*(\d+)%/.exec(x)?.[1] ?? -1);
    const first = pct(await waitScreen((x) => pct(x) >= 0, 60_000));
    await waitScreen((x) => pct(x) > first || /BTC\/USDT\s+done/.test(x), 120_000);
    s = await waitScreen(/BTC\/USDT\s+done/, 180_000);
    expect(s).toContain('100%');

    keys('4');
    await waitScreen('[4 Logs]');
    keys('l');
    await waitScreen('level >= info');
    keys('/');
    keys('started');
    keys('Enter');
    s = await waitScreen('search: "started"');
    const lines = s.split('\n').filter((l) => /^\d\d:\d\d:\d\d /.test(l));
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toContain('started');
    expect(s).toMatch(/training BTC\/USDT started/);
    expect(s).not.toMatch(/ DEBUG /);

    keys('q');
    await waitScreen('KILO_EXIT=0', 60_000);
    const metas = findFiles(join(home, 'models'), 'metadata.json');
    expect(metas.length).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(metas[0], 'utf8')).trained_symbols).toContain('BTC/USDT');
  }, 420_000);
});

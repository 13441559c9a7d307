/**
 * kilo as a service, the real program in real processes: SIGTERM and SIGINT stop
 * `kilo run --headless` with exit 0, state flushed and no lock left; a closed stdout (`| head -1`,
 * also after the tfjs WebAssembly backend installed its rethrowing exception handler) ends it the
 * same way with one short stderr line; `kilo --version`; "did you mean" for a mistyped subcommand;
 * every subcommand's help shows --home and -c; and the audit trail: `kilo models --rollback` with no
 * engine running, then `kilo history`; with one running, the rollback goes through its control API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasLock, kilo, kiloBin, repo, serviceHome, startHeadless } from './service-helpers.js';

const homes: string[] = [];
afterAll(async () => {
  for (const h of homes) await rm(h, { recursive: true, force: true });
});

describe('the kilo command line', () => {
  it('--version, "did you mean", and --home / -c in every subcommand help', async () => {
    const home = await mkdtemp(join(tmpdir(), 'kilo-cli-'));
    homes.push(home);
    const v = await kilo(home, ['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toBe(JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).version);

    const typo = await kilo(home, ['trian']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("unknown command 'trian'");
    expect(typo.stderr).toContain('Did you mean train?');
    expect(typo.stderr.length).toBeLessThan(300);

    const help = await kilo(home, ['--help']);
    const names = [...help.stdout.matchAll(/^ {2}([a-z]+)[ [<]/gm)].map((m) => m[1]).filter((n) => n !== 'help');
    expect(names).toEqual(expect.arrayContaining(['run', 'replay', 'train', 'models', 'coverage', 'queue', 'history', 'doctor', 'signal', 'setup', 'data', 'eval']));
    const helps = await Promise.all(names.map((n) => kilo(home, [n, '--help'])));
    names.forEach((n, i) => {
      expect(helps[i].code, n).toBe(0);
      expect(helps[i].stdout, n).toMatch(/--home <dir>/);
      expect(helps[i].stdout, n).toMatch(/-c, --config <file>/);
    });
  }, 300_000);
});

describe('kilo run --headless as a service', () => {
  let trained = '';
  beforeAll(async () => {
    trained = await serviceHome(true);
    homes.push(trained);
  }, 300_000);

  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    it(`${sig} stops it with exit 0, state flushed and no lock left`, async () => {
      const e = await startHeadless(trained, /heartbeat/);
      expect(hasLock(trained)).toBe(true);
      e.proc.kill(sig);
      const { code, signal } = await e.exited;
      expect({ code, signal }, e.err()).toEqual({ code: 0, signal: null });
      expect(hasLock(trained)).toBe(false);
      expect(e.out()).toContain(`stopping (${sig})`);
      expect(e.out()).toContain('kilo engine stopped; state flushed');
      expect(e.out()).toMatch(/summary: \d+ rounds/);
      const state = JSON.parse(await readFile(join(trained, 'data', 'engine-state.json'), 'utf8'));
      expect(state.version).toBe(2);
      expect(state.marketTime).toBeGreaterThan(0);
    }, 180_000);
  }

  it('`| head -1` ends it cleanly: exit 0, stderr under 1 KB, lock released', async () => {
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${kiloBin}" --home "${trained}" run --headless --json 2>"${trained}/err.txt" | head -1; echo "status=\${PIPESTATUS[0]}"`], {
      encoding: 'utf8',
      timeout: 180_000,
      env: { ...process.env, CI: '' },
    });
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0]).type).toBe('log');
    expect(lines[1]).toBe('status=0');
    const err = await readFile(join(trained, 'err.txt'), 'utf8');
    expect(Buffer.byteLength(err)).toBeLessThan(1024);
    expect(err).toMatch(/stdout closed/);
    expect(hasLock(trained)).toBe(false);
  }, 180_000);

  it('a reader that goes away after the model (and the wasm backend) loaded ends it the same way', async () => {
    const e = await startHeadless(trained, /loaded model 1\.0/, ['--json']);
    // Close our end of the pipe, as `head` does once it has its lines.
    e.proc.stdout!.destroy();
    const { code, signal } = await e.exited;
    expect({ code, signal }, e.err()).toEqual({ code: 0, signal: null });
    expect(Buffer.byteLength(e.err())).toBeLessThan(1024);
    expect(e.err()).not.toMatch(/at .*\.js:\d+|throw/);
    expect(hasLock(trained)).toBe(false);
  }, 180_000);

  it('kilo models --rollback returns a symbol to its previous version with the engine stopped, and kilo history tells the story', async () => {
    // A second BTC model, promoted by the gate: 1.1 serves, 1.0 before it.
    const t = await kilo(trained, ['train', '--symbol', 'BTC/USDT', '--model', 'gru', '--quick', '--force-train']);
    expect(t.code, t.stderr).toBe(0);
    await writeFile(join(trained, 'data', 'serving.json'), JSON.stringify({ 'BTC/USDT': '1.1' }));
    await writeFile(
      join(trained, 'data', 'promotions.json'),
      JSON.stringify({
        version: 1,
        decisions: [
          { at: 1000, symbol: 'BTC/USDT', kind: 'promoted', championVersion: null, challengerVersion: '1.0', championScore: null, challengerScore: null, reason: 'first model for BTC/USDT' },
          { at: 2000, symbol: 'BTC/USDT', kind: 'promoted', championVersion: '1.0', challengerVersion: '1.1', championScore: 0.5, challengerScore: 0.6, reason: 'challenger better' },
        ],
      }),
    );
    const before = JSON.parse((await kilo(trained, ['models', '--json'])).stdout);
    expect(before.serving['BTC/USDT']).toBe('1.1');

    const rb = await kilo(trained, ['models', '--rollback', 'btc/usdt', '--reason', 'fills look wrong']);
    expect(rb.code, rb.stderr).toBe(0);
    expect(rb.stdout).toContain('BTC/USDT rolled back from v1.1 to v1.0');
    expect(JSON.parse((await kilo(trained, ['models', '--json'])).stdout).serving['BTC/USDT']).toBe('1.0');
    expect(JSON.parse(readFileSync(join(trained, 'data', 'serving.json'), 'utf8'))['BTC/USDT']).toBe('1.0');
    expect(readFileSync(join(trained, 'data', 'trading.log'), 'utf8')).toMatch(/BTC\/USDT rolled back from 1\.1 to 1\.0: fills look wrong/);
    expect(hasLock(trained)).toBe(false);

    const h = await kilo(trained, ['history', 'BTC/USDT', '--json']);
    expect(h.code, h.stderr).toBe(0);
    const hist = JSON.parse(h.stdout) as { serving: { version: string }; entries: { kind: string; version: string | null; from: string | null; reason: string }[] };
    expect(hist.serving.version).toBe('1.0');
    const kinds = hist.entries.filter((e) => e.kind !== 'fallback' && e.kind !== 'fallback_end').map((e) => [e.kind, e.from, e.version]);
    expect(kinds).toEqual([
      ['promoted', null, '1.0'],
      ['promoted', '1.0', '1.1'],
      ['rollback', '1.1', '1.0'],
    ]);
    expect(hist.entries.at(-1)?.reason).toBe('fills look wrong');
    const text = await kilo(trained, ['history', 'BTC/USDT']);
    expect(text.stdout).toMatch(/rollback\s+v1\.1 -> v1\.0\s+fills look wrong/);
    expect((await kilo(trained, ['history', 'not-a-pair'])).code).toBe(2);
  }, 300_000);

  it('a second engine on the same home is refused with exit 4; --rollback while one runs is applied by that engine through its API', async () => {
    const e = await startHeadless(trained, /heartbeat/);
    const second = await kilo(trained, ['run', '--headless', '--iterations', '1']);
    expect(second.code).toBe(4);
    expect(second.stderr).toMatch(/another kilo engine \(pid \d+\) is running/);
    // The test above left v1.0 serving BTC, put back by a rollback from v1.1: the version that served
    // before the current one is v1.1. The CLI takes no lock; the running engine does the work.
    const rb = await kilo(trained, ['models', '--rollback', 'BTC/USDT', '--reason', 'through the api']);
    expect(rb.code, rb.stderr).toBe(0);
    expect(rb.stdout).toContain('BTC/USDT rolled back from v1.0 to v1.1');
    // The engine's own log says so (its stdout reaches us a moment later).
    for (let i = 0; i < 300 && !/BTC\/USDT rolled back from 1\.0 to 1\.1: through the api/.test(e.out()); i++) await new Promise((r) => setTimeout(r, 100));
    expect(e.out()).toMatch(/BTC\/USDT rolled back from 1\.0 to 1\.1: through the api/);
    const st = JSON.parse((await kilo(trained, ['status', '--json'])).stdout) as { source: string; pid: number; snapshot: { symbols: { symbol: string; model_version: string | null }[] } };
    expect(st.source).toBe('engine');
    expect(st.pid).toBe(e.proc.pid);
    expect(st.snapshot.symbols.find((r) => r.symbol === 'BTC/USDT')?.model_version).toBe('1.1');
    expect(JSON.parse(readFileSync(join(trained, 'data', 'serving.json'), 'utf8'))['BTC/USDT']).toBe('1.1');
    e.proc.kill('SIGTERM');
    expect((await e.exited).code).toBe(0);
    expect(existsSync(join(trained, 'data', 'engine.lock'))).toBe(false);
    const hist = JSON.parse((await kilo(trained, ['history', 'BTC/USDT', '--json'])).stdout) as { entries: { kind: string; from: string | null; version: string | null; reason: string }[] };
    expect(hist.entries.filter((x) => x.kind === 'rollback').at(-1)).toMatchObject({ from: '1.0', version: '1.1', reason: 'through the api' });
  }, 180_000);
});

/**
 * Secrets: with KILO_API_KEY / KILO_API_SECRET set to distinctive values, a full headless run
 * (text and --json), doctor, models, coverage, queue and data check must never print or write the
 * key or the secret - raw, base64, base64url, url-encoded or hex - anywhere: stdout, stderr, data/,
 * models/, config.yaml. One run goes to the loopback exchange, which answers with error messages
 * that echo the credentials back (the exchange is not trusted to keep them out of its errors).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startBinanceServer, DEFAULT_DATA_DIR, type BinanceServer } from '../helpers/binance-server.js';
import { freshHome, readTree, runKilo, simConfig, writeConfig } from './helpers.js';

const KEY = 'kIlOkEy7Qx9ZpL2vW8rT5nB3mC6dF1gH4jK0sA';
// '+', '/', '=' and ':' so the url-encoded form differs from the raw one.
const SECRET = 'sEcReT+9/vX2=wQ:8zL5yP3nR7tM1kJ6hG4fD0';
const ENV = { KILO_API_KEY: KEY, KILO_API_SECRET: SECRET };

function forms(value: string): string[] {
  const b = Buffer.from(value);
  return [value, encodeURIComponent(value), b.toString('base64'), b.toString('base64url'), b.toString('hex'), JSON.stringify(value).slice(1, -1)];
}
const NEEDLES = [...new Set([...forms(KEY), ...forms(SECRET), ...forms(`${KEY}:${SECRET}`)])];

let srv: BinanceServer | null = null;
let home = '';
let exchangeHome: string | null = null;
beforeAll(async () => {
  home = await freshHome('secrets');
  if (existsSync(DEFAULT_DATA_DIR)) srv = await startBinanceServer({ symbols: ['BTC/USDT', 'ETH/USDT'], now: () => Date.now() });
});
afterAll(async () => {
  await srv?.close();
  for (const h of [home, exchangeHome]) if (h) await rm(h, { recursive: true, force: true });
});

describe('secrets never leave the process', () => {
  it('no form of the API key or secret in any output or file', async () => {
    const outputs: { what: string; text: string }[] = [];
    const run = async (what: string, args: string[], home_ = home): Promise<void> => {
      const r = await runKilo(['--home', home_, ...args], { env: ENV, timeoutMs: 120_000 });
      outputs.push({ what: `${what} stdout`, text: r.stdout }, { what: `${what} stderr`, text: r.stderr });
      expect(r.code === 0 || r.code === 1, `${what} exited ${r.code}: ${r.stderr.slice(-1500)}`).toBe(true);
    };

    // A full simulator run with a training, trades and heartbeats, in text and JSON form.
    await writeConfig(home, simConfig({ data: { source: 'sim', sim_seed: 11, round_interval_s: 0 } }));
    await run('run --headless', ['run', '--headless', '--iterations', '6', '--finish-jobs']);
    await run('run --headless --json', ['run', '--headless', '--iterations', '6', '--json', '--finish-jobs']);
    await run('doctor', ['doctor']);
    await run('doctor --json', ['doctor', '--json']);
    await run('models --json', ['models', '--json', '--verify']);
    await run('coverage --json', ['coverage', '--json']);
    await run('queue --json', ['queue', '--json']);
    await run('data check --json', ['data', 'check', '--json']);

    // The exchange echoes the credentials back in its error messages; kilo must scrub them.
    if (srv) {
      exchangeHome = await freshHome('secrets-x');
      await writeConfig(
        exchangeHome,
        simConfig({
          data: { source: 'exchange', round_interval_s: 0 },
          exchange: { api_base_url: srv.url, timeout_ms: 2000, max_retries: 1 },
          universe: { symbols: ['BTC/USDT', 'ETH/USDT'], core_symbols: [] },
          assets: { pre_trained: [], quick_train: ['BTC/USDT', 'ETH/USDT'] },
          model: { models: ['gbdt'], auto_train_new_symbols: false, block_untrained_symbols: false },
        }),
      );
      const echo = `Invalid API-key ${KEY}, IP, or permissions for action; signature for ${encodeURIComponent(SECRET)} / ${SECRET}`;
      srv.failNext({ kind: 'exchange-error', code: -2015, msg: echo, status: 401, path: '/api/v3/klines' }, 4);
      await run('exchange run --json', ['run', '--headless', '--iterations', '2', '--json'], exchangeHome);
      await run('exchange doctor --json', ['doctor', '--json', '--exchange'], exchangeHome);
      expect(srv.requests.some((r) => r.fault?.startsWith('exchange-error'))).toBe(true);
      // The echoed message did reach kilo's output, with the credentials replaced.
      expect(outputs.filter((o) => o.what.startsWith('exchange run')).map((o) => o.text).join('')).toContain('***apiKey***');
    }

    const files = [...(await readTree(home)), ...(exchangeHome ? await readTree(exchangeHome) : [])];
    expect(files.some((f) => f.file.endsWith('trading.log'))).toBe(true);
    expect(files.some((f) => f.file.includes(`${join('models', 'v')}`))).toBe(true);
    const leaks: string[] = [];
    for (const o of outputs) for (const n of NEEDLES) if (o.text.includes(n)) leaks.push(`${o.what} contains ${n}`);
    for (const f of files) for (const n of NEEDLES) if (f.data.includes(Buffer.from(n))) leaks.push(`${f.file} contains ${n}`);
    const bytes = outputs.reduce((s, o) => s + Buffer.byteLength(o.text), 0) + files.reduce((s, f) => s + f.data.length, 0);
    console.log(
      `[secrets] ${outputs.length / 2} CLI runs, ${files.length} files, ${(bytes / 1024).toFixed(0)} KiB searched for ${NEEDLES.length} forms of the key/secret: ${leaks.length} found`,
    );
    expect(leaks).toEqual([]);
  }, 600_000);
});

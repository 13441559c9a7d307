import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { runDoctor, formatReport, result } from '../../src/doctor/index.js';
import { startBinanceServer, DEFAULT_DATA_DIR, type BinanceServer } from '../helpers/binance-server.js';

const repo = resolve(import.meta.dirname, '../..');
let srv: BinanceServer;
beforeAll(async () => {
  srv = await startBinanceServer({ symbols: ['BTC/USDT'] });
});
afterAll(async () => srv?.close());

async function homeWith(config: string): Promise<{ home: string; configPath: string }> {
  const home = await mkdtemp(join(tmpdir(), 'kilo-doctor-'));
  const configPath = join(home, 'config.yaml');
  await writeFile(configPath, config);
  return { home, configPath };
}

const byName = <T extends { name: string }>(checks: T[], name: string): T => checks.find((c) => c.name === name)!;

describe.skipIf(!existsSync(DEFAULT_DATA_DIR))('kilo doctor', () => {
  it('pointed at the loopback exchange: the exchange check passes with URL, latency and skew', async () => {
    const { home, configPath } = await homeWith(`data:\n  source: exchange\nexchange:\n  api_base_url: ${srv.url}\n`);
    const before = srv.count('/api/v3/time');
    const r = await runDoctor({ home, configPath, env: {}, skipTf: true });
    const ex = byName(r.checks, 'exchange');
    expect(ex.status).toBe('ok');
    expect(ex.detail).toContain(`${srv.url}/api/v3`);
    expect(ex.detail).toMatch(/answers at .* in \d+ ms, clock skew -?\d+ ms/);
    expect(srv.count('/api/v3/time')).toBe(before + 1);
    expect(byName(r.checks, 'config').status).toBe('ok');
    expect(byName(r.checks, 'credentials').detail).toContain('public market data only');
    expect(r.ok).toBe(true);
  });

  it('with the server down: fail naming the URL and the error; extra checks run; exit code 1 from the CLI', async () => {
    const down = await startBinanceServer({ symbols: ['BTC/USDT'] });
    const url = down.url;
    await down.close();
    const { home, configPath } = await homeWith(`data:\n  source: exchange\nexchange:\n  api_base_url: ${url}\n  timeout_ms: 2000\n`);
    const extra = async () => result('queue', 'warn', '3 jobs stuck', 'kilo queue retry');
    const r = await runDoctor({ home, configPath, env: {}, skipTf: true, extraChecks: [extra] });
    const ex = byName(r.checks, 'exchange');
    expect(ex.status).toBe('fail');
    expect(ex.detail).toContain(url);
    expect(ex.detail).toMatch(/ECONNREFUSED|fetch failed|NetworkError|unreachable/i);
    expect(ex.fix).toContain('data.source: sim');
    expect(byName(r.checks, 'queue')).toEqual({ name: 'queue', status: 'warn', detail: '3 jobs stuck', fix: 'kilo queue retry' });
    expect(r.ok).toBe(false);
    expect(formatReport(r.checks)).toMatch(/FAIL\s+exchange/);

    const cli = spawnSync(process.execPath, [join(repo, 'bin/kilo.js'), '--home', home, 'doctor', '--json'], { encoding: 'utf8', timeout: 60_000 });
    expect(cli.status).toBe(1);
    const json = JSON.parse(cli.stdout) as { ok: boolean; checks: { name: string; status: string; detail: string }[] };
    expect(json.ok).toBe(false);
    expect(byName(json.checks, 'exchange').detail).toContain(url);
    expect(byName(json.checks, 'tfjs backend').detail).toMatch(/^(tensorflow|wasm|cpu)/);
    expect(byName(json.checks, 'rnn kernel').detail).toMatch(/^(native (avx512f|avx2\+fma)|tfjs ops: )/);
  });

  it('invalid config and a world-readable credentials file are failures with fixes', async () => {
    const { home, configPath } = await homeWith('model:\n  window: "x"\nexchange:\n  credentials_file: creds.yaml\n');
    const r1 = await runDoctor({ home, configPath, env: {}, skipTf: true });
    expect(byName(r1.checks, 'config')).toMatchObject({ status: 'fail', detail: 'config.yaml:2: model.window: expected number, got string' });
    const { home: h2, configPath: c2 } = await homeWith('exchange:\n  credentials_file: creds.yaml\n');
    await writeFile(join(h2, 'creds.yaml'), 'apiKey: k12345678\nsecret: s12345678\n');
    await chmod(join(h2, 'creds.yaml'), 0o644);
    const r2 = await runDoctor({ home: h2, configPath: c2, env: {}, skipTf: true });
    const cred = byName(r2.checks, 'credentials');
    expect(cred.status).toBe('fail');
    expect(cred.fix).toBe(`chmod 600 ${join(h2, 'creds.yaml')}`);
    expect(JSON.stringify(r2)).not.toContain('s12345678');
    await chmod(join(h2, 'creds.yaml'), 0o600);
    const r3 = await runDoctor({ home: h2, configPath: c2, env: {}, skipTf: true });
    expect(byName(r3.checks, 'credentials')).toMatchObject({ status: 'ok', detail: expect.stringContaining('file mode 600') });
    expect(JSON.stringify(r3)).not.toContain('k12345678');
  });
});

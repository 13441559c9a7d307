import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile, mkdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { startBinanceServer, DEFAULT_DATA_DIR, type BinanceServer } from '../helpers/binance-server.js';
import { parseCandleCsv } from '../../src/market/csv.js';

const repo = resolve(import.meta.dirname, '../..');
let srv: BinanceServer;
beforeAll(async () => {
  // The server's "now" is real time; its data ends 2023-12-30, so fetch a window reaching back there.
  srv = await startBinanceServer({ symbols: ['BTC/USDT', 'USDC/USDT'] });
});
afterAll(async () => srv?.close());

function kilo(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [join(repo, 'bin/kilo.js'), ...args], { env: { ...process.env, KILO_API_KEY: '', KILO_API_SECRET: '' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => res({ code, stdout, stderr }));
  });
}

describe.skipIf(!existsSync(DEFAULT_DATA_DIR))('kilo data fetch / check', () => {
  it('fetches from the exchange into the store with progress, then check reports gaps and coverage', async () => {
    const home = await mkdtemp(join(tmpdir(), 'kilo-data-cli-'));
    await writeFile(join(home, 'config.yaml'), `data:\n  source: exchange\nexchange:\n  api_base_url: ${srv.url}\n`);
    const days = Math.ceil((Date.now() - Date.UTC(2023, 2, 1)) / 86_400_000);
    const f = await kilo(['--home', home, 'data', 'fetch', '--symbol', 'BTC/USDT', '--days', String(days)]);
    expect(f.stderr).not.toMatch(/error/i);
    expect(f.code).toBe(0);
    expect(f.stdout).toContain('public market data only');
    expect(f.stdout).toMatch(/BTC\/USDT 1h: \d+ new candles/);
    const file = join(home, 'data/candles/binance/BTC-USDT-1h.csv');
    const stored = parseCandleCsv(await readFile(file, 'utf8')).candles;
    const csv = parseCandleCsv(await readFile(join(DEFAULT_DATA_DIR, 'BTC-USDT-1h.csv'), 'utf8')).candles.filter((c) => c.timestamp >= stored[0].timestamp);
    expect(stored).toEqual(csv);
    expect(f.stdout).toContain(`stored ${csv.length} candles`);
    const c = await kilo(['--home', home, 'data', 'check', '--json']);
    // The exchange's data ends 2023-12-30: today the store is stale, and check says so with exit 4.
    expect(c.code).toBe(4);
    const reports = JSON.parse(c.stdout) as { symbol: string; gaps: { from: number; missing: number }[]; confirmed_gaps: unknown[]; open_gaps: unknown[]; ok: boolean; stale: boolean; problems: string[] }[];
    expect(reports).toHaveLength(1);
    expect(reports[0].gaps).toEqual([{ from: Date.UTC(2023, 2, 24, 13), to: Date.UTC(2023, 2, 24, 13), missing: 1 }]);
    // That hour is missing on the exchange itself: confirmed by the source, not a problem.
    expect(reports[0].confirmed_gaps).toHaveLength(1);
    expect(reports[0].open_gaps).toEqual([]);
    expect(reports[0].stale).toBe(true);
    expect(reports[0].problems.join()).toMatch(/^stale: newest candle closed \d+\.\d h ago \(> 2 x 1h\)$/);
    const text = await kilo(['--home', home, 'data', 'check']);
    expect(text.code).toBe(4);
    expect(text.stdout).toMatch(/^WARN .*BTC-USDT-1h\.csv/m);
  });

  it('check fails (exit 1) on a corrupt csv folder, naming file and line', async () => {
    const home = await mkdtemp(join(tmpdir(), 'kilo-data-cli-'));
    await mkdir(join(home, 'csv'));
    await writeFile(join(home, 'config.yaml'), 'data:\n  source: csv\n  csv_dir: csv\n');
    await writeFile(join(home, 'csv/ABC-USDT-1h.csv'), 'timestamp,open,high,low,close,volume\n3600000,1,2,0.5,1.5,10\n7200000,1,2,0.5,-3,10\n10800000,1,2,0.5,zz,1\n');
    const c = await kilo(['--home', home, 'data', 'check']);
    expect(c.code).toBe(1);
    expect(c.stdout).toContain('FAIL');
    expect(c.stdout).toContain('ABC-USDT-1h.csv');
    expect(c.stdout).toContain('line 4: close is not a number: "zz"');
    expect(c.stdout).toContain('1 non-positive');
  });

  it('a bad config is reported with key and line, exit 2, nothing written', async () => {
    const home = await mkdtemp(join(tmpdir(), 'kilo-data-cli-'));
    await writeFile(join(home, 'config.yaml'), 'data:\n  source: nowhere\n');
    const r = await kilo(['--home', home, 'data', 'fetch', '--symbol', 'BTC/USDT']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('config.yaml:2: data.source');
    expect(existsSync(join(home, 'data'))).toBe(false);
  });
});

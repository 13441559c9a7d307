/**
 * The streamed CSV source: ranges read back by byte offset equal what a whole-file parse gives,
 * on the real files and on awkward ones (no trailing newline, CRLF, unsorted rows); a symbol that
 * would walk out of the folder is refused; an absurd row is quarantined with its file and line.
 */
import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { CsvMarketSource, UnsafeSymbolError } from '../../src/market/csv-source.js';
import { CsvFormatError, parseCandleCsv } from '../../src/market/csv.js';
import { indexCsv, readCsvRange } from '../../src/market/csv-index.js';
import { cleanCandles } from '../../src/market/validate.js';
import { CandleStore } from '../../src/market/candle-store.js';
import { createHash } from 'node:crypto';

const DATA = resolve(import.meta.dirname, '../../../shared/data/ohlcv');
const H = 3_600_000;
const row = (t: number, p = 10) => `${t * H},${p},${p + 1},${p - 1},${p + 0.5},3`;

describe.skipIf(!existsSync(DATA))('streamed CSV on the real files', () => {
  it('every range read by offset equals the whole-file parse, and the index carries the sha256', async () => {
    for (const sym of ['BTC-USDT', 'USDC-USDT']) {
      const file = join(DATA, `${sym}-1h.csv`);
      const text = await readFile(file, 'utf8');
      const all = cleanCandles(parseCandleCsv(text).candles, '1h');
      const idx = await indexCsv(file, '1h', { blockRows: 700 });
      expect(idx.sorted).toBe(true);
      expect(idx.rows).toBe(all.length);
      expect(idx.sha256).toBe(createHash('sha256').update(text).digest('hex'));
      expect(await readCsvRange(idx, '1h', -Infinity, Infinity)).toEqual(all);
      // Ranges that start and end inside blocks, on block edges, in gaps and outside the data.
      const t = all.map((c) => c.timestamp);
      for (const [a, b] of [
        [t[0], t[10]],
        [t[699], t[701]],
        [t[700], t[1400]],
        [t[5000] + 1, t[9000] - 1],
        [t[t.length - 3], t[t.length - 1] + 5 * H],
        [t[0] - 100 * H, t[0]],
        [Date.UTC(2022, 9, 1), Date.UTC(2023, 2, 1)], // spans the long USDC gap
      ]) {
        expect(await readCsvRange(idx, '1h', a, b)).toEqual(all.filter((c) => c.timestamp >= a && c.timestamp < b));
      }
    }
  });

  it('the source still replays as if live, by range', async () => {
    const clock = new ManualClock(Date.UTC(2022, 0, 10, 5, 30));
    const src = new CsvMarketSource(DATA, clock);
    expect((await src.latestClosedCandle('ETH/USDT', '1h'))!.timestamp).toBe(Date.UTC(2022, 0, 10, 4));
    expect(await src.range('ETH/USDT', '1h')).toEqual({ first: Date.UTC(2021, 3, 4, 20), last: Date.UTC(2023, 11, 30, 19), rows: 23988 });
    const p = await src.provenance(['ETH/USDT'], '1h');
    expect(p).toMatchObject({ kind: 'csv', dir: DATA });
    if (p.kind === 'csv') expect(p.files['ETH-USDT-1h.csv']).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('streamed CSV on awkward files', () => {
  it('CRLF, no trailing newline, blank lines: the same candles as a whole parse', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kilo-csvs-'));
    const lines = ['timestamp,open,high,low,close,volume', ...Array.from({ length: 50 }, (_, k) => row(k + 1)), '', row(60)];
    await writeFile(join(dir, 'AAA-USDT-1h.csv'), lines.join('\r\n'));
    const src = new CsvMarketSource(dir, new ManualClock(1000 * H));
    const idx = await indexCsv(join(dir, 'AAA-USDT-1h.csv'), '1h', { blockRows: 7 });
    expect(await readCsvRange(idx, '1h', -Infinity, Infinity)).toEqual(parseCandleCsv(lines.join('\n')).candles);
    expect((await src.latestClosedCandle('AAA/USDT', '1h'))!.timestamp).toBe(60 * H);
    expect(await src.fetchCandles('AAA/USDT', '1h', 10 * H, 13 * H)).toHaveLength(3);
  });

  it('an unsorted file is held cleaned (sorted, deduplicated) and strict mode refuses it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kilo-csvs-'));
    await writeFile(join(dir, 'BBB-USDT-1h.csv'), ['timestamp,open,high,low,close,volume', row(3), row(1), row(2), row(2)].join('\n') + '\n');
    const src = new CsvMarketSource(dir, new ManualClock(100 * H));
    expect((await src.fetchCandles('BBB/USDT', '1h', 0, 100 * H)).map((c) => c.timestamp)).toEqual([H, 2 * H, 3 * H]);
    const strict = new CsvMarketSource(dir, new ManualClock(100 * H), { strict: true });
    await expect(strict.fetchCandles('BBB/USDT', '1h', 0, 100 * H)).rejects.toThrow(CsvFormatError);
  });

  it('an absurd price (1e308) is quarantined with its file and line, never served', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kilo-csvs-'));
    const file = join(dir, 'CCC-USDT-1h.csv');
    await writeFile(file, ['timestamp,open,high,low,close,volume', row(1), row(2), `${3 * H},10,1e308,9,1e308,3`, row(4)].join('\n') + '\n');
    const lenient = new CsvMarketSource(dir, new ManualClock(100 * H));
    const got = await lenient.fetchCandles('CCC/USDT', '1h', 0, 100 * H);
    expect(got.map((c) => c.timestamp)).toEqual([H, 2 * H, 4 * H]);
    const idx = await lenient.index('CCC/USDT', '1h');
    expect(idx.badRows).toEqual([{ line: 4, reason: 'high 1e+308 is absurd (above 1000000000000)' }]);
    const strict = new CsvMarketSource(dir, new ManualClock(100 * H), { strict: true });
    await expect(strict.fetchCandles('CCC/USDT', '1h', 0, 100 * H)).rejects.toThrow(/CCC-USDT-1h\.csv: 1 bad row\(s\): line 4: high 1e\+308 is absurd/);
  });

  it('a symbol that would read a file outside csv_dir is refused before any file is opened', async () => {
    const root = await mkdtemp(join(tmpdir(), 'kilo-csvs-'));
    await mkdir(join(root, 'csv'));
    // The planted file an `X/../../planted` queue entry once made the engine train on.
    await writeFile(join(root, 'planted-1h.csv'), ['timestamp,open,high,low,close,volume', row(1)].join('\n'));
    const src = new CsvMarketSource(join(root, 'csv'), new ManualClock(100 * H));
    for (const sym of ['X/../../planted', 'X/../planted', '../x/USDT', 'X/USDT/../../planted']) {
      await expect(src.fetchCandles(sym, '1h', 0, 100 * H)).rejects.toBeInstanceOf(UnsafeSymbolError);
      expect(() => src.fileFor(sym, '1h')).toThrow(/refused symbol/);
    }
    // The candle store refuses the same names.
    const store = new CandleStore(join(root, 'store'), new ManualClock(0));
    expect(() => store.file('binance', 'X/../../planted', '1h')).toThrow(UnsafeSymbolError);
  });
});

/**
 * `kilo data check` streams each file (issue 17 item 10): the streamed parse gives exactly what the
 * whole-file parse gives - candles, bad rows and their line numbers - on the real files and on
 * awkward ones (CRLF, no trailing newline, a bad header, garbage bytes, lines split across chunks).
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseCandleCsv, streamCandleCsv } from '../../src/market/csv.js';

const DATA = resolve(import.meta.dirname, '../../../shared/data/ohlcv');
const H = 3_600_000;
const row = (t: number, p = 10) => `${t * H},${p},${p + 1},${p - 1},${p + 0.5},3`;

describe('streamed candle CSV', () => {
  it('equals the whole-file parse on awkward files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kilo-csvstream-'));
    const header = 'timestamp,open,high,low,close,volume';
    // Long enough to cross the 1 MiB read chunks several times, so lines are split between chunks.
    const many = Array.from({ length: 60_000 }, (_, i) => row(i + 1, 10 + (i % 7)));
    const cases: Record<string, string | Buffer> = {
      plain: [header, ...many].join('\n') + '\n',
      crlf: [header, ...many.slice(0, 500)].join('\r\n'),
      'no-newline': [header, row(1), row(2)].join('\n'),
      'bad-header': ['time,o,h,l,c,v', row(1), 'x,1,2,3,4,5', row(3)].join('\n'),
      'lone-cr': [header, row(1)].join('\r') + '\n' + row(2),
      empty: '',
      garbage: Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 131 + 5) % 256)),
    };
    for (const [name, content] of Object.entries(cases)) {
      const file = join(dir, `${name}.csv`);
      await writeFile(file, content);
      const whole = parseCandleCsv(await readFile(file, 'utf8'));
      expect(await streamCandleCsv(file), name).toEqual(whole);
    }
    expect((await streamCandleCsv(join(dir, 'plain.csv'))).candles).toHaveLength(60_000);
    expect((await streamCandleCsv(join(dir, 'bad-header.csv'))).badRows.map((b) => b.line)).toEqual([1, 3]);
  });

  it.skipIf(!existsSync(DATA))('equals the whole-file parse on the real files', async () => {
    for (const sym of ['BTC-USDT', 'USDC-USDT']) {
      const file = join(DATA, `${sym}-1h.csv`);
      const whole = parseCandleCsv(await readFile(file, 'utf8'));
      const streamed = await streamCandleCsv(file);
      expect(streamed.candles.length).toBeGreaterThan(1000);
      expect(streamed).toEqual(whole);
    }
  });
});

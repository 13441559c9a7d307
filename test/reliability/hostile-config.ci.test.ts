/**
 * Hostile input, part 1: malformed config.yaml (wrong types, unknown keys, invalid YAML, huge
 * values, alias bombs, binary garbage) and candle CSV files (bad rows, wrong header, wrong order).
 * Every case must end in a clear error naming the file and the key or line, and no file that
 * existed before may change (sha256 before/after). The real CLI is used where a user meets these
 * files (`kilo run --headless --iterations 1`, `kilo models`, `kilo data check`), library calls elsewhere.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig, ConfigError } from '../../src/config/load.js';
import { CandleStore } from '../../src/market/candle-store.js';
import { CsvFormatError } from '../../src/market/csv.js';
import { ManualClock } from '../../src/clock.js';
import { freshHome, hashTree, runKilo } from './helpers.js';

const homes: string[] = [];
const home = async (tag: string): Promise<string> => {
  const h = await freshHome(tag);
  homes.push(h);
  return h;
};
const tally = { tried: 0 };
afterAll(async () => {
  console.log(`[hostile] config.yaml + candle CSV: ${tally.tried} malformed inputs tried, each rejected naming the file and key/line; originals unchanged`);
  for (const h of homes) await rm(h, { recursive: true, force: true });
});

/** [name, config.yaml text (or bytes), what the error must mention] */
const CONFIG_CASES: [string, string | Buffer, RegExp][] = [
  ['invalid YAML: unclosed flow list', 'data: [unclosed\n', /config\.yaml:\d+: invalid YAML/],
  ['invalid YAML: tab indentation', 'data:\n\tsource: sim\n', /config\.yaml:\d+: invalid YAML/],
  ['duplicate key', 'data:\n  source: sim\n  source: csv\n', /config\.yaml:\d+: invalid YAML/],
  ['wrong type: data.source number', 'data:\n  source: 5\n', /config\.yaml:2: data\.source/],
  ['unknown top-level key', 'bogus_section: 1\n', /config\.yaml:1: .*bogus_section/],
  ['unknown nested key (typo)', 'data:\n  sourc: sim\n', /config\.yaml:\d+: .*sourc/],
  ['huge value: starting cash 1e300', 'paper_trading:\n  starting_cash: 1.0e+300\n', /config\.yaml:2: paper_trading\.starting_cash/],
  ['huge value: window 100000', 'model:\n  window: 100000\n', /config\.yaml:2: model\.window/],
  ['negative concurrency', 'resources:\n  max_concurrent_trainings: -1\n', /config\.yaml:2: resources\.max_concurrent_trainings/],
  ['string for a number', 'exchange:\n  timeout_ms: fast\n', /config\.yaml:2: exchange\.timeout_ms/],
  ['malformed symbol', 'universe:\n  symbols: [btc-usdt]\n', /config\.yaml:2: universe\.symbols/],
  ['bad enum: timeframe 2h', 'exchange:\n  timeframe: 2h\n', /config\.yaml:2: exchange\.timeframe/],
  ['list instead of a section', 'data: [1, 2]\n', /config\.yaml:1: data/],
  ['scalar document', 'just a string\n', /config\.yaml/],
  ['bad version string', 'model:\n  version: v1\n', /config\.yaml:2: model\.version/],
  ['NaN fee', 'paper_trading:\n  fee_rate: .nan\n', /config\.yaml:2: paper_trading\.fee_rate/],
  ['null list', 'universe:\n  symbols: null\n', /config\.yaml:2: universe\.symbols/],
  ['bad fallback_map value', 'model:\n  fallback_map:\n    NOVA/USDT: not-a-pair\n', /config\.yaml:3: model\.fallback_map/],
  ['api_base_url not a URL', 'exchange:\n  api_base_url: "::nope"\n', /config\.yaml:2: exchange\.api_base_url/],
  ['huge file: error on its last line', `${'# padding comment line\n'.repeat(200_000)}zzz_unknown: 1\n`, /config\.yaml:200001: .*zzz_unknown/],
  [
    'alias bomb (billion laughs)',
    `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n`,
    /config\.yaml: invalid YAML: Excessive alias count/,
  ],
  ['binary garbage', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256)), /config\.yaml/],
  ['boolean for a section', 'logging: true\n', /config\.yaml:1: logging/],
  ['huge integer heartbeat', 'heartbeat_interval_s: 99999999999999999999\n', /config\.yaml:1: heartbeat_interval_s/],
];

describe('hostile config.yaml', () => {
  it(`rejects ${CONFIG_CASES.length} malformed files naming file and key/line, changing nothing`, async () => {
    const h = await home('cfg');
    const failures: string[] = [];
    for (const [name, text, expected] of CONFIG_CASES) {
      const path = join(h, `config.yaml`);
      await writeFile(path, text);
      const before = await hashTree(h);
      const err = await loadConfig(path).then(
        () => null,
        (e: unknown) => e,
      );
      tally.tried++;
      if (!(err instanceof ConfigError)) failures.push(`${name}: expected a ConfigError, got ${err === null ? 'a valid config' : String(err)}`);
      else if (!expected.test(err.message)) failures.push(`${name}: message ${JSON.stringify(err.message.slice(0, 300))} does not match ${expected}`);
      expect(await hashTree(h), name).toEqual(before);
    }
    expect(failures).toEqual([]);
  });

  it('the CLI refuses a broken config.yaml with exit 2, the key and line, and writes nothing', async () => {
    const cases: [string, string[], string, RegExp][] = [
      ['run: wrong type', ['run', '--headless', '--iterations', '1'], 'data:\n  source: 5\n', /config\.yaml:2: data\.source/],
      ['run: invalid YAML', ['run', '--headless', '--iterations', '1'], 'universe:\n  symbols: [BTC/USDT\n', /config\.yaml:\d+: invalid YAML/],
      ['models: unknown key', ['models', '--json'], 'model:\n  windw: 16\n', /config\.yaml:2: .*windw/],
    ];
    for (const [name, args, text, expected] of cases) {
      const h = await home('cfgcli');
      await writeFile(join(h, 'config.yaml'), text);
      const before = await hashTree(h);
      const r = await runKilo(['--home', h, ...args]);
      tally.tried++;
      expect(r.code, `${name}: ${r.stderr}`).toBe(2);
      expect(r.stderr, name).toMatch(expected);
      expect(await hashTree(h), name).toEqual(before);
    }
  });
});

const HEADER = 'timestamp,open,high,low,close,volume';
const T0 = Date.UTC(2024, 0, 1);
const H = 3_600_000;
const row = (i: number, o = 100 + i): string => `${T0 + i * H},${o},${o + 2},${o - 2},${o + 1},10`;
const rows = (n: number): string[] => Array.from({ length: n }, (_, i) => row(i));

/** [file stem, text, expected problem in the `kilo data check --json` report, bad row line if any] */
const CSV_CASES: [string, string | Buffer, (r: Record<string, unknown[]>) => boolean, number | null][] = [
  ['AAA-USDT', ['time,o,h,l,c,v', ...rows(5)].join('\n'), (r) => r.bad_rows.length > 0, 1],
  ['BBB-USDT', [HEADER, ...rows(2), `${T0 + 2 * H},1,2,3,4`, ...rows(6).slice(3)].join('\n'), (r) => r.bad_rows.length > 0, 4],
  ['CCC-USDT', [HEADER, ...rows(3), `${T0 + 3 * H},1,2,0.5,abc,10`].join('\n'), (r) => r.bad_rows.length > 0, 5],
  ['DDD-USDT', [HEADER, row(0), `${T0 + H},1,,0.5,1,10`].join('\n'), (r) => r.bad_rows.length > 0, 3],
  ['EEE-USDT', [HEADER, row(0), `${T0 + H + 0.5},1,2,0.5,1,10`].join('\n'), (r) => r.bad_rows.length > 0, 3],
  ['FFF-USDT', [HEADER, ...rows(6).reverse()].join('\n'), (r) => r.out_of_order.length > 0, null],
  ['GGG-USDT', [HEADER, ...rows(3), row(2), ...rows(6).slice(3)].join('\n'), (r) => r.duplicates.length > 0, null],
  ['HHH-USDT', [HEADER, ...rows(3), `${T0 + 3 * H},0,0,0,0,10`].join('\n'), (r) => r.non_positive.length > 0, null],
  ['III-USDT', [HEADER, ...rows(3), `${T0 + 3 * H},-5,-1,-9,-4,10`].join('\n'), (r) => r.non_positive.length > 0, null],
  ['JJJ-USDT', [HEADER, ...rows(3), `${T0 + 3 * H},100,90,110,100,10`].join('\n'), (r) => r.inconsistent_ohlc.length > 0, null],
  ['KKK-USDT', [HEADER, ...rows(3), `${T0 + 3 * H + 1234},100,102,98,101,10`].join('\n'), (r) => r.off_grid.length > 0 || r.bad_rows.length > 0, null],
  ['LLL-USDT', [HEADER, ...rows(2), `${T0 + 2 * H},1,2,0.5,1,10,extra`].join('\r\n'), (r) => r.bad_rows.length > 0, 4],
  ['MMM-USDT', Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 31 + 7) % 256)), (r) => r.bad_rows.length > 0, null],
  ['NNN-USDT', [HEADER, ...rows(3), '#### not a row ####'].join('\n'), (r) => r.bad_rows.length > 0, 5],
];

describe('hostile candle CSV files', () => {
  it(`kilo data check reports ${CSV_CASES.length} broken files by name and line, the store refuses them, nothing changes`, async () => {
    const h = await home('csv');
    const dir = join(h, 'data', 'candles', 'binance');
    await mkdir(dir, { recursive: true });
    await writeFile(join(h, 'config.yaml'), 'data:\n  source: sim\n');
    for (const [stem, text] of CSV_CASES) await writeFile(join(dir, `${stem}-1h.csv`), text);
    await writeFile(join(dir, 'OK-USDT-1h.csv'), [HEADER, ...rows(5)].join('\n') + '\n');
    const before = await hashTree(h);
    const r = await runKilo(['--home', h, 'data', 'check', '--json']);
    expect(r.code, r.stderr).toBe(1); // some file failed
    const reports = JSON.parse(r.stdout) as (Record<string, unknown[]> & { file: string; ok: boolean; symbol: string })[];
    const failures: string[] = [];
    for (const [stem, , problem, line] of CSV_CASES) {
      tally.tried++;
      const rep = reports.find((x) => x.file.endsWith(`${stem}-1h.csv`));
      if (!rep) failures.push(`${stem}: no report`);
      else {
        if (rep.ok) failures.push(`${stem}: reported ok`);
        if (!problem(rep)) failures.push(`${stem}: expected problem missing in ${JSON.stringify(rep).slice(0, 300)}`);
        if (line !== null && !(rep.bad_rows as { line: number }[]).some((b) => b.line === line)) failures.push(`${stem}: bad row line ${line} not named`);
      }
    }
    expect(reports.find((x) => x.file.endsWith('OK-USDT-1h.csv'))?.ok).toBe(true);
    expect(failures).toEqual([]);
    expect(await hashTree(h)).toEqual(before);

    // The engine's candle store refuses rows it cannot parse with an error naming the file and line.
    const store = new CandleStore(join(h, 'data', 'candles'), new ManualClock(T0 + 10 * H));
    const err = await store.read('binance', 'BBB/USDT', '1h').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CsvFormatError);
    expect(String((err as Error).message)).toMatch(/BBB-USDT-1h\.csv: 1 bad row\(s\): line 4: expected 6 columns/);
    expect(await hashTree(h)).toEqual(before);
  });
});

/**
 * One side of the CSV memory bench, in its own process so its peak RSS is its own:
 *   whole:  the previous CsvMarketSource load (whole file as text -> candle objects -> validated
 *           and cleaned), then the range a live round and a training ask for;
 *   stream: today's CsvMarketSource (streaming index, ranges read by offset), same requests.
 * Prints one JSON line: {mode, maxRssMb, ms, candles}.
 */
import { dirname, basename } from 'node:path';
import { ManualClock } from '../src/clock.js';
import { readCandleCsv } from '../src/market/csv.js';
import { cleanCandles, validateCandles } from '../src/market/validate.js';
import { CsvMarketSource } from '../src/market/csv-source.js';
import { fileStemToSymbol } from '../src/market/types.js';

const [mode, file] = process.argv.slice(2);
const H = 3_600_000;
const t0 = performance.now();
let got = 0;
if (mode === 'whole') {
  const parsed = await readCandleCsv(file);
  validateCandles(parsed.candles, '1h', { file, badRows: parsed.badRows });
  const all = cleanCandles(parsed.candles, '1h');
  const end = all[all.length - 1].timestamp;
  got = all.filter((c) => c.timestamp >= end - 500 * H).length + all.filter((c) => c.timestamp >= end - 365 * 24 * H).length;
} else {
  const symbol = fileStemToSymbol(basename(file).replace(/-1h\.csv$/, ''));
  const src = new CsvMarketSource(dirname(file), new ManualClock(Number.MAX_SAFE_INTEGER / 2));
  const r = await src.range(symbol, '1h');
  got = (await src.fetchCandles(symbol, '1h', r.last! - 500 * H, r.last! + H)).length + (await src.fetchCandles(symbol, '1h', r.last! - 365 * 24 * H, r.last! + H)).length;
}
const ms = performance.now() - t0;
process.stdout.write(`${JSON.stringify({ mode, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024), ms: Math.round(ms), candles: got })}\n`);

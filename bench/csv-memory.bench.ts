/**
 * CSV memory (issue 17 item 10): peak RSS of loading a large candle file the old way (whole text ->
 * objects) against the streaming index, each side in its own process, interleaved, medians of 3.
 * The file is written once to the temp folder: KILO_BENCH_CSV_MB (default 500) of hourly rows
 * from the project's seeded simulator. The same requests on both sides: the last 500 candles (a
 * live round's warm-up) and the last 365 days (a training).
 */
import { existsSync, statSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { ManualClock } from '../src/clock.js';
import { SimMarketSource } from '../src/market/sim-source.js';
import { CSV_HEADER } from '../src/market/csv.js';

const H = 3_600_000;
const targetMb = Number(process.env.KILO_BENCH_CSV_MB ?? 500);
const dir = join(tmpdir(), `kilo-bench-csv-${targetMb}mb`);
const file = join(dir, 'BIG-USDT-1h.csv');

if (!existsSync(file) || statSync(file).size < targetMb * 0.95e6) {
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  // One simulated year of BTC, repeated with shifted timestamps until the file has the size asked.
  const year = await new SimMarketSource(42, new ManualClock(Date.UTC(2020, 0, 1))).fetchCandles('BTC/USDT', '1h', Date.UTC(2019, 0, 1), Date.UTC(2020, 0, 1));
  const out = createWriteStream(file);
  out.write(`${CSV_HEADER}\n`);
  let bytes = 0;
  let t = Date.UTC(1990, 0, 1);
  while (bytes < targetMb * 1e6) {
    let chunk = '';
    for (const c of year) {
      chunk += `${t},${c.open},${c.high},${c.low},${c.close},${c.volume}\n`;
      t += H;
    }
    bytes += chunk.length;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  console.log(`wrote ${file}: ${(statSync(file).size / 1e6).toFixed(0)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

const child = (mode: string): { maxRssMb: number; ms: number; candles: number } => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'csv-memory-child.ts'), mode, file], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${mode}: exit ${r.status}: ${r.stderr.slice(-500)}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const runs: Record<string, { maxRssMb: number; ms: number; candles: number }[]> = { whole: [], stream: [] };
for (let i = 0; i < 3; i++) for (const m of ['whole', 'stream']) runs[m].push(child(m));
const load = (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').trim();
console.log(`csv ${(statSync(file).size / 1e6).toFixed(0)} MB, ${runs.whole[0].candles === runs.stream[0].candles ? 'same candles both sides' : 'CANDLES DIFFER'} (${runs.stream[0].candles}); load average ${load}`);
for (const m of ['whole', 'stream']) {
  console.log(`  ${m === 'whole' ? 'before (whole file)' : 'after (streamed)  '}: peak RSS median ${median(runs[m].map((r) => r.maxRssMb))} MB (runs ${runs[m].map((r) => r.maxRssMb).join('/')}), time median ${median(runs[m].map((r) => r.ms))} ms`);
}

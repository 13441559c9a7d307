/**
 * Where one GRU/LSTM training epoch's time goes, on the bench's real BTC/USDT windows (batch 256,
 * 64 units): the native kernel's own phase counters (TSC ticks per GEMM / gate / head / Adam
 * phase, read with profile()) against the epoch's wall time, the rest being JS around the kernel
 * (batch assembly, the per-batch yield). Run: `npx tsx bench/gru-profile.ts` (BENCH_CELLS,
 * BENCH_ISAS=avx2,avx512 to pick). Not part of `npm run bench`: it explains the figures there.
 */
import { loadavg } from 'node:os';
import { initTf } from '../src/models/tf-backend.js';
import { trainRnn, type RnnCell } from '../src/models/rnn/index.js';
import { loadedModule, nativeIsas, setNativeIsa, useNativeRnn } from '../src/native/rnn.js';
import { realWindows, UNITS } from './gru-data.js';

const CELLS = (process.env.BENCH_CELLS ?? 'gru,lstm').split(',') as RnnCell[];
const { tf } = await initTf();
if (!useNativeRnn()) {
  console.log('native kernels are not loaded: nothing to profile');
  process.exit(0);
}
const ISAS = (process.env.BENCH_ISAS?.split(',') as ('avx2' | 'avx512')[] | undefined) ?? nativeIsas();
const data = realWindows();
const per = data.window * data.nFeatures;
const val = { ...data, n: 256, x: data.x.subarray(0, 256 * per), y: data.y.subarray(0, 256) };
const mod = loadedModule();
console.log(`N=${data.n} windows [${data.window} x ${data.nFeatures}], ${UNITS} units, batch 256, one epoch; load average ${loadavg()[0].toFixed(1)}`);
for (const isa of ISAS) {
  setNativeIsa(isa);
  for (const cell of CELLS) {
    // A warm-up epoch (page faults of the workspace, JIT), then the measured one.
    (await trainRnn(tf, data, val, { cell, units: UNITS, epochs: 1, batchSize: 256, seed: 1 })).model.dispose();
    mod.profile();
    const r = await trainRnn(tf, data, val, { cell, units: UNITS, epochs: 1, batchSize: 256, seed: 1 });
    const { tscHz, phases } = mod.profile();
    r.model.dispose();
    const totalMs = (data.n / r.windowsPerSecond) * 1000;
    console.log(`\n${isa} ${cell.toUpperCase()}(${UNITS}): ${Math.round(r.windowsPerSecond)} windows/s, epoch ${totalMs.toFixed(0)} ms`);
    let inKernel = 0;
    for (const [name, ticks] of Object.entries(phases)) {
      const ms = (ticks / tscHz) * 1000;
      inKernel += ms;
      console.log(`  ${name.padEnd(24)} ${ms.toFixed(0).padStart(6)} ms ${((100 * ms) / totalMs).toFixed(1).padStart(5)} %`);
    }
    const rest = totalMs - inKernel;
    console.log(`  ${'rest (JS, copies, yield)'.padEnd(24)} ${rest.toFixed(0).padStart(6)} ms ${((100 * rest) / totalMs).toFixed(1).padStart(5)} %`);
  }
}

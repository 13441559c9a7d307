/** One GRU/LSTM training epoch in a worker thread, for bench/gru.bench.ts's two-trainings figure. */
import { parentPort, workerData } from 'node:worker_threads';
import { initTf } from '../src/models/tf-backend.js';
import { trainRnn, type RnnCell } from '../src/models/rnn/index.js';
import { randomData, UNITS } from './gru-data.js';

const { cell, n, batch, seed } = workerData as { cell: RnnCell; n: number; batch: number; seed: number };
const { tf } = await initTf();
const r = await trainRnn(tf, randomData(n, seed), randomData(256, seed + 100), { cell, units: UNITS, epochs: 1, batchSize: batch, seed });
r.model.dispose();
parentPort!.postMessage({ windowsPerSecond: r.windowsPerSecond });

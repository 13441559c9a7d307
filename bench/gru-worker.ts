/** One GRU/LSTM training epoch in a worker thread, for bench/gru.bench.ts's two-trainings figure. */
import { parentPort, workerData } from 'node:worker_threads';
import { initTf } from '../src/models/tf-backend.js';
import { trainRnn, type RnnCell } from '../src/models/rnn/index.js';
import type { SequenceData } from '../src/models/rnn/index.js';
import { UNITS } from './gru-data.js';

const { cell, batch, seed, data } = workerData as { cell: RnnCell; batch: number; seed: number; data: SequenceData };
const { tf } = await initTf();
const per = data.window * data.nFeatures;
const val = { ...data, n: 256, x: data.x.subarray(0, 256 * per), y: data.y.subarray(0, 256) };
const r = await trainRnn(tf, data, val, { cell, units: UNITS, epochs: 1, batchSize: batch, seed });
r.model.dispose();
parentPort!.postMessage({ windowsPerSecond: r.windowsPerSecond });

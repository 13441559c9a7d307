/**
 * A training job's helper thread (src/training/pipeline-units.ts): started by the job's worker when
 * the pool granted the job more than one thread. It builds the job's training data from the same
 * candles, then claims units from the job's shared counter until none is left, posting each
 * result (buffers moved, not copied). It never writes a file: the job's thread saves the artifact.
 * A helper that finished cleanly may serve its worker's next job (a new init replaces the data).
 */
import { parentPort } from 'node:worker_threads';
import { lowerThreadPriority } from '../util/worker.js';
import { columnsToCandles } from './pipeline-data.js';
import { gateWindow } from './pipeline.js';
import { stageFor } from './pipeline-stage.js';
import { claim, jobContext, jobTrainingData, portableTransfer, runUnit, toPortable, type FromHelper, type JobContext, type ToHelper } from './pipeline-units.js';

if (!parentPort) throw new Error('unit-worker must run inside a worker thread');
const port = parentPort;
lowerThreadPriority();
const controller = new AbortController();
let ctx: Promise<JobContext> | null = null;
const post = (m: FromHelper, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

port.on('message', (m: ToHelper) => {
  if (m.type === 'cancel') {
    controller.abort(new Error('cancelled'));
    return;
  }
  if (m.type === 'init') {
    ctx = (async () => {
      const spec = m.spec;
      // Load the kinds' code (tfjs for the networks) while the job's thread builds its features.
      await Promise.all(spec.models.map((k) => stageFor(k)));
      const symbols = spec.symbols.map((s) => ({ symbol: s, candles: columnsToCandles(spec.candles.find((c) => c.symbol === s)!) }));
      return jobContext(spec, symbols, jobTrainingData(spec, symbols, gateWindow(spec, symbols)?.rows));
    })();
    // An init that fails is reported when the units arrive.
    ctx.catch(() => undefined);
    return;
  }
  void work(m.units, new Int32Array(m.counter)).then(
    () => {
      // The job's data goes now: a helper may wait a while for its worker's next job.
      ctx = null;
      post({ type: 'idle' });
    },
    (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      post({ type: 'failed', unit: null, error: e.message, stack: e.stack });
    },
  );
});

async function work(units: Extract<ToHelper, { type: 'units' }>['units'], counter: Int32Array): Promise<void> {
  if (!ctx) throw new Error('a training helper got units before the job');
  const c = await ctx;
  for (let i = claim(counter); i < units.length; i = claim(counter)) {
    if (controller.signal.aborted) return;
    const unit = i;
    try {
      const r = toPortable(
        await runUnit(c, units[unit], {
          signal: controller.signal,
          report: (fraction, epoch, epochs, loss, valMetric) => post({ type: 'progress', unit, fraction, epoch, epochs, loss, valMetric }),
          log: (message) => post({ type: 'log', unit, message }),
        }),
      );
      post({ type: 'result', unit, result: r }, portableTransfer(r));
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      post({ type: 'failed', unit, error: e.message, stack: e.stack });
      return;
    }
  }
}

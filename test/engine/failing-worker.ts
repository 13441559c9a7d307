/** A training worker that fails every job: exercises the real worker path of a failed retrain. */
import { parentPort } from 'node:worker_threads';

parentPort!.on('message', (m: { type: string }) => {
  if (m.type !== 'start') return;
  parentPort!.postMessage({ type: 'failed', error: 'injected training failure' });
  parentPort!.close();
});

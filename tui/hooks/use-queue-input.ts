import type { EngineApi, JobView } from '../../src/engine-api.js';
import { useKeymapInput } from './use-keymap-input.js';
import { useRunCommand, type Report } from './use-report.js';

export interface QueueInput {
  engine: EngineApi;
  jobs: readonly JobView[];
  index: number;
  setIndex: (update: (i: number) => number) => void;
  /** The heartbeat selection, used when the queue is empty. */
  selectedSymbol: string | null;
  report: Report;
  active: boolean;
}

export function useQueueInput({ engine, jobs, index, setIndex, selectedSymbol, report, active }: QueueInput): void {
  const run = useRunCommand(report);
  const job = jobs[index];
  const symbol = job?.symbol ?? selectedSymbol;
  const needSymbol = (fn: (s: string) => void) => () =>
    symbol ? fn(symbol) : report({ ok: false, message: 'no symbol: select one on the heartbeat panel' });
  const needJob = (fn: (j: JobView) => void) => () => (job ? fn(job) : report({ ok: false, message: 'no job highlighted' }));
  useKeymapInput(
    'queue',
    {
      'row.up': () => setIndex((i) => Math.max(0, Math.min(i, jobs.length - 1) - 1)),
      'row.down': () => setIndex((i) => Math.max(0, Math.min(jobs.length - 1, i + 1))),
      'job.trainNow': needSymbol((s) => run(() => engine.train({ symbol: s, force: true, reason: 'operator: train now' }))),
      'job.cancel': needJob((j) => run(() => engine.cancelJob(j.id))),
      'job.priorityUp': needJob((j) => run(() => engine.reprioritize(j.id, 1))),
      'job.priorityDown': needJob((j) => run(() => engine.reprioritize(j.id, -1))),
      'symbol.block': needSymbol((s) => run(() => engine.block(s, 'blocked by operator'))),
      'symbol.unblock': needSymbol((s) => run(() => engine.unblock(s))),
    },
    active,
  );
}

/**
 * The one contract the trainer sees, whichever backend trains: local worker threads (WorkerPool)
 * or BullMQ jobs run by `kilo worker` processes (BullmqPool). Both take a job spec and resolve
 * with a TrainResult whose artifactDir is in the engine's own models/ folder.
 */
import type { RunOptions } from '../training/pool.js';
import type { QueueEntry } from '../training/queue.js';
import type { TrainJobSpec, TrainResult } from '../training/protocol.js';

export interface BackendRunOptions extends RunOptions {
  /**
   * The queue entry this run is an attempt of. A remote backend derives the job id from it
   * (entry id + attempt) and re-attaches to `remote_job_id` after an engine restart.
   */
  queueEntry?: Pick<QueueEntry, 'id' | 'attempts' | 'remote_job_id'>;
}

export interface TrainingBackend {
  run(job: TrainJobSpec, ro?: BackendRunOptions): Promise<TrainResult>;
  close(): Promise<void>;
  /**
   * Engine shutdown: from now on an abort leaves remote jobs running (the next start re-attaches)
   * instead of cancelling them. Local worker threads have nothing to leave running.
   */
  detachOnAbort?(): void;
}

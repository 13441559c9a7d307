/**
 * May another training start now? Pure. Refuses, with the numbers: a second training of the same
 * symbol, more than maxConcurrent at once, a model that would push models/ past the storage limit,
 * and too little free memory. (The training timeout is enforced by the worker pool.)
 */
export interface ResourceCheckInput {
  /** Symbols being trained right now. */
  running: readonly string[];
  symbol: string;
  maxConcurrent: number;
  storageUsedBytes: number;
  storageLimitMb: number;
  /** Size of a typical artifact (e.g. the median of existing ones). */
  expectedArtifactBytes: number;
  freeMemBytes: number;
  minFreeMemMb: number;
}

/** Why a training may not start; callers branch on this, the reason is for people. */
export type ResourceKind = 'ok' | 'symbol_busy' | 'max_concurrent' | 'storage' | 'memory';

export interface ResourceDecision {
  ok: boolean;
  kind: ResourceKind;
  reason: string;
}

const MB = 1024 * 1024;
const mb = (b: number): string => `${(b / MB).toFixed(1)} MB`;

export function canStartTraining(i: ResourceCheckInput): ResourceDecision {
  if (i.running.includes(i.symbol)) return { ok: false, kind: 'symbol_busy', reason: `${i.symbol} is already training` };
  if (i.running.length >= i.maxConcurrent) return { ok: false, kind: 'max_concurrent', reason: `${i.running.length} trainings running, max ${i.maxConcurrent} (resources.max_concurrent_trainings)` };
  const after = i.storageUsedBytes + i.expectedArtifactBytes;
  if (after > i.storageLimitMb * MB) {
    return { ok: false, kind: 'storage', reason: `models would use ${mb(after)} > ${i.storageLimitMb} MB limit (resources.storage_limit_mb); run cleanup` };
  }
  if (i.freeMemBytes < i.minFreeMemMb * MB) {
    return { ok: false, kind: 'memory', reason: `free memory ${mb(i.freeMemBytes)} < ${i.minFreeMemMb} MB (resources.min_free_memory_mb)` };
  }
  return { ok: true, kind: 'ok', reason: `${i.running.length + 1}/${i.maxConcurrent} slots, storage ${mb(after)}/${i.storageLimitMb} MB, free memory ${mb(i.freeMemBytes)}` };
}

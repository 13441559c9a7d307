import { describe, expect, it } from 'vitest';
import { canStartTraining, type ResourceCheckInput } from '../../src/policy/resources.js';

const MB = 1024 * 1024;
const base: ResourceCheckInput = {
  running: ['BTC/USDT'],
  symbol: 'SOL/USDT',
  maxConcurrent: 2,
  storageUsedBytes: 40 * MB,
  storageLimitMb: 100,
  expectedArtifactBytes: 5 * MB,
  freeMemBytes: 2048 * MB,
  minFreeMemMb: 512,
};

describe('canStartTraining', () => {
  it('allows a training within every limit and says how close it is', () => {
    expect(canStartTraining(base)).toEqual({ ok: true, kind: 'ok', reason: '2/2 slots, storage 45.0 MB/100 MB, free memory 2048.0 MB' });
  });
  it('never runs two trainings of one symbol', () => {
    expect(canStartTraining({ ...base, symbol: 'BTC/USDT' })).toEqual({ ok: false, kind: 'symbol_busy', reason: 'BTC/USDT is already training' });
  });
  it('respects max concurrent trainings', () => {
    expect(canStartTraining({ ...base, running: ['BTC/USDT', 'ETH/USDT'] })).toEqual({ ok: false, kind: 'max_concurrent', reason: '2 trainings running, max 2 (resources.max_concurrent_trainings)' });
  });
  it('refuses when the new model would pass the storage limit (exactly at the limit is fine)', () => {
    expect(canStartTraining({ ...base, storageUsedBytes: 95 * MB }).ok).toBe(true);
    expect(canStartTraining({ ...base, storageUsedBytes: 95 * MB + 1 })).toEqual({
      ok: false,
      kind: 'storage',
      reason: 'models would use 100.0 MB > 100 MB limit (resources.storage_limit_mb); run cleanup',
    });
  });
  it('refuses when free memory is too low', () => {
    expect(canStartTraining({ ...base, freeMemBytes: 300 * MB })).toEqual({ ok: false, kind: 'memory', reason: 'free memory 300.0 MB < 512 MB (resources.min_free_memory_mb)' });
  });
});

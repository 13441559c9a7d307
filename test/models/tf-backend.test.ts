import { describe, expect, it } from 'vitest';
import { detectBackend, initTf } from '../../src/models/tf-backend.js';

describe('tf backend', () => {
  it('detects and initialises wasm here (tfjs-node cannot install), idempotently', async () => {
    const d = await detectBackend();
    expect(d.tfjsNode).toBe(false);
    expect(d.wasmFiles).toBe(true);
    expect(d.backend).toBe('wasm');
    expect(d.reason).toMatch(/tfjs-node unavailable/);
    const a = await initTf();
    expect(a.backend).toBe('wasm');
    expect(a.tf.getBackend()).toBe('wasm');
    expect(a.reason).toMatch(/tensorflow unavailable .*; wasm with SIMD/);
    const b = await initTf();
    expect(b).toBe(a);
    const s = a.tf.tidy(() => a.tf.tensor1d([1, 2, 3]).square().sum().dataSync()[0]);
    expect(s).toBe(14);
  });

  it('honours prefer: cpu, then switches back to wasm on request', async () => {
    const c = await initTf({ prefer: 'cpu' });
    expect(c.backend).toBe('cpu');
    expect(c.tf.getBackend()).toBe('cpu');
    expect(c.reason).toBe('cpu');
    const w = await initTf({ prefer: 'wasm' });
    expect(w.backend).toBe('wasm');
    expect(w.tf.getBackend()).toBe('wasm');
  });
});

/** The queue panel names the `kilo worker` running a remote job (JobProgress.worker). */
import { describe, expect, it } from 'vitest';
import { FakeEngine, jobView, symbolRow } from '../helpers/fake-engine.js';
import { press, renderApp, waitForFrame } from '../tui/helpers.js';

describe('queue panel with a remote job', () => {
  it('shows the worker name beside the phase, with epoch, loss and ETA; a local job names none', async () => {
    const remote = jobView('7', 'BTC/USDT', {
      state: 'running',
      attempts: 1,
      progress: { phase: 'gru', epoch: 3, epochs: 10, loss: 0.6931, valMetric: 0.512, fraction: 0.3, etaS: 95, worker: 'gpu-box-2' },
    });
    const local = jobView('8', 'ETH/USDT', { state: 'running', progress: { phase: 'gbdt', epoch: 1, epochs: 0, loss: null, valMetric: null, fraction: 0.1, etaS: 5 } });
    const engine = new FakeEngine({ symbols: [symbolRow('BTC/USDT'), symbolRow('ETH/USDT')], jobs: [remote, local] });
    const r = renderApp(engine, { size: { columns: 120, rows: 30 } });
    await waitForFrame(r, 'BTC/USDT');
    await press(r, '3');
    const f = await waitForFrame(r, 'phase gru on worker gpu-box-2');
    expect(f).toContain('3/10');
    expect(f).toContain('0.6931');
    expect(f).toContain('1m35s');
    engine.update({ jobs: [local] });
    const g = await waitForFrame(r, 'job 8 ETH/USDT');
    expect(g).toContain('phase gbdt');
    expect(g).not.toContain('on worker');
    r.unmount();
  });
});

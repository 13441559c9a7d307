import { describe, expect, it } from 'vitest';
import { FakeEngine, jobView, modelView, symbolRow } from '../helpers/fake-engine.js';
import { KEYS, press, renderApp, waitFor, waitForFrame } from './helpers.js';

const twoSymbols = () => [symbolRow('BTC/USDT'), symbolRow('ETH/USDT')];

describe('models panel', () => {
  const models = [
    modelView('1.1', {
      selected: true,
      servingSymbols: ['BTC/USDT'],
      verdict: { kind: 'serving', reason: 'serves BTC/USDT (highest score)' },
      score: { symbols: 0.5, recency: 0.4, version: 0.11, total: 1.01 },
    }),
    modelView('1.0', { servingSymbols: ['ETH/USDT'], verdict: { kind: 'serving', reason: 'serves ETH/USDT (promoted for them)' }, score: { symbols: 0.5, recency: 0.2, version: 0.1, total: 0.8 } }),
    modelView('0.9', { compatible: false, rejectReason: 'feature schema hash differs', score: null, verdict: { kind: 'rejected', reason: 'rejected: feature schema hash differs' } }),
  ];
  const served = () => [symbolRow('BTC/USDT', { modelVersion: '1.1' }), symbolRow('ETH/USDT', { modelVersion: '1.0' })];

  it('shows versions, the version serving each symbol, the score breakdown and why the others lost', async () => {
    const engine = new FakeEngine({ symbols: served(), models, selectedVersion: '1.1' });
    const r = renderApp(engine, { size: { columns: 200, rows: 30 } });
    await waitForFrame(r, 'BTC/USDT');
    await press(r, '2');
    let f = await waitForFrame(r, '1.1: serves BTC/USDT (highest score)');
    expect(f).toContain('score = symbols 0.500 + recency 0.400 + version 0.110 = 1.010');
    // Every model says what it was trained on (its provenance), in the panel too.
    expect(f).toContain('trained on exchange binance via api.binance.com');
    expect(f).toMatch(/Serving: BTC\/USDT 1\.1\s+ETH\/USDT 1\.0/);
    // At 200 columns nothing of the score or the symbol list is cut.
    expect(f).toMatch(/1\.1\s+serves 1\s+single\s+BTC\/USDT\s/);
    expect(f).toContain('1.010');
    expect(f).not.toContain('…');
    await press(r, KEYS.down);
    f = await waitForFrame(r, '1.0: serves ETH/USDT (promoted for them)');
    await press(r, KEYS.down);
    f = await waitForFrame(r, '0.9: rejected: feature schema hash differs');
    expect(f).toMatch(/0\.9\s+.*no/);
    r.unmount();
  });

  it('Enter pins the highlighted version, p unpins, r retrains the heartbeat selection', async () => {
    const engine = new FakeEngine({ symbols: twoSymbols(), models });
    const r = renderApp(engine);
    await waitForFrame(r, 'BTC/USDT');
    await press(r, KEYS.down); // heartbeat: select ETH/USDT
    await waitForFrame(r, 'selected ETH/USDT');
    await press(r, '2');
    await waitForFrame(r, '[2 Models]');
    await press(r, KEYS.down);
    await waitForFrame(r, '1.0: serves ETH');
    await press(r, KEYS.enter);
    await waitFor(() => engine.callsNamed('pinModel').length === 1, 'pinModel');
    expect(engine.callsNamed('pinModel')[0].version).toBe('1.0');
    await waitForFrame(r, 'pinModel ok');
    await press(r, 'p');
    await waitFor(() => engine.callsNamed('pinModel').length === 2, 'unpin');
    expect(engine.callsNamed('pinModel')[1].version).toBeNull();
    await press(r, 'r');
    await waitFor(() => engine.callsNamed('train').length === 1, 'train');
    expect(engine.callsNamed('train')[0].req).toMatchObject({ symbol: 'ETH/USDT', force: true });
    await press(r, 'R');
    await waitFor(() => engine.callsNamed('rollback').length === 1, 'rollback');
    expect(engine.callsNamed('rollback')[0].symbol).toBe('ETH/USDT');
    r.unmount();
  });
});

describe('queue panel', () => {
  const jobs = [
    jobView('7', 'BTC/USDT', {
      state: 'running',
      priority: 2,
      attempts: 1,
      progress: { phase: 'gru', epoch: 3, epochs: 10, loss: 0.6931, valMetric: 0.512, fraction: 0.3, etaS: 95 },
      lossHistory: [1.1, 0.9, 0.6931],
    }),
    jobView('8', 'SOL/USDT', { state: 'failed', attempts: 3, lastError: 'worker ran out of memory' }),
  ];

  it('shows jobs with progress, epoch, loss, ETA, attempts and last error', async () => {
    const engine = new FakeEngine({ symbols: twoSymbols(), jobs });
    const r = renderApp(engine, { size: { columns: 120, rows: 30 } });
    await waitForFrame(r, 'BTC/USDT');
    await press(r, '3');
    const f = await waitForFrame(r, 'Training, job 7 (gru)');
    expect(f).toContain('30%');
    expect(f).toContain('3/10');
    expect(f).toContain('0.6931');
    expect(f).toContain('1m35s');
    expect(f).toContain('worker ran out');
    expect(f).toContain('loss 0.6931 (min 0.6931, max 1.1000)');
    // The chart has a y axis with the loss values.
    expect(f).toMatch(/1\.1000 [┤┼]/);
    expect(f).toMatch(/0\.6931 [┤┼]/);
    r.unmount();
  });

  it('the progress bar follows job events pushed into the store', async () => {
    const engine = new FakeEngine({ symbols: twoSymbols(), jobs: [jobs[0]] });
    const r = renderApp(engine);
    await waitForFrame(r, 'BTC/USDT');
    await press(r, '3');
    await waitForFrame(r, '30%');
    engine.update({ jobs: [{ ...jobs[0], progress: { ...jobs[0].progress!, epoch: 8, fraction: 0.8 } }] });
    await waitForFrame(r, '80%');
    engine.update({ jobs: [{ ...jobs[0], state: 'done', progress: null }] });
    const f = await waitForFrame(r, 'done');
    expect(f).toContain('100%');
    r.unmount();
  });

  it('t x + - b u call the right engine commands for the highlighted job', async () => {
    const engine = new FakeEngine({ symbols: twoSymbols(), jobs });
    const r = renderApp(engine);
    await waitForFrame(r, 'BTC/USDT');
    await press(r, '3');
    await waitForFrame(r, 'job 7 BTC/USDT');
    await press(r, KEYS.down);
    await waitForFrame(r, 'job 8 SOL/USDT');
    for (const k of ['t', 'x', '+', '-', 'b', 'u']) await press(r, k);
    await waitFor(() => engine.calls.length === 6, 'six commands');
    expect(engine.calls).toEqual([
      { name: 'train', req: { symbol: 'SOL/USDT', force: true, reason: 'operator: train now' } },
      { name: 'cancelJob', jobId: '8' },
      { name: 'reprioritize', jobId: '8', delta: 1 },
      { name: 'reprioritize', jobId: '8', delta: -1 },
      { name: 'block', symbol: 'SOL/USDT', reason: 'blocked by operator' },
      { name: 'unblock', symbol: 'SOL/USDT' },
    ]);
    r.unmount();
  });

  it('an empty queue trains the heartbeat selection and reports a refused command', async () => {
    const engine = new FakeEngine({ symbols: twoSymbols() });
    engine.result = () => ({ ok: false, message: 'ETH/USDT is blocked' });
    const r = renderApp(engine);
    await waitForFrame(r, 'BTC/USDT');
    await press(r, KEYS.down);
    await waitForFrame(r, 'selected ETH/USDT');
    await press(r, '3');
    await waitForFrame(r, 'queue empty; t trains ETH/USDT now');
    await press(r, 't');
    await waitForFrame(r, 'error: ETH/USDT is blocked');
    expect(engine.callsNamed('train')[0].req.symbol).toBe('ETH/USDT');
    await press(r, 'x');
    await waitForFrame(r, 'error: no job highlighted');
    expect(engine.callsNamed('cancelJob')).toHaveLength(0);
    r.unmount();
  });
});

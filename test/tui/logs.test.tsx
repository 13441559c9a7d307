import { describe, expect, it } from 'vitest';
import { FakeEngine, symbolRow } from '../helpers/fake-engine.js';
import { KEYS, press, renderApp, waitForFrame } from './helpers.js';
import { filterLogs } from '../../tui/screens/logs.js';
import { mergeLogs } from '../../tui/hooks/use-log-buffer.js';
import type { LogEntry } from '../../src/engine-api.js';

const entry = (seq: number, level: LogEntry['level'], message: string): LogEntry => ({ seq, at: 0, level, message });

describe('log filtering (pure)', () => {
  it('filters by minimum level and case-insensitive text', () => {
    const es = [entry(1, 'debug', 'tick'), entry(2, 'info', 'BTC signal'), entry(3, 'warn', 'slow fetch'), entry(4, 'error', 'btc worker died')];
    expect(filterLogs(es, 'info', '').map((e) => e.seq)).toEqual([2, 3, 4]);
    expect(filterLogs(es, 'warn', '').map((e) => e.seq)).toEqual([3, 4]);
    expect(filterLogs(es, 'debug', 'btc').map((e) => e.seq)).toEqual([2, 4]);
  });

  it('the buffer keeps order, drops duplicates and is bounded', () => {
    let b = mergeLogs([], [entry(2, 'info', 'b'), entry(1, 'info', 'a')], 3);
    b = mergeLogs(b, [entry(2, 'info', 'b'), entry(3, 'info', 'c'), entry(4, 'info', 'd')], 3);
    expect(b.map((e) => e.seq)).toEqual([2, 3, 4]);
  });
});

describe('logs panel', () => {
  it('tails log events, cycles the level filter and searches', async () => {
    const engine = new FakeEngine({ symbols: [symbolRow('BTC/USDT')], logs: [entry(1, 'debug', 'engine booting')] });
    engine['logSeq'] = 1;
    const r = renderApp(engine);
    await waitForFrame(r, 'BTC/USDT');
    // Logged while another panel is shown: must still be in the pane.
    engine.log('info', 'heartbeat round 1');
    engine.log('warn', 'ccxt retry 1/5', 'SOL/USDT');
    engine.log('error', 'training failed: out of memory', 'ETH/USDT');
    await press(r, '4');
    let f = await waitForFrame(r, 'training failed');
    expect(f).toContain('engine booting');
    expect(f).toContain('4/4 lines');
    await press(r, 'l');
    f = await waitForFrame(r, 'level >= info');
    expect(f).not.toContain('engine booting');
    await press(r, 'l');
    f = await waitForFrame(r, 'level >= warn');
    expect(f).not.toContain('heartbeat round 1');
    expect(f).toContain('ccxt retry');
    await press(r, '/');
    await waitForFrame(r, (fr) => fr.split('\n').some((l) => l.startsWith('/')));
    // While typing, global keys (q, 1-4) are text, not commands.
    await press(r, 'o', 'u', 't', ' ', 'o', 'f', ' ', 'm', 'q');
    await waitForFrame(r, '/out of mq');
    await press(r, KEYS.backspace, KEYS.backspace, 'm');
    await waitForFrame(r, (fr) => /^\/out of m\s*$/m.test(fr));
    await press(r, KEYS.enter);
    f = await waitForFrame(r, 'search: "out of m"');
    expect(f).toContain('1/4 lines');
    expect(f).not.toContain('ccxt retry');
    expect(engine.callsNamed('stop')).toHaveLength(0);
    await press(r, KEYS.esc);
    f = await waitForFrame(r, 'search: (none)');
    expect(f).toContain('ccxt retry');
    r.unmount();
  });
});

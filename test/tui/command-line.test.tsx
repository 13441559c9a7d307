/**
 * The console's command line: a cursor that moves (←/→, Home/End, Ctrl+A/E, by word), history
 * (↑/↓), Tab completion of commands, symbols, job ids and versions; `:help`; an error on the status
 * line that Esc dismisses. Pure editing first, then the real App against a FakeEngine.
 */
import { describe, expect, it } from 'vitest';
import { FakeEngine, jobView, modelView, symbolRow } from '../helpers/fake-engine.js';
import { KEYS, press, renderApp, waitFor, waitForFrame } from './helpers.js';
import { completeLine, editLine, historyStep, type LineState } from '../../tui/components/line-edit.js';
import { applyTyped } from '../../tui/components/text-input.js';
import { commandCandidates } from '../../tui/commands.js';

const K = { ...KEYS, left: '\u001B[D', right: '\u001B[C', home: '\u001B[H', end: '\u001B[F', ctrlA: '\u0001', ctrlE: '\u0005', ctrlW: '\u0017', ctrlK: '\u000B' };

describe('line editing (pure)', () => {
  const at = (text: string, cursor: number): LineState => ({ text, cursor });
  it('inserts and deletes at the cursor, moves by character and word', () => {
    expect(editLine(at('pin 10', 5), { type: 'insert', text: '.' })).toEqual(at('pin 1.0', 6));
    expect(editLine(at('train x', 6), { type: 'backspace' })).toEqual(at('trainx', 5));
    expect(editLine(at('train x', 0), { type: 'backspace' })).toEqual(at('train x', 0));
    expect(editLine(at('train x', 0), { type: 'delete' })).toEqual(at('rain x', 0));
    expect(editLine(at('ab', 2), { type: 'right' })).toEqual(at('ab', 2));
    expect(editLine(at('ab', 0), { type: 'left' })).toEqual(at('ab', 0));
    expect(editLine(at('block BTC/USDT too', 18), { type: 'wordLeft' }).cursor).toBe(15);
    expect(editLine(at('block BTC/USDT too', 0), { type: 'wordRight' }).cursor).toBe(5);
    expect(editLine(at('block BTC/USDT too', 14), { type: 'killWord' })).toEqual(at('block  too', 6));
    expect(editLine(at('block BTC/USDT', 5), { type: 'killEnd' })).toEqual(at('block', 5));
    // A pasted chunk with DEL in it deletes as typed keys would.
    expect(applyTyped('trainn', 'x\u007F\u007F BTC')).toBe('train BTC');
  });

  it('history: ↑ goes to older entries keeping the draft, ↓ past the newest brings the draft back', () => {
    const h = ['train BTC/USDT', 'pin 1.0'];
    const up1 = historyStep(h, { at: null, draft: '' }, 'blo', 'up')!;
    expect(up1.text).toBe('pin 1.0');
    const up2 = historyStep(h, up1.h, up1.text, 'up')!;
    expect(up2.text).toBe('train BTC/USDT');
    expect(historyStep(h, up2.h, up2.text, 'up')!.text).toBe('train BTC/USDT');
    const down1 = historyStep(h, up2.h, up2.text, 'down')!;
    expect(down1.text).toBe('pin 1.0');
    expect(historyStep(h, down1.h, down1.text, 'down')!.text).toBe('blo');
    expect(historyStep(h, { at: null, draft: '' }, 'x', 'down')).toBeNull();
    expect(historyStep([], { at: null, draft: '' }, 'x', 'up')).toBeNull();
  });

  it('Tab completes one match with a space, several to their common prefix (listed), none leaves the line', () => {
    const src = { symbols: ['BTC/USDT', 'BNB/USDT', 'ETH/USDT'], jobs: [{ id: 'q7', symbol: 'ETH/USDT' }], versions: ['1.0', '1.1'] };
    const cands = (i: number, w: readonly string[]) => commandCandidates(i, w, src);
    expect(completeLine(at('tr', 2), cands)).toEqual({ text: 'train ', cursor: 6, options: [] });
    expect(completeLine(at('train e', 7), cands)).toEqual({ text: 'train ETH/USDT ', cursor: 15, options: [] });
    expect(completeLine(at('block b', 7), cands)).toEqual({ text: 'block b', cursor: 7, options: ['BTC/USDT', 'BNB/USDT'] });
    expect(completeLine(at('un', 2), cands)).toEqual({ text: 'un', cursor: 2, options: ['unblock', 'unpin'] });
    expect(completeLine(at('pin 1.', 6), cands).options).toEqual(['1.0', '1.1']);
    expect(completeLine(at('cancel q', 8), cands).text).toBe('cancel q7 ');
    expect(completeLine(at('train BTC/USDT --q', 18), cands).text).toBe('train BTC/USDT --quick ');
    expect(completeLine(at('launch', 6), cands)).toEqual({ text: 'launch', cursor: 6, options: [] });
    // The word under the cursor is completed; the rest of the line stays.
    expect(completeLine(at('rollback e fills', 10), cands)).toEqual({ text: 'rollback ETH/USDT fills', cursor: 17, options: [] });
  });
});

function engine(): FakeEngine {
  return new FakeEngine({
    symbols: ['BTC/USDT', 'BNB/USDT', 'ETH/USDT', 'SOL/USDT'].map((s) => symbolRow(s)),
    jobs: [jobView('q7', 'ETH/USDT', { state: 'queued' })],
    models: [modelView('1.0', { selected: true }), modelView('1.1')],
  });
}

describe('the command line in the console', () => {
  it('the cursor moves: ← then typing inserts in the middle, Home/Ctrl+A and End/Ctrl+E jump', async () => {
    const e = engine();
    const r = renderApp(e);
    await waitForFrame(r, 'BTC/USDT');
    await press(r, ':', 'pin 10', K.left, '.', K.enter);
    await waitFor(() => e.callsNamed('pinModel').length === 1, 'pin');
    expect(e.callsNamed('pinModel')[0].version).toBe('1.0');
    await press(r, ':', 'rain sol/usdt', K.home, 't', K.enter);
    await waitFor(() => e.callsNamed('train').length === 1, 'train');
    expect(e.callsNamed('train')[0].req.symbol).toBe('SOL/USDT');
    await press(r, ':', 'lock eth/usdt', K.ctrlA, 'b', K.ctrlE, ' noisy', K.enter);
    await waitFor(() => e.callsNamed('block').length === 1, 'block');
    expect(e.callsNamed('block')[0]).toMatchObject({ symbol: 'ETH/USDT', reason: 'noisy' });
    r.unmount();
  });

  it('↑/↓ recall earlier commands; Enter runs the recalled one', async () => {
    const e = engine();
    const r = renderApp(e);
    await waitForFrame(r, 'BTC/USDT');
    await press(r, ':', 'pin 1.1', K.enter);
    await press(r, ':', 'unblock btc/usdt', K.enter);
    await waitFor(() => e.callsNamed('unblock').length === 1, 'unblock');
    await press(r, ':', K.up);
    await waitForFrame(r, ':unblock btc/usdt');
    await press(r, K.up);
    await waitForFrame(r, ':pin 1.1');
    await press(r, K.up, K.down);
    await waitForFrame(r, ':unblock btc/usdt');
    await press(r, K.up, K.enter);
    await waitFor(() => e.callsNamed('pinModel').length === 2, 'second pin');
    expect(e.callsNamed('pinModel').map((c) => c.version)).toEqual(['1.1', '1.1']);
    r.unmount();
  });

  it('Tab completes the command, then the symbol from the engine; several matches are listed', async () => {
    const e = engine();
    const r = renderApp(e);
    await waitForFrame(r, 'BTC/USDT');
    // "tr" completes to "train " (the space is there: the next key starts the symbol).
    await press(r, ':', 'tr', K.tab, 'b', K.tab);
    // BTC/USDT and BNB/USDT both fit: both are shown, the line keeps "b".
    await waitForFrame(r, (f) => f.includes('BTC/USDT  BNB/USDT') && f.includes(':train b'));
    await press(r, 't', K.tab);
    await waitForFrame(r, ':train BTC/USDT');
    await press(r, K.enter);
    await waitFor(() => e.callsNamed('train').length === 1, 'train');
    expect(e.callsNamed('train')[0].req.symbol).toBe('BTC/USDT');
    await press(r, ':', 'cancel q', K.tab, K.enter);
    await waitFor(() => e.callsNamed('cancelJob').length === 1, 'cancel');
    expect(e.callsNamed('cancelJob')[0].jobId).toBe('q7');
    r.unmount();
  });

  it(':help opens the help overlay with every : command; Esc closes it', async () => {
    const r = renderApp(engine(), { size: { columns: 120, rows: 40 } });
    await waitForFrame(r, 'BTC/USDT');
    await press(r, ':', 'help', K.enter);
    const f = await waitForFrame(r, 'Keys (? or Esc closes');
    expect(f).toContain(':rollback SYMBOL [reason]');
    expect(f).toContain(':quit');
    await press(r, K.esc);
    await waitForFrame(r, (fr) => !fr.includes('Keys (? or Esc'));
    r.unmount();
  });

  it('an error stays on the status line on every panel until Esc dismisses it', async () => {
    const e = engine();
    e.result = (c) => (c.name === 'pinModel' ? { ok: false, message: 'no model version 9.9 in models/' } : { ok: true, message: 'ok' });
    const r = renderApp(e);
    await waitForFrame(r, 'BTC/USDT');
    await press(r, ':', 'pin 9.9', K.enter);
    await waitForFrame(r, 'error: no model version 9.9 in models/');
    await press(r, '3');
    await waitForFrame(r, (f) => f.includes('[3 Queue]') && f.includes('error: no model version 9.9'));
    await press(r, K.esc);
    const f = await waitForFrame(r, (fr) => !fr.includes('error:'));
    expect(f).toContain('selected BTC/USDT');
    r.unmount();
  });
});

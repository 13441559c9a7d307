import React, { useRef, useState } from 'react';
import { useInputCommitProbe, useRoutedInput } from '../hooks/use-routed-input.js';
import { St } from './styled.js';
import { completeLine, editLine, historyStep, type HistoryState, type LineAction, type LineState } from './line-edit.js';

/**
 * Pure: apply a chunk of typed text at the end of `value` (kept for callers that only append).
 * Several keys can arrive as one chunk (pastes, fast typing, tmux send-keys), including backspaces
 * (DEL or BS) that must delete rather than be dropped.
 */
export function applyTyped(value: string, chunk: string): string {
  return editLine({ text: value, cursor: value.length }, { type: 'insert', text: chunk }).text;
}

export interface TextInputProps {
  value: string;
  onChange: (value: string) => void;
  onSubmit: (value: string) => void;
  onCancel?: () => void;
  /** Listen to keys only while true. @default true */
  active?: boolean;
  prompt?: string;
  placeholder?: string;
  /** Earlier entries, oldest first: ↑/↓ walk them. */
  history?: readonly string[];
  /** Tab completion: the candidates for the word at `index` after `words`. */
  candidates?: (index: number, words: readonly string[]) => readonly string[];
}

/**
 * A one-line editor: typing inserts at the cursor; ←/→ (Ctrl+←/→ by word), Home/End or Ctrl+A/E
 * move it; Backspace/Delete, Ctrl+U (line), Ctrl+K (to the end), Ctrl+W (word) delete; ↑/↓ walk
 * the history; Tab completes; Enter submits; Esc cancels.
 */
export function TextInput({ value, onChange, onSubmit, onCancel, active = true, prompt = '', placeholder = '', history, candidates }: TextInputProps): React.ReactElement {
  // Keys can arrive faster than React re-renders; edit the latest state, not the rendered one.
  const latest = useRef<LineState>({ text: value, cursor: value.length });
  // The last text this input reported: a different `value` was set from outside (cursor to its end).
  const emitted = useRef(value);
  if (value !== emitted.current) {
    emitted.current = value;
    latest.current = { text: value, cursor: value.length };
  }
  const [cursor, setCursor] = useState(latest.current.cursor);
  const [options, setOptions] = useState<string[]>([]);
  const hist = useRef<HistoryState>({ at: null, draft: '' });
  const set = (s: LineState) => {
    const before = latest.current.text;
    latest.current = s;
    setCursor(s.cursor);
    if (s.text !== before) {
      emitted.current = s.text;
      onChange(s.text);
    }
  };
  const act = (a: LineAction) => {
    setOptions([]);
    set(editLine(latest.current, a));
  };
  // This component's own state decides what the next key means: its commits release held keys.
  useInputCommitProbe();
  useRoutedInput(
    (input, key) => {
      if (key.return) return onSubmit(latest.current.text);
      if (key.escape) return onCancel?.();
      if (key.tab) {
        if (!candidates) return;
        const c = completeLine(latest.current, candidates);
        setOptions(c.options);
        return set(c);
      }
      if (key.upArrow || key.downArrow) {
        const step = history ? historyStep(history, hist.current, latest.current.text, key.upArrow ? 'up' : 'down') : null;
        if (!step) return;
        hist.current = step.h;
        return act({ type: 'set', text: step.text });
      }
      if (key.leftArrow) return act({ type: key.ctrl || key.meta ? 'wordLeft' : 'left' });
      if (key.rightArrow) return act({ type: key.ctrl || key.meta ? 'wordRight' : 'right' });
      if (key.home) return act({ type: 'home' });
      if (key.end) return act({ type: 'end' });
      // Ink reports the Backspace key as `delete` on most terminals: both delete before the cursor.
      if (key.backspace || key.delete) return act({ type: 'backspace' });
      if (key.ctrl) {
        const ctrl: Record<string, LineAction['type']> = { a: 'home', e: 'end', u: 'clear', k: 'killEnd', w: 'killWord', b: 'left', f: 'right', d: 'delete' };
        const t = ctrl[input];
        if (t) act({ type: t } as LineAction);
        return;
      }
      if (key.meta || !input) return;
      // "text\r" in one chunk (pastes, send-keys): type the text, then submit.
      const cr = input.search(/[\r\n]/);
      act({ type: 'insert', text: cr === -1 ? input : input.slice(0, cr) });
      if (cr !== -1) onSubmit(latest.current.text);
    },
    active,
  );
  const at = Math.min(latest.current.text === value ? latest.current.cursor : cursor, value.length);
  return (
    <St>
      {prompt}
      {value === '' && placeholder && !active ? <St dim>{placeholder}</St> : value.slice(0, at)}
      {active ? <St inverse>{value[at] ?? ' '}</St> : null}
      {value.slice(at + 1)}
      {value === '' && placeholder && active ? <St dim>{placeholder}</St> : null}
      {options.length ? <St dim>{`   ${options.join('  ')}`}</St> : null}
    </St>
  );
}

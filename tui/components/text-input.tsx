import React, { useRef } from 'react';
import { useInputCommitProbe, useRoutedInput } from '../hooks/use-routed-input.js';
import { St } from './styled.js';

/**
 * Pure: apply a chunk of typed text. Several keys can arrive as one chunk (pastes, fast typing,
 * tmux send-keys), including backspaces (DEL or BS) that must delete rather than be dropped.
 */
export function applyTyped(value: string, chunk: string): string {
  let v = value;
  for (const ch of chunk) {
    if (ch === '\x7f' || ch === '\b') v = v.slice(0, -1);
    else if (ch === '\x15') v = ''; // Ctrl+U: clear the line
    else if (ch >= ' ') v += ch;
  }
  return v;
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
}

/** A one-line editor: printable keys append, Backspace deletes, Enter submits, Esc cancels. */
export function TextInput({ value, onChange, onSubmit, onCancel, active = true, prompt = '', placeholder = '' }: TextInputProps): React.ReactElement {
  // Keys can arrive faster than React re-renders; edit the latest value, not the rendered one.
  const latest = useRef(value);
  latest.current = value;
  const change = (v: string) => {
    latest.current = v;
    onChange(v);
  };
  // This component's own state decides what the next key means: its commits release held keys.
  useInputCommitProbe();
  useRoutedInput(
    (input, key) => {
      if (key.return) onSubmit(latest.current);
      else if (key.escape) onCancel?.();
      else if (key.backspace || key.delete) change(latest.current.slice(0, -1));
      else if (key.ctrl && input === 'u') change('');
      else if (key.ctrl || key.meta || key.upArrow || key.downArrow || key.leftArrow || key.rightArrow || key.tab) return;
      else if (input) {
        // "text\r" in one chunk (pastes, send-keys): type the text, then submit.
        const cr = input.search(/[\r\n]/);
        change(applyTyped(latest.current, cr === -1 ? input : input.slice(0, cr)));
        if (cr !== -1) onSubmit(latest.current);
      }
    },
    active,
  );
  return (
    <St>
      {prompt}
      {value === '' && placeholder ? <St dim>{placeholder}</St> : value}
      {active ? <St inverse> </St> : null}
    </St>
  );
}

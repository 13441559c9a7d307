import React, { useRef } from 'react';
import { useInputCommitProbe, useRoutedInput } from '../hooks/use-routed-input.js';
import { St } from './styled.js';

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
      else if (key.ctrl || key.meta || key.upArrow || key.downArrow || key.leftArrow || key.rightArrow || key.tab) return;
      // Pasted text arrives as one chunk; keep its printable characters only.
      else if (input) change(latest.current + input.replace(/[\x00-\x1f\x7f]/g, ''));
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

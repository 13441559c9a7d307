import React, { useState } from 'react';
import { TextInput } from './text-input.js';

export interface CommandLineProps {
  onSubmit: (text: string) => void;
  onCancel: () => void;
  active: boolean;
  /** Commands entered before, oldest first (↑/↓). */
  history?: readonly string[];
  /** Tab completion (tui/commands.ts commandCandidates). */
  candidates?: (index: number, words: readonly string[]) => readonly string[];
}

/** The `:` prompt at the bottom of the console; parsing and dispatch live in tui/commands.ts. */
export function CommandLine({ onSubmit, onCancel, active, history, candidates }: CommandLineProps): React.ReactElement {
  const [text, setText] = useState('');
  return (
    <TextInput
      prompt=":"
      value={text}
      onChange={setText}
      onSubmit={onSubmit}
      onCancel={onCancel}
      active={active}
      history={history}
      candidates={candidates}
      placeholder="train BTC/USDT | cancel <id> | block | unblock | pin 1.1 | unpin | help   (Tab completes, ↑ history)"
    />
  );
}

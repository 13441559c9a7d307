import React, { useState } from 'react';
import { TextInput } from './text-input.js';

export interface CommandLineProps {
  onSubmit: (text: string) => void;
  onCancel: () => void;
  active: boolean;
}

/** The `:` prompt at the bottom of the console; parsing and dispatch live in tui/commands.ts. */
export function CommandLine({ onSubmit, onCancel, active }: CommandLineProps): React.ReactElement {
  const [text, setText] = useState('');
  return <TextInput prompt=":" value={text} onChange={setText} onSubmit={onSubmit} onCancel={onCancel} active={active} placeholder="train BTC/USDT | cancel <id> | block | unblock | pin 1.1 | unpin" />;
}

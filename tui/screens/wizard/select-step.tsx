import React, { useState } from 'react';
import { Box } from 'ink';
import { useInputCommitProbe, useRoutedInput } from '../../hooks/use-routed-input.js';
import { St } from '../../components/styled.js';

export interface SelectProps {
  options: readonly { value: string; label: string }[];
  /** The option highlighted first (the current answer or the default). */
  initial: string;
  onSelect: (value: string) => void;
  onBack: () => void;
  active: boolean;
}

export function Select({ options, initial, onSelect, onBack, active }: SelectProps): React.ReactElement {
  const [index, setIndex] = useState(() => Math.max(0, options.findIndex((o) => o.value === initial)));
  // This component's own state decides what the next key means: its commits release held keys.
  useInputCommitProbe();
  useRoutedInput((_input, key) => {
    if (key.upArrow) setIndex((i) => Math.max(0, i - 1));
    else if (key.downArrow) setIndex((i) => Math.min(options.length - 1, i + 1));
    else if (key.return) onSelect(options[index].value);
    else if (key.escape) onBack();
  }, active);
  return (
    <Box flexDirection="column">
      {options.map((o, i) => (
        <St key={o.value} color={i === index ? 'cyan' : undefined} bold={i === index}>
          {`${i === index ? '> ' : '  '}${o.label}`}
        </St>
      ))}
    </Box>
  );
}

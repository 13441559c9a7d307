import React from 'react';
import { Text } from 'ink';
import { useTheme } from '../theme.js';

export interface StyledProps {
  color?: string;
  bold?: boolean;
  dim?: boolean;
  inverse?: boolean;
  wrap?: 'wrap' | 'truncate' | 'truncate-end' | 'truncate-middle' | 'truncate-start';
  children?: React.ReactNode;
}

/**
 * Text that drops every style under NO_COLOR, so a NO_COLOR frame carries no escape codes at all.
 * Anything the style conveyed (selection, state) must also be readable from the characters.
 */
export function St({ color, bold, dim, inverse, wrap, children }: StyledProps): React.ReactElement {
  const { noColor } = useTheme();
  if (noColor) return <Text wrap={wrap ?? 'truncate-end'}>{children}</Text>;
  return (
    <Text color={color} bold={bold} dimColor={dim} inverse={inverse} wrap={wrap ?? 'truncate-end'}>
      {children}
    </Text>
  );
}

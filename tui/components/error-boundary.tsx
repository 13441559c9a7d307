import React from 'react';
import { Box, Text } from 'ink';

export interface ErrorBoundaryProps {
  name: string;
  children?: React.ReactNode;
}

interface State {
  error: Error | null;
}

/**
 * One per panel: Ink's root boundary would exit the whole app, so a panel that throws shows its
 * error in place and the rest of the console (header, other panels, keys) goes on.
 */
export class ErrorBoundary extends React.Component<ErrorBoundaryProps, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: unknown): State {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  override render(): React.ReactNode {
    if (this.state.error) {
      return (
        <Box flexDirection="column" borderStyle="single" paddingX={1}>
          <Text>{`The ${this.props.name} panel failed: ${this.state.error.message}`}</Text>
          <Text>Other panels still work (1-4 / Tab).</Text>
        </Box>
      );
    }
    return this.props.children;
  }
}

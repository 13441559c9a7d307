import React from 'react';
import type { EngineApi } from '../src/engine-api.js';
import { EngineContext } from './hooks/use-engine.js';
import { InputRouter } from './hooks/use-routed-input.js';
import { ThemeContext, type Theme } from './theme.js';

export interface ProvidersProps {
  engine?: EngineApi | null;
  theme: Theme;
  children?: React.ReactNode;
}

/** Everything a screen needs from above: theme, the engine (when there is one), key routing. */
export function Providers({ engine = null, theme, children }: ProvidersProps): React.ReactElement {
  return (
    <ThemeContext.Provider value={theme}>
      <EngineContext.Provider value={engine}>
        <InputRouter>{children}</InputRouter>
      </EngineContext.Provider>
    </ThemeContext.Provider>
  );
}

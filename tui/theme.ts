import { createContext, useContext } from 'react';

/**
 * Display options the whole console shares. noColor follows the NO_COLOR convention; chalk's own
 * detection ignores NO_COLOR, so components ask the theme instead of passing colours to Ink directly.
 */
export interface Theme {
  noColor: boolean;
}

export const ThemeContext = createContext<Theme>({ noColor: false });

export const useTheme = (): Theme => useContext(ThemeContext);

/** NO_COLOR set to any non-empty value disables colour (https://no-color.org). */
export const themeFromEnv = (env: NodeJS.ProcessEnv = process.env): Theme => ({
  noColor: typeof env.NO_COLOR === 'string' && env.NO_COLOR !== '',
});

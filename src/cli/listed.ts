/**
 * An operator-typed symbol checked against the configured source's market list before anything is
 * written (`kilo queue add`, `kilo train`): the same validateSymbol() as every other entry. An
 * unreadable list (exchange down, nothing cached) leaves the symbol unverified, not refused.
 */
import { CliError } from './errors.js';
import { loadConfigOrDefaults } from './load-config.js';

export async function assertListed(home: string, configPath: string, symbol: string, refused: string): Promise<void> {
  const { config } = await loadConfigOrDefaults(configPath);
  const [{ createMarketSource }, { validateSymbol, marketListOf }, { systemClock }] = await Promise.all([
    import('../market/index.js'),
    import('../market/symbols.js'),
    import('../clock.js'),
  ]);
  const market = await createMarketSource(config, { home, clock: systemClock });
  try {
    const r = validateSymbol(symbol, await marketListOf(market.source));
    if (!r.ok) throw new CliError(`${symbol}: ${r.reason}; ${refused}`, 2);
  } finally {
    await market.source.close?.();
  }
}

import { describe, it, expect } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { SimMarketSource } from '../../src/market/sim-source.js';
import {
  checkSymbolSyntax,
  marketListOf,
  storedSymbol,
  StoredSymbolError,
  universeEntries,
  validateConfiguredSymbols,
  validateSymbol,
  type MarketList,
} from '../../src/market/symbols.js';
import type { MarketDataSource } from '../../src/market/types.js';

const list: MarketList = { name: 'binance', symbols: new Set(['BTC/USDT', 'ETH/USDT']) };

describe('the symbol validator', () => {
  it('normalises typed input and refuses what is not BASE/QUOTE, paths included', () => {
    expect(checkSymbolSyntax(' btc/usdt ')).toEqual({ ok: true, symbol: 'BTC/USDT' });
    for (const bad of ['BTC', 'BTC/', '/USDT', 'BTC/USDT/X', 'X/../../etc/passwd', 'BTC-USDT', 'BTC/US DT', '', 'A'.repeat(21) + '/USDT']) {
      const r = checkSymbolSyntax(bad);
      expect(r.ok, bad).toBe(false);
      if (!r.ok) expect(r.kind).toBe('syntax');
    }
    // A stored symbol is checked as is: lower case in a file is not silently fixed.
    expect(checkSymbolSyntax('btc/usdt', { normalise: false }).ok).toBe(false);
    expect(checkSymbolSyntax(42).ok).toBe(false);
  });

  it('gives a typed not_listed result naming the source', () => {
    expect(validateSymbol('BTC/XYZ', list)).toEqual({ ok: false, kind: 'not_listed', input: 'BTC/XYZ', reason: 'not listed on binance' });
    expect(validateSymbol('eth/usdt', list)).toEqual({ ok: true, symbol: 'ETH/USDT' });
    // An unreadable list leaves the symbol unverified, not refused.
    const r = validateSymbol('SOL/USDT', { name: 'binance', symbols: null, unavailable: 'binance unreachable' });
    expect(r).toEqual({ ok: true, symbol: 'SOL/USDT', unverified: 'binance unreachable' });
  });

  it('reads the simulator list and names the simulator (DOGE/USDT is not simulated)', async () => {
    const ml = await marketListOf(new SimMarketSource(42, new ManualClock(Date.UTC(2024, 0, 1))));
    expect(validateSymbol('BTC/USDT', ml).ok).toBe(true);
    expect(validateSymbol('DOGE/USDT', ml)).toMatchObject({ ok: false, kind: 'not_listed', reason: 'not listed on the simulator (seed 42)' });
  });

  it('a source whose list fails gives an unavailable list with the cause', async () => {
    const broken = {
      kind: 'exchange',
      description: 'binance (ccxt)',
      listName: 'binance',
      listedSymbols: async () => {
        throw new Error('binance unreachable at http://127.0.0.1:1');
      },
    } as unknown as MarketDataSource;
    const ml = await marketListOf(broken);
    expect(ml.symbols).toBeNull();
    expect(ml.unavailable).toMatch(/market list of binance unavailable: binance unreachable/);
  });

  it('configured symbols the source does not list are skipped with their key', () => {
    const entries = universeEntries({ core_symbols: ['BTC/USDT'], symbols: ['ETH/USDT', 'XYZ/USDT', 'BTC/USDT'] }, 'list');
    const r = validateConfiguredSymbols(entries, list);
    expect(r.symbols).toEqual(['BTC/USDT', 'ETH/USDT']);
    expect(r.rejected).toEqual([{ key: 'universe.symbols[1]', symbol: 'XYZ/USDT', reason: 'not listed on binance' }]);
    // top_volume mode: only the core symbols are configured.
    expect(universeEntries({ core_symbols: ['BTC/USDT'], symbols: ['XYZ/USDT'] }, 'top_volume')).toEqual([{ key: 'universe.core_symbols[0]', symbol: 'BTC/USDT' }]);
  });

  it('a symbol read from a state file is refused with the file and entry', () => {
    expect(storedSymbol('BTC/USDT', 'data/x.json', 'q1')).toBe('BTC/USDT');
    expect(() => storedSymbol('X/../../planted', 'data/x.json', 'q7')).toThrow(StoredSymbolError);
    expect(() => storedSymbol('X/../../planted', 'data/x.json', 'q7')).toThrow(/^data\/x\.json: q7: expected a symbol like BTC\/USDT, got "X\/\.\.\/\.\.\/planted"; entry rejected$/);
  });
});

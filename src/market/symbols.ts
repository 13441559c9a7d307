/**
 * The one home of symbol validation. Every symbol that enters kilo - typed by the operator
 * (wizard, `kilo queue add`, `:train`, `kilo train`, `kilo signal`), configured (universe) or read
 * back from a state file (queue, stats, serving, engine state) - goes through `checkSymbolSyntax`
 * and, where the source's market list can be read, `validateSymbol`. A symbol is also a file name
 * (`BTC-USDT-1h.csv`), so the syntax is strict: letters and digits on both sides of one slash,
 * nothing that could walk out of a folder.
 */
import type { MarketDataSource } from './types.js';

/** Base and quote: 1-20 upper-case letters or digits each (ccxt's unified spot form). */
export const SYMBOL_RE = /^[A-Z0-9]{1,20}\/[A-Z0-9]{1,20}$/;

export type SymbolCheck =
  | {
      ok: true;
      symbol: string;
      /** Set when the market list could not be read, so only the syntax was checked. */
      unverified?: string;
    }
  | {
      ok: false;
      kind: 'syntax' | 'not_listed';
      /** What was given, as given (for the message). */
      input: string;
      reason: string;
    };

/** What a source lists; `symbols` is null when the list cannot be read right now. */
export interface MarketList {
  /** "binance", "simulator seed 42", "csv folder /data/ohlcv": used in "not listed on ...". */
  name: string;
  symbols: ReadonlySet<string> | null;
  /** Why the list is unavailable (exchange unreachable and no cached markets). */
  unavailable?: string;
}

const shown = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}...` : v) : String(v));

/** Syntax only: upper-cases typed input, refuses anything that is not BASE/QUOTE. */
export function checkSymbolSyntax(input: unknown, opts: { normalise?: boolean } = {}): SymbolCheck {
  if (typeof input !== 'string') return { ok: false, kind: 'syntax', input: String(input), reason: `expected a symbol like BTC/USDT, got ${shown(input)}` };
  const symbol = opts.normalise === false ? input : input.trim().toUpperCase();
  if (!SYMBOL_RE.test(symbol)) return { ok: false, kind: 'syntax', input, reason: `expected a symbol like BTC/USDT, got ${shown(input)}` };
  return { ok: true, symbol };
}

/** Syntax, then "is it listed on the source". An unreadable list leaves the symbol unverified, not refused. */
export function validateSymbol(input: unknown, list: MarketList, opts: { normalise?: boolean } = {}): SymbolCheck {
  const syntax = checkSymbolSyntax(input, opts);
  if (!syntax.ok) return syntax;
  if (!list.symbols) return { ...syntax, unverified: list.unavailable ?? `the market list of ${list.name} is unavailable` };
  if (!list.symbols.has(syntax.symbol)) return { ok: false, kind: 'not_listed', input: String(input), reason: `not listed on ${list.name}` };
  return syntax;
}

/** The source's market list (never throws: an unreachable exchange gives `symbols: null`). */
export async function marketListOf(source: MarketDataSource): Promise<MarketList> {
  const name = source.listName ?? source.description;
  try {
    const symbols = source.listedSymbols ? await source.listedSymbols() : (await source.listSymbols()).map((s) => s.symbol);
    return { name, symbols: new Set(symbols) };
  } catch (err) {
    return { name, symbols: null, unavailable: `market list of ${name} unavailable: ${(err as Error).message}` };
  }
}

export interface UniverseRejection {
  /** The config key that holds it, e.g. "universe.symbols[2]". */
  key: string;
  symbol: string;
  reason: string;
}

/** The configured symbols that can be traded, and the ones skipped with the key that named them. */
export function validateConfiguredSymbols(
  entries: readonly { key: string; symbol: string }[],
  list: MarketList,
): { symbols: string[]; rejected: UniverseRejection[] } {
  const symbols: string[] = [];
  const rejected: UniverseRejection[] = [];
  for (const e of entries) {
    const r = validateSymbol(e.symbol, list, { normalise: false });
    if (r.ok) {
      if (!symbols.includes(r.symbol)) symbols.push(r.symbol);
    } else rejected.push({ key: e.key, symbol: e.symbol, reason: r.reason });
  }
  return { symbols, rejected };
}

/** A symbol read back from a state file: syntax only (the file may predate a market-list change). */
export class StoredSymbolError extends Error {
  constructor(
    readonly file: string,
    readonly entry: string,
    readonly reason: string,
  ) {
    super(`${file}: ${entry}: ${reason}; entry rejected`);
    this.name = 'StoredSymbolError';
  }
}

/** Check a symbol from `file` (entry names where in the file); returns it or throws StoredSymbolError. */
export function storedSymbol(value: unknown, file: string, entry: string): string {
  const r = checkSymbolSyntax(value, { normalise: false });
  if (!r.ok) throw new StoredSymbolError(file, entry, r.reason);
  return r.symbol;
}

/** The configured universe entries with the key that names each (for "config universe.symbols[2]: ..."). */
export function universeEntries(u: { symbols: readonly string[]; core_symbols: readonly string[] }, mode: 'list' | 'top_volume'): { key: string; symbol: string }[] {
  return [
    ...u.core_symbols.map((symbol, i) => ({ key: `universe.core_symbols[${i}]`, symbol })),
    ...(mode === 'list' ? u.symbols.map((symbol, i) => ({ key: `universe.symbols[${i}]`, symbol })) : []),
  ];
}

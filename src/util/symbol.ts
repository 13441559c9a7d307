/**
 * The one symbol syntax ("BTC/USDT"): operator input, queue entries, state files and API requests
 * are all checked against it before a symbol reaches a file path or a model.
 */
export const SYMBOL_RE = /^[A-Z0-9]{1,20}\/[A-Z0-9]{1,20}$/;

export const isSymbol = (s: unknown): s is string => typeof s === 'string' && SYMBOL_RE.test(s);

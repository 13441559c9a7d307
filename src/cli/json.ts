/**
 * The one JSON convention of every `--json` output (README "JSON output"): snake_case keys, done
 * once here at the edge instead of renaming the engine's TypeScript fields. The projection and the
 * control API keep camelCase (the API is the typed wire between an engine and kilo's own client,
 * which reads it back as an EngineSnapshot); every `--json` command prints through `printJson`.
 *
 * Only keys that are identifiers are converted: a map keyed by data - symbols ("BTC/USDT"),
 * artifact keys ("1.0/BTC-USDT"), versions ("1.1"), job ids ("q3") - keeps its keys as they are.
 * Under `--json` an error is JSON on stdout too: `{"error": "...", "exit_code": N}` with the same
 * non-zero exit code as the text form.
 */

const IDENT = /^[a-z][a-zA-Z0-9]*$/;

/** "modelVersion" -> "model_version", "etaS" -> "eta_s"; anything that is not an identifier is data and kept. */
export function snakeKey(key: string): string {
  if (!IDENT.test(key) || key === key.toLowerCase()) return key;
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z])([A-Z][a-z])/g, '$1_$2').toLowerCase();
}

/** A deep copy with every identifier key in snake_case (what JSON.stringify would print: toJSON honoured, undefined dropped). */
export function snakeKeys(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const v = value as { toJSON?: () => unknown };
  if (typeof v.toJSON === 'function') return snakeKeys(v.toJSON());
  if (Array.isArray(value)) return value.map((x) => (x === undefined ? null : snakeKeys(x)));
  if (value instanceof Map) return snakeKeys(Object.fromEntries(value));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(value)) {
    if (x === undefined || typeof x === 'function') continue;
    out[snakeKey(k)] = snakeKeys(x);
  }
  return out;
}

/** The JSON text of `value` in the convention; `pretty` for whole documents, compact for JSON lines. */
export function toJsonText(value: unknown, opts: { pretty?: boolean } = {}): string {
  return `${JSON.stringify(snakeKeys(value), null, opts.pretty ? 2 : undefined)}\n`;
}

/** Print `value` on stdout in the convention. */
export function printJson(value: unknown, opts: { pretty?: boolean } = {}): void {
  process.stdout.write(toJsonText(value, opts));
}

/** True when the command line asks for JSON (`--json` anywhere before a `--`). */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

/** The error object printed under `--json`: the message, the exit code and any extra fields. */
export function jsonError(message: string, exitCode: number, extra: Record<string, unknown> = {}): string {
  return toJsonText({ error: message, exitCode, ...extra });
}

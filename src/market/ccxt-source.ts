import ccxt, { type Exchange, type OHLCV } from 'ccxt';
import type { Clock } from '../clock.js';
import type { Config } from '../config/schema.js';
import { scrubSecrets, type Credentials } from '../credentials/index.js';
import { TIMEFRAME_MS, type Candle, type DataSourceInfo, type MarketDataSource, type SymbolInfo, type Timeframe } from './types.js';
import { validateCandles } from './validate.js';
import { setTimeout as delay } from 'node:timers/promises';
import { withRetry, type BackoffPolicy } from './retry.js';
import { marketsCachePath, readMarketsCache, writeMarketsCache } from './markets-cache.js';

/** The exchange answered with an error (bad symbol, bad request...): not retried. */
export class ExchangeFailure extends Error {
  constructor(
    message: string,
    readonly exchange: string,
    readonly symbol: string | null,
  ) {
    super(message);
    this.name = 'ExchangeFailure';
  }
}

/** Network problems survived no retry. */
export class ExchangeUnreachableError extends Error {
  constructor(
    message: string,
    readonly exchange: string,
    readonly url: string,
  ) {
    super(message);
    this.name = 'ExchangeUnreachableError';
  }
}

export class ExchangeConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExchangeConfigError';
  }
}

export interface CcxtSourceOptions {
  home: string;
  clock: Clock;
  /** Only to scrub them from messages: market data is public and goes out unsigned (no key is given to ccxt). */
  credentials?: Credentials;
  log?: (level: 'info' | 'warn', msg: string) => void;
  /** Backoff waits go through this (tests record the delays). Default: real timers. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  backoffBaseMs?: number;
  /** Candles per request; binance allows 1000. */
  pageLimit?: number;
  /** First wait before asking an unreachable exchange for its markets again (doubles up to 15 min). @default 30000 */
  reconnectBaseMs?: number;
}

/** The exchange could not be reached and no markets were cached: nothing to trade until it answers. */
export interface ExchangeWaiting {
  since: number;
  retryAt: number;
  attempts: number;
  reason: string;
}

/** Replace scheme://host[:port] of every string in urls.api (nested), keeping the paths. */
export function rewriteApiUrls(api: unknown, base: string): unknown {
  const origin = new URL(base).origin;
  if (typeof api === 'string') return api.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]+/i, origin);
  if (Array.isArray(api)) return api.map((x) => rewriteApiUrls(x, base));
  if (api && typeof api === 'object') return Object.fromEntries(Object.entries(api).map(([k, v]) => [k, rewriteApiUrls(v, base)]));
  return api;
}

/**
 * The public ccxt client. It never holds an API key: kilo only paper trades, and with a key ccxt's
 * binance loadMarkets also signs requests to the private margin endpoints (/sapi/v1/margin/...),
 * whose failure used to stop `kilo run`. Public market data goes out unsigned.
 */
export function createCcxtExchange(config: Config): Exchange {
  const x = config.exchange;
  const ids = ccxt.exchanges as string[];
  if (!ids.includes(x.id)) throw new ExchangeConfigError(`exchange.id: unknown ccxt exchange "${x.id}"`);
  const Ctor = (ccxt as unknown as Record<string, new (o: object) => Exchange>)[x.id];
  const ex = new Ctor({
    enableRateLimit: true,
    timeout: x.timeout_ms,
    // Binance: one request for markets (spot only, no currencies endpoint, which needs a key).
    options: { fetchMarkets: { types: ['spot'] }, fetchCurrencies: false },
  });
  if (x.sandbox) {
    if (!ex.urls || !(ex.urls as Record<string, unknown>).test) throw new ExchangeConfigError(`exchange.sandbox: ${x.id} has no sandbox/testnet in ccxt`);
    ex.setSandboxMode(true);
  }
  if (x.api_base_url) ex.urls.api = rewriteApiUrls(ex.urls.api, x.api_base_url) as typeof ex.urls.api;
  if (x.http_proxy) ex.httpProxy = x.http_proxy;
  if (x.https_proxy) ex.httpsProxy = x.https_proxy;
  detectTruncatedJson(ex);
  return ex;
}

/**
 * ccxt turns an unparseable body into `undefined` and binance's fetchOHLCV then returns [] as if
 * there were no candles: a truncated answer would silently end a paged fetch. Make it a BadResponse
 * (retried) instead; done per call, so concurrent requests cannot confuse each other.
 */
function detectTruncatedJson(ex: Exchange): void {
  const parse = ex.parseJson.bind(ex);
  ex.parseJson = (text: string) => {
    const out: unknown = parse(text);
    if (out === undefined && typeof text === 'string' && /^\s*[[{]/.test(text)) {
      throw new ccxt.BadResponse(`${ex.id}: truncated or invalid JSON response (${text.length} bytes)`);
    }
    return out;
  };
}

/** First API url, for messages ("which URL failed"). */
export const primaryApiUrl = (ex: Exchange): string => {
  const walk = (v: unknown): string | undefined =>
    typeof v === 'string' ? v : v && typeof v === 'object' ? Object.values(v).map(walk).find(Boolean) : undefined;
  const api = ex.urls.api as unknown;
  // Market data goes through the "public" entry on most exchanges (binance, okx...).
  const pub = api && typeof api === 'object' ? (api as Record<string, unknown>).public : undefined;
  return (typeof pub === 'string' ? pub : walk(api)) ?? '(unknown url)';
};

// OperationFailed covers NetworkError (429/418, timeouts, refused), BadResponse (truncated JSON) and
// binance's -1000 "unknown error": transient by ccxt's own classification.
const isRetryable = (err: unknown): boolean => err instanceof ccxt.OperationFailed && !(err instanceof ccxt.CancelPending);

/** Market data from any ccxt exchange, with paging, bounded backoff and an on-disk markets cache. */
export class CcxtMarketSource implements MarketDataSource {
  readonly kind = 'exchange' as const;
  readonly description: string;
  readonly listName: string;
  readonly exchange: Exchange;
  /** Set while the exchange cannot be reached and no markets are known (cleared when it answers). */
  waiting: ExchangeWaiting | null = null;
  /** Set when markets came from a stale cache because the exchange did not answer. */
  marketsNotice: string | null = null;
  private marketsReady: Promise<void> | null = null;
  private readonly policy: BackoffPolicy;
  private readonly pageLimit: number;

  constructor(
    private readonly config: Config,
    private readonly opts: CcxtSourceOptions,
  ) {
    this.exchange = createCcxtExchange(config);
    this.description = `${config.exchange.id} (ccxt${config.exchange.sandbox ? ', sandbox' : ''})`;
    this.listName = `${config.exchange.id}${config.exchange.sandbox ? ' (sandbox)' : ''}`;
    this.pageLimit = opts.pageLimit ?? 1000;
    this.policy = {
      maxRetries: config.exchange.max_retries,
      baseMs: opts.backoffBaseMs ?? 500,
      maxMs: 60_000,
      random: opts.random ?? Math.random,
      // Real time by default: backoff waits for a remote server, which a replay's ManualClock
      // would never let pass.
      sleep: opts.sleep ?? ((ms: number) => delay(ms)),
    };
  }

  get url(): string {
    return primaryApiUrl(this.exchange);
  }

  /**
   * Markets from the disk cache when fresh, else from the exchange (then cached). When the exchange
   * cannot be reached and nothing is cached the source is `waiting`: calls fail at once with the
   * waiting message until `retryAt`, then one attempt is made (backoff doubling up to 15 min), so
   * an engine without network stays up, cheap and honest instead of hammering the exchange.
   */
  ensureMarkets(opts: { maxRetries?: number } = {}): Promise<void> {
    if (this.marketsReady) return this.marketsReady;
    const w = this.waiting;
    const now = this.opts.clock.now();
    if (w && now < w.retryAt) return Promise.reject(new ExchangeUnreachableError(this.waitingMessage(now), this.config.exchange.id, this.url));
    const retries = w ? 0 : (opts.maxRetries ?? this.policy.maxRetries);
    this.marketsReady = this.loadMarketsCached(retries).then(
      () => {
        if (this.waiting) this.opts.log?.('info', `${this.config.exchange.id} answers again after ${this.waiting.attempts} attempt(s): markets loaded`);
        this.waiting = null;
      },
      (err: unknown) => {
        this.marketsReady = null;
        if (err instanceof ExchangeUnreachableError) {
          const attempts = (w?.attempts ?? 0) + 1;
          const base = this.opts.reconnectBaseMs ?? 30_000;
          const at = this.opts.clock.now();
          this.waiting = { since: w?.since ?? at, retryAt: at + Math.min(15 * 60_000, base * 2 ** (attempts - 1)), attempts, reason: err.message };
        }
        throw err;
      },
    );
    return this.marketsReady;
  }

  /** "waiting for binance since 12:04 UTC, retry in 30 s (...)"; empty when not waiting. */
  waitingMessage(now = this.opts.clock.now()): string {
    const w = this.waiting;
    if (!w) return '';
    const hhmm = new Date(w.since).toISOString().slice(11, 16);
    const inS = Math.max(0, Math.ceil((w.retryAt - now) / 1000));
    return `waiting for ${this.config.exchange.id} since ${hhmm} UTC, retry in ${inS} s (${w.reason})`;
  }

  async listedSymbols(): Promise<string[]> {
    await this.ensureMarkets();
    return Object.values(this.exchange.markets ?? {})
      .filter((m) => m && m.spot && m.active !== false)
      .map((m) => m.symbol);
  }

  async provenance(): Promise<DataSourceInfo> {
    let host = this.url;
    try {
      host = new URL(this.url).host;
    } catch {
      // keep the raw value
    }
    return { kind: 'exchange', exchange: this.config.exchange.id, sandbox: this.config.exchange.sandbox, api_host: host };
  }

  async listSymbols(): Promise<SymbolInfo[]> {
    await this.ensureMarkets();
    const quote = this.config.exchange.quote;
    const markets = Object.values(this.exchange.markets ?? {}).filter((m) => m && m.spot && m.active !== false && m.quote === quote);
    let vols: Record<string, number> = {};
    try {
      const tickers = await this.call(null, () => this.exchange.fetchTickers(markets.map((m) => m.symbol)));
      vols = Object.fromEntries(Object.values(tickers).map((t) => [t.symbol, t.quoteVolume ?? 0]));
    } catch (err) {
      this.opts.log?.('warn', `tickers unavailable, volumes unknown: ${(err as Error).message}`);
    }
    return markets.map((m) => ({ symbol: m.symbol, base: m.base, quote: m.quote, quoteVolume24h: vols[m.symbol] ?? 0 }));
  }

  async fetchCandles(symbol: string, tf: Timeframe, since: number, until: number): Promise<Candle[]> {
    await this.ensureMarkets();
    const step = TIMEFRAME_MS[tf];
    const end = Math.min(until, this.opts.clock.now() - step + 1); // open times of closed candles only
    const out: Candle[] = [];
    let cursor = Math.ceil(since / step) * step;
    while (cursor < end) {
      const page = await this.fetchPage(symbol, tf, cursor, end - 1);
      const fresh = page.filter((c) => c.timestamp >= cursor && c.timestamp < end);
      if (!fresh.length) break;
      out.push(...fresh);
      cursor = fresh[fresh.length - 1].timestamp + step;
    }
    return out;
  }

  async latestClosedCandle(symbol: string, tf: Timeframe): Promise<Candle | undefined> {
    const step = TIMEFRAME_MS[tf];
    const now = this.opts.clock.now();
    return (await this.fetchCandles(symbol, tf, now - 3 * step, now)).at(-1);
  }

  /** Time to first answer and clock skew against the exchange (for doctor). */
  async probe(): Promise<{ latencyMs: number; serverTime: number | null; skewMs: number | null }> {
    const t0 = performance.now();
    const has = this.exchange.has as Record<string, unknown>;
    const serverTime = has.fetchTime ? await this.call(null, () => this.exchange.fetchTime(), 0) : null;
    if (serverTime === null) await this.ensureMarkets();
    const latencyMs = performance.now() - t0;
    return { latencyMs, serverTime: serverTime ?? null, skewMs: serverTime ? serverTime - Date.now() : null };
  }

  async close(): Promise<void> {
    await this.exchange.close();
  }

  /**
   * One page, validated. A page with duplicates, disorder or bad prices is asked again (a proxy or a
   * flaky node served it); gaps are accepted once a second answer shows the same gaps (real holes).
   */
  private async fetchPage(symbol: string, tf: Timeframe, since: number, until: number): Promise<Candle[]> {
    let previousGaps: string | null = null;
    let last: Candle[] = [];
    for (let attempt = 0; attempt <= this.policy.maxRetries; attempt++) {
      const raw = await this.call(symbol, () => this.exchange.fetchOHLCV(symbol, tf, since, this.pageLimit, { until }));
      // ccxt sorts pages; check the raw order it gave us anyway, then the content.
      last = (raw as OHLCV[]).map(toCandle);
      const rep = validateCandles(last, tf);
      const gaps = JSON.stringify(rep.gaps);
      const broken = !rep.ok || last.some((c) => !Number.isFinite(c.close));
      if (!broken && (rep.gaps.length === 0 || gaps === previousGaps)) return last;
      previousGaps = broken ? null : gaps;
      this.opts.log?.('warn', `${this.config.exchange.id} ${symbol} ${tf}: suspicious page at ${new Date(since).toISOString()} (${describeReport(rep)}${absurdAt(rep)}), asking again`);
      // A gap is confirmed by asking again at once; a corrupt page waits like any transient fault.
      if (broken && attempt < this.policy.maxRetries) await this.policy.sleep(Math.min(this.policy.maxMs, this.policy.baseMs * 2 ** attempt));
    }
    // Still inconsistent: keep the sound candles before the first bad one. The store then stays
    // contiguous and its next top-up asks again from there; keeping the candles after it would leave
    // a hole behind the store's end that no later fetch refills once the exchange answers soundly.
    const rep = validateCandles(last, tf);
    if (rep.absurd.length) this.opts.log?.('warn', `${this.config.exchange.id} ${symbol} ${tf}: rejected absurd candle(s)${absurdAt(rep)}; kept only the candles before them`);
    const bad = [...rep.nonPositive, ...rep.absurd, ...rep.inconsistentOhlc, ...rep.duplicates, ...rep.outOfOrder, ...last.filter((c) => !Number.isFinite(c.close)).map((c) => c.timestamp)];
    if (!bad.length) return last;
    const firstBad = Math.min(...bad);
    return last.filter((c) => c.timestamp < firstBad);
  }

  /** ccxt call with retry on network errors; errors scrubbed and mapped to our classes. */
  private async call<T>(symbol: string | null, fn: () => Promise<T>, maxRetries = this.policy.maxRetries): Promise<T> {
    try {
      return await withRetry(fn, isRetryable, { ...this.policy, maxRetries }, (err, attempt, delay) =>
        this.opts.log?.('warn', this.scrub(`${this.config.exchange.id}: ${(err as Error).constructor.name} (${(err as Error).message.slice(0, 120)}), retry ${attempt + 1}/${maxRetries} in ${Math.round(delay)} ms`)),
      );
    } catch (err) {
      const msg = this.scrub(err instanceof Error ? err.message : String(err));
      const what = symbol ? ` for ${symbol}` : '';
      if (isRetryable(err)) throw new ExchangeUnreachableError(`${this.config.exchange.id} unreachable at ${this.url}${what} after ${maxRetries} retries: ${msg}`, this.config.exchange.id, this.url);
      if (err instanceof ccxt.ExchangeError) throw new ExchangeFailure(`${this.config.exchange.id} error${what}: ${msg}`, this.config.exchange.id, symbol);
      const e = new Error(msg);
      e.name = err instanceof Error ? err.name : 'Error';
      throw e;
    }
  }

  private scrub(text: string): string {
    return scrubSecrets(text, this.opts.credentials);
  }

  private async loadMarketsCached(maxRetries: number): Promise<void> {
    const id = this.config.exchange.id;
    const file = marketsCachePath(this.opts.home, `${id}${this.config.exchange.sandbox ? '-sandbox' : ''}`);
    const cached = await readMarketsCache(file);
    const now = this.opts.clock.now();
    const maxAge = this.config.exchange.markets_cache_max_age_h * 3_600_000;
    if (cached && now - cached.savedAt <= maxAge) {
      this.exchange.setMarkets(cached.markets as never);
      return;
    }
    try {
      const markets = await this.call(null, () => this.exchange.loadMarkets(true), maxRetries);
      await writeMarketsCache(file, { exchange: id, savedAt: now, markets: JSON.parse(JSON.stringify(markets)) as Record<string, unknown> });
      this.marketsNotice = null;
    } catch (err) {
      if (!cached || !(err instanceof ExchangeUnreachableError)) throw err;
      this.exchange.setMarkets(cached.markets as never);
      const ageH = (now - cached.savedAt) / 3_600_000;
      this.marketsNotice = `${id} unreachable; using markets cached ${ageH.toFixed(1)} h ago`;
      this.opts.log?.('warn', this.marketsNotice);
    }
  }
}

const toCandle = (r: OHLCV): Candle => ({
  timestamp: Number(r[0]),
  open: Number(r[1]),
  high: Number(r[2]),
  low: Number(r[3]),
  close: Number(r[4]),
  volume: Number(r[5]),
});

const describeReport = (r: ReturnType<typeof validateCandles>): string =>
  [
    r.duplicates.length && `${r.duplicates.length} duplicate`,
    r.outOfOrder.length && `${r.outOfOrder.length} out of order`,
    r.nonPositive.length && `${r.nonPositive.length} non-positive`,
    r.absurd.length && `${r.absurd.length} absurd`,
    r.inconsistentOhlc.length && `${r.inconsistentOhlc.length} inconsistent`,
    r.gaps.length && `${r.missing} missing`,
  ]
    .filter(Boolean)
    .join(', ') || 'unparseable';

const absurdAt = (r: ReturnType<typeof validateCandles>): string =>
  r.absurd.length ? ` at ${r.absurd.slice(0, 3).map((t) => new Date(t).toISOString()).join(', ')}` : '';

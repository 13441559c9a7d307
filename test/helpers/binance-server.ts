/**
 * A loopback HTTP server speaking enough of Binance's spot REST API for the real ccxt client:
 * exchangeInfo, klines, ticker/24hr, time, ping. Candles come from ../shared/data/ohlcv (or any
 * folder of `BTC-USDT-1h.csv` files). Shared with the reliability suite.
 *
 *   const srv = await startBinanceServer({ dataDir, symbols: ['BTC/USDT'] });
 *   exchange.urls.api = rewrite(...srv.url...)   // or config exchange.api_base_url = srv.url
 *   srv.failNext({ kind: 'status', status: 429 }, 2);      // next 2 matching requests answer 429
 *   srv.failNext({ kind: 'delay', ms: 3000 });            // one response held past the client timeout
 *   srv.failNext({ kind: 'truncated' });                  // half a JSON body
 *   srv.failNext({ kind: 'exchange-error', code: -1121, msg: 'Invalid symbol.', status: 400 });
 *   srv.corruptNext('gap' | 'duplicate' | 'zero-price' | 'negative-price' | 'out-of-order' | 'absurd-price');
 *   srv.clearFaults();                                    // the exchange is healthy again
 *   srv.count('/api/v3/klines'); srv.requests; srv.setNow(ms); await srv.close();
 *
 * Faults are consumed in order by requests whose path starts with `fault.path` (default: every
 * path). Each served request is recorded in `requests` (path, query, at, fault).
 */
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';

export type Fault =
  | { kind: 'status'; status: 429 | 418 | 500 | 502 | 503; path?: string }
  | { kind: 'delay'; ms: number; path?: string }
  | { kind: 'truncated'; path?: string }
  | { kind: 'exchange-error'; code: number; msg: string; status?: number; path?: string };

export type CandleDefect = 'gap' | 'duplicate' | 'zero-price' | 'negative-price' | 'out-of-order' | 'absurd-price';

export interface RecordedRequest {
  path: string;
  query: Record<string, string>;
  /** Request headers (lower-case names), to assert what a client sent (e.g. no API key). */
  headers: Record<string, string>;
  at: number;
  fault: string | null;
}

export interface BinanceServerOptions {
  /** Folder of `BASE-QUOTE-<tf>.csv` files; default ../shared/data/ohlcv from the repo root. */
  dataDir?: string;
  /** Symbols listed in exchangeInfo ("BTC/USDT"); default those with a 1h file among a common set. */
  symbols?: string[];
  /** Server clock for /api/v3/time and the live edge of klines; default Date.now. */
  now?: () => number;
}

export interface BinanceServer {
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  count(pathPrefix?: string): number;
  failNext(fault: Fault, times?: number): void;
  corruptNext(defect: CandleDefect, times?: number): void;
  /** Drop every pending fault and defect. */
  clearFaults(): void;
  setNow(ms: number): void;
  /** Stop accepting and drop open sockets (also used to simulate "exchange down"). */
  close(): Promise<void>;
}

interface Row {
  t: number;
  o: string;
  h: string;
  l: string;
  c: string;
  v: string;
}

const TF_MS: Record<string, number> = { '1m': 60e3, '5m': 300e3, '15m': 900e3, '30m': 1800e3, '1h': 3600e3, '4h': 14400e3, '1d': 86400e3 };
const DEFAULT_SYMBOLS = ['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'ADA/USDT', 'XRP/USDT', 'BNB/USDT', 'DOGE/USDT', 'LINK/USDT', 'USDC/USDT'];
export const DEFAULT_DATA_DIR = join(import.meta.dirname, '../../../shared/data/ohlcv');

export async function startBinanceServer(opts: BinanceServerOptions = {}): Promise<BinanceServer> {
  const dataDir = opts.dataDir ?? DEFAULT_DATA_DIR;
  const symbols = opts.symbols ?? DEFAULT_SYMBOLS.filter((s) => existsSync(join(dataDir, `${s.replace('/', '-')}-1h.csv`)));
  let nowFn = opts.now ?? (() => Date.now());
  const faults: Fault[] = [];
  const defects: CandleDefect[] = [];
  const requests: RecordedRequest[] = [];
  const cache = new Map<string, Row[]>();

  const rowsFor = (id: string, interval: string): Row[] | undefined => {
    const sym = symbols.find((s) => s.replace('/', '') === id);
    if (!sym) return undefined;
    const key = `${id}|${interval}`;
    let rows = cache.get(key);
    if (!rows) {
      const file = join(dataDir, `${sym.replace('/', '-')}-${interval}.csv`);
      rows = existsSync(file)
        ? readFileSync(file, 'utf8')
            .split('\n')
            .slice(1)
            .filter((l) => l.trim())
            .map((l) => {
              const [t, o, h, l2, c, v] = l.split(',');
              return { t: Number(t), o, h, l: l2, c, v };
            })
        : [];
      cache.set(key, rows);
    }
    return rows;
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const kline = (r: Row, step: number) => {
    const qv = (Number(r.v) * Number(r.c)).toString();
    return [r.t, r.o, r.h, r.l, r.c, r.v, r.t + step - 1, qv, 100, (Number(r.v) / 2).toString(), (Number(qv) / 2).toString(), '0'];
  };

  const applyDefect = (rows: unknown[][], d: CandleDefect): unknown[][] => {
    if (rows.length < 4) return rows;
    const out = rows.map((r) => [...r]);
    const mid = Math.floor(out.length / 2);
    switch (d) {
      case 'gap':
        out.splice(mid, 2);
        break;
      case 'duplicate':
        out.splice(mid, 0, [...out[mid]]);
        break;
      case 'zero-price':
        out[mid][4] = '0';
        out[mid][3] = '0';
        break;
      case 'negative-price':
        out[mid][4] = '-1';
        out[mid][3] = '-1';
        break;
      case 'out-of-order':
        [out[mid], out[mid + 1]] = [out[mid + 1], out[mid]];
        break;
      case 'absurd-price':
        // Well-formed and finite, and no real candle's price.
        out[mid][2] = '1e308';
        out[mid][4] = '1e308';
        break;
    }
    return out;
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    const query = Object.fromEntries(u.searchParams.entries());
    const idx = faults.findIndex((f) => !f.path || u.pathname.startsWith(f.path));
    const fault = idx >= 0 ? faults.splice(idx, 1)[0] : undefined;
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v ?? '')]));
    requests.push({ path: u.pathname, query, headers, at: Date.now(), fault: fault ? fault.kind + ('status' in fault ? ` ${fault.status}` : '') : null });
    if (fault?.kind === 'status') return send(res, fault.status, fault.status === 429 || fault.status === 418 ? { code: -1003, msg: 'Too many requests.' } : { code: -1000, msg: 'Internal error' });
    if (fault?.kind === 'exchange-error') return send(res, fault.status ?? 400, { code: fault.code, msg: fault.msg });
    const answer = () => route(u, query, res, fault?.kind === 'truncated');
    if (fault?.kind === 'delay') {
      const t = setTimeout(answer, fault.ms);
      res.on('close', () => clearTimeout(t));
      return;
    }
    answer();
  };

  const route = (u: URL, q: Record<string, string>, res: ServerResponse, truncate: boolean) => {
    if (res.destroyed) return;
    let body: unknown;
    switch (u.pathname) {
      case '/sapi/v1/margin/allPairs': // asked by ccxt's loadMarkets when an API key is set
      case '/sapi/v1/margin/isolated/allPairs':
        body = [];
        break;
      case '/api/v3/ping':
        body = {};
        break;
      case '/api/v3/time':
        body = { serverTime: nowFn() };
        break;
      case '/api/v3/exchangeInfo':
        body = exchangeInfo(symbols, nowFn());
        break;
      case '/api/v3/klines': {
        const rows = rowsFor(q.symbol ?? '', q.interval ?? '');
        if (!rows) return send(res, 400, { code: -1121, msg: 'Invalid symbol.' });
        const step = TF_MS[q.interval ?? ''];
        if (!step) return send(res, 400, { code: -1120, msg: 'Invalid interval.' });
        const limit = Math.min(1000, Number(q.limit ?? 500));
        const start = q.startTime !== undefined ? Number(q.startTime) : -Infinity;
        const end = Math.min(q.endTime !== undefined ? Number(q.endTime) : Infinity, nowFn());
        let sel = rows.filter((r) => r.t >= start && r.t <= end);
        sel = q.startTime !== undefined ? sel.slice(0, limit) : sel.slice(-limit);
        let out = sel.map((r) => kline(r, step));
        const d = defects.shift();
        if (d) out = applyDefect(out, d) as typeof out;
        body = out;
        break;
      }
      case '/api/v3/ticker/24hr': {
        const list = (q.symbol ? [q.symbol] : symbols.map((s) => s.replace('/', ''))).map((id) => ticker(id, rowsFor(id, '1h') ?? [], nowFn()));
        body = q.symbol ? list[0] : list;
        break;
      }
      default:
        return send(res, 404, { code: -1, msg: `not emulated: ${u.pathname}` });
    }
    const text = JSON.stringify(body);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(truncate ? text.slice(0, Math.max(1, Math.floor(text.length / 2))) : text);
  };

  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    count: (prefix = '/') => requests.filter((r) => r.path.startsWith(prefix)).length,
    failNext(fault, times = 1) {
      for (let i = 0; i < times; i++) faults.push(fault);
    },
    corruptNext(defect, times = 1) {
      for (let i = 0; i < times; i++) defects.push(defect);
    },
    clearFaults() {
      faults.length = 0;
      defects.length = 0;
    },
    setNow(ms) {
      nowFn = () => ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function exchangeInfo(symbols: string[], now: number) {
  return {
    timezone: 'UTC',
    serverTime: now,
    rateLimits: [{ rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 6000 }],
    exchangeFilters: [],
    symbols: symbols.map((s) => {
      const [base, quote] = s.split('/');
      return {
        symbol: `${base}${quote}`,
        status: 'TRADING',
        baseAsset: base,
        baseAssetPrecision: 8,
        quoteAsset: quote,
        quotePrecision: 8,
        quoteAssetPrecision: 8,
        orderTypes: ['LIMIT', 'MARKET'],
        icebergAllowed: true,
        ocoAllowed: true,
        isSpotTradingAllowed: true,
        isMarginTradingAllowed: false,
        filters: [
          { filterType: 'PRICE_FILTER', minPrice: '0.00000100', maxPrice: '1000000.00000000', tickSize: '0.00000100' },
          { filterType: 'LOT_SIZE', minQty: '0.00001000', maxQty: '9000.00000000', stepSize: '0.00001000' },
          { filterType: 'NOTIONAL', minNotional: '5.00000000', applyMinToMarket: true, maxNotional: '9000000.00000000' },
        ],
        permissions: [],
        permissionSets: [['SPOT']],
        defaultSelfTradePreventionMode: 'EXPIRE_MAKER',
        allowedSelfTradePreventionModes: ['EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'],
      };
    }),
  };
}

function ticker(id: string, rows: Row[], now: number) {
  const visible = rows.filter((r) => r.t + 3_600_000 <= now);
  const last = visible.slice(-24);
  const open = last[0];
  const close = last.at(-1);
  const volume = last.reduce((s, r) => s + Number(r.v), 0);
  const quoteVolume = last.reduce((s, r) => s + Number(r.v) * Number(r.c), 0);
  return {
    symbol: id,
    priceChange: close && open ? (Number(close.c) - Number(open.o)).toString() : '0',
    priceChangePercent: close && open ? (((Number(close.c) - Number(open.o)) / Number(open.o)) * 100).toFixed(3) : '0',
    lastPrice: close?.c ?? '0',
    openPrice: open?.o ?? '0',
    highPrice: last.length ? Math.max(...last.map((r) => Number(r.h))).toString() : '0',
    lowPrice: last.length ? Math.min(...last.map((r) => Number(r.l))).toString() : '0',
    volume: volume.toString(),
    quoteVolume: quoteVolume.toString(),
    openTime: open?.t ?? now,
    closeTime: close ? close.t + 3_599_999 : now,
    count: last.length * 100,
  };
}

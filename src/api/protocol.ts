/**
 * The control API's contract: HTTP/1.1 over the engine's Unix socket (src/api/paths.ts), JSON in
 * and out, one stream of server-sent events. Requests are validated here, once, with the same
 * schemas on both sides; a bad one is answered 400 with the key that is wrong.
 *
 *   GET  /v1/health                  {ok, pid, version, home, status}
 *   GET  /v1/snapshot                EngineSnapshot (the same projection the console shows)
 *   GET  /v1/trades?since=MS&limit=N recent trades, newest first
 *   GET  /v1/logs?since=SEQ|tail=N   log entries after SEQ, or the last N, oldest first
 *   GET  /v1/events                  SSE: snapshot (full, once), patch (changed fields), log, job,
 *                                    signal, trade, promotion, heartbeat
 *   POST /v1/commands/<name>         train, cancel, prioritize, block, unblock, pin, unpin,
 *                                    rollback, edge, stop -> CommandResult
 */
import { z } from 'zod';
import { SYMBOL_RE } from '../market/symbols.js';

export const API_VERSION = 'v1';

/** Limits that keep a hostile or broken client from costing the engine anything that matters. */
export const LIMITS = {
  /** Request bodies above this are refused with 413 before they are read whole. */
  maxBodyBytes: 16 * 1024,
  /** Node's own header limit for this server. */
  maxHeaderBytes: 8 * 1024,
  /** Connections at once; more are closed at accept. */
  maxConnections: 32,
  /** A request must arrive whole within this (slowloris). */
  requestTimeoutMs: 10_000,
  headersTimeoutMs: 5_000,
  /**
   * An event-stream client whose unread output passes this is disconnected: it is not reading (a
   * reading client lags by one patch, ~10-50 KB, at most).
   */
  maxBufferedBytes: 256 * 1024,
  /** Lines a /v1/logs or /v1/trades answer holds at most. */
  maxListed: 1000,
} as const;

const symbol = z.string().refine((s) => SYMBOL_RE.test(s), { message: 'expected a symbol like BTC/USDT' });
const version = z.string().regex(/^\d+\.\d+$/, 'expected a version like "1.1"');
const reason = z.string().max(500).optional();
const jobRef = z.string().min(1).max(40);

export const COMMANDS = {
  train: z.strictObject({
    symbol,
    models: z.array(z.enum(['gru', 'gbdt', 'ppo'])).min(1).max(3).optional(),
    quick: z.boolean().optional(),
    force: z.boolean().optional(),
    version: version.optional(),
    reason,
  }),
  cancel: z.strictObject({ job: jobRef }),
  prioritize: z.strictObject({ job: jobRef, delta: z.number().int().min(-1000).max(1000) }),
  block: z.strictObject({ symbol, reason }),
  unblock: z.strictObject({ symbol }),
  pin: z.strictObject({ version }),
  unpin: z.strictObject({}),
  rollback: z.strictObject({ symbol, reason }),
  /** The edge gate's operator override: on (the model trades), off (the gate applies), auto (config.yaml decides). */
  edge: z.strictObject({ symbol, mode: z.enum(['on', 'off', 'auto']), reason }),
  stop: z.strictObject({ reason }),
} as const;

export type CommandName = keyof typeof COMMANDS;
export type CommandBody<N extends CommandName> = z.infer<(typeof COMMANDS)[N]>;

export const isCommandName = (s: string): s is CommandName => Object.hasOwn(COMMANDS, s);

/** The first problem of a bad body, naming its key. */
export function parseCommand<N extends CommandName>(name: N, raw: unknown): { ok: true; body: CommandBody<N> } | { ok: false; error: string } {
  const r = COMMANDS[name].safeParse(raw);
  if (r.success) return { ok: true, body: r.data as CommandBody<N> };
  const i = r.error.issues[0];
  return { ok: false, error: `${name}: ${i.path.join('.') || '(body)'}: ${i.message}` };
}

/** Events of the stream. */
export type StreamEvent = 'snapshot' | 'patch' | 'log' | 'job' | 'signal' | 'trade' | 'promotion' | 'heartbeat' | 'bye';

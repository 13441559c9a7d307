/**
 * The engine's logger: one line per entry appended to a file that rotates by size
 * (trading.log -> trading.log.1 -> ... -> trading.log.<keepFiles>, the oldest dropped), a bounded
 * in-memory ring of LogEntry with increasing seq numbers for the console, and subscribers that
 * receive each entry. Secrets given at construction are replaced with *** before anything is
 * stored, written or emitted.
 * The file is appended to rather than written temp+rename like other engine files: a log is
 * only ever extended, and a torn last line after a crash loses one line, not the file.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { systemClock, type Clock } from '../clock.js';
import type { Config } from '../config/schema.js';
import type { LogEntry, LogLevel } from '../engine-api.js';
import { fileOpError } from '../util/atomic.js';

export const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const REDACTED = '***';

export interface LoggerOptions {
  /** Log file; null or absent keeps the log in memory only. */
  file?: string | null;
  /** Rotate before a write would take the file past this size. @default 5 MiB */
  maxBytes?: number;
  /** Rotated files kept besides the live one. @default 3 */
  keepFiles?: number;
  /** Entries below this level are dropped. @default 'info' */
  level?: LogLevel;
  /** Entries kept in memory. @default 1000 */
  ringSize?: number;
  /** Strings (API keys, secrets) replaced with *** everywhere. Empty strings are ignored. */
  secrets?: readonly string[];
  clock?: Pick<Clock, 'now'>;
  /** Called when the file cannot be written; logging to memory and subscribers goes on. */
  onFileError?: (err: Error) => void;
}

export type LogListener = (entry: LogEntry) => void;

export class Logger {
  private readonly ring: LogEntry[] = [];
  private readonly listeners = new Set<LogListener>();
  private readonly secrets: string[];
  private readonly ringSize: number;
  private readonly maxBytes: number;
  private readonly keepFiles: number;
  private readonly minLevel: number;
  private readonly clock: Pick<Clock, 'now'>;
  private seq = 0;
  private fd: number | null = null;
  private size = 0;
  private closed = false;
  /** The file error being reported (one in-memory entry when it starts, one when writing works again). */
  private fileFailing: string | null = null;
  /** Repeating conditions by key: what was logged last and how often it held since. */
  private readonly conditions = new Map<string, { message: string; level: LogLevel; symbol?: string; count: number }>();

  constructor(private readonly opts: LoggerOptions = {}) {
    // Longest first, so a secret containing another is redacted whole.
    this.secrets = [...new Set((opts.secrets ?? []).filter((s) => s.length > 0))].sort((a, b) => b.length - a.length);
    this.ringSize = Math.max(1, opts.ringSize ?? 1000);
    this.maxBytes = Math.max(1, opts.maxBytes ?? 5 * 1024 * 1024);
    this.keepFiles = Math.max(0, opts.keepFiles ?? 3);
    this.minLevel = LEVEL_ORDER[opts.level ?? 'info'];
    this.clock = opts.clock ?? systemClock;
  }

  get file(): string | null {
    return this.opts.file ?? null;
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join(REDACTED);
    return out;
  }

  /** Record one entry; returns it, or null when below the level. */
  log(level: LogLevel, message: string, symbol?: string): LogEntry | null {
    if (LEVEL_ORDER[level] < this.minLevel) return null;
    const entry = this.record(level, message, symbol);
    this.writeLine(entry);
    return { ...entry };
  }

  /** Into the ring and to the subscribers (not the file). */
  private record(level: LogLevel, message: string, symbol?: string): LogEntry {
    const entry: LogEntry = { seq: ++this.seq, at: this.clock.now(), level, message: this.redact(message) };
    if (symbol !== undefined) entry.symbol = this.redact(symbol);
    this.ring.push(entry);
    if (this.ring.length > this.ringSize) this.ring.splice(0, this.ring.length - this.ringSize);
    for (const fn of this.listeners) {
      try {
        fn({ ...entry });
      } catch {
        // A broken subscriber must not stop logging or the other subscribers.
      }
    }
    return entry;
  }
  debug(message: string, symbol?: string): LogEntry | null {
    return this.log('debug', message, symbol);
  }
  info(message: string, symbol?: string): LogEntry | null {
    return this.log('info', message, symbol);
  }
  warn(message: string, symbol?: string): LogEntry | null {
    return this.log('warn', message, symbol);
  }
  error(message: string, symbol?: string): LogEntry | null {
    return this.log('error', message, symbol);
  }

  /**
   * A condition that may hold round after round ("XYZ/USDT is not listed", "binance unreachable"):
   * logged when it starts and whenever its message changes, not every time it is seen, so one
   * unknown symbol cannot flood the log. `endCondition` logs its end with how often it held.
   */
  condition(key: string, level: LogLevel, message: string, symbol?: string): LogEntry | null {
    const c = this.conditions.get(key);
    if (c && c.message === message && c.level === level) {
      c.count++;
      return null;
    }
    this.conditions.set(key, { message, level, symbol, count: 1 });
    return this.log(level, message, symbol);
  }

  /** The condition `key` no longer holds: log that once (with `message`, or a default naming the count). */
  endCondition(key: string, message?: string): LogEntry | null {
    const c = this.conditions.get(key);
    if (!c) return null;
    this.conditions.delete(key);
    const seen = `seen ${c.count} time${c.count === 1 ? '' : 's'}`;
    return this.log('info', message ? `${message} (${seen})` : `resolved: ${c.message} (${seen})`, c.symbol);
  }

  /** Is `key` an active condition? */
  hasCondition(key: string): boolean {
    return this.conditions.has(key);
  }

  subscribe(fn: LogListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The ring, oldest first; `sinceSeq` returns only newer entries. */
  entries(sinceSeq = 0): LogEntry[] {
    return this.ring.filter((e) => e.seq > sinceSeq).map((e) => ({ ...e }));
  }

  /** Copies of the newest `n` entries, oldest first (the console's log tail, projected every round). */
  tail(n: number): LogEntry[] {
    return this.ring.slice(-Math.max(0, n)).map((e) => ({ ...e }));
  }

  close(): void {
    this.closed = true;
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private writeLine(entry: LogEntry): void {
    const file = this.opts.file;
    if (!file || this.closed) return;
    const data = Buffer.from(formatLogLine(entry));
    try {
      if (this.fd === null) this.openFile(file);
      if (this.size > 0 && this.size + data.length > this.maxBytes) this.rotate(file);
      writeSync(this.fd!, data);
      this.size += data.length;
      if (this.fileFailing) {
        this.fileFailing = null;
        this.record('info', `log file ${file} is writable again`);
      }
    } catch (err) {
      const e = fileOpError('append to log file', file, err);
      // Say so on screen once (the file itself cannot take it); the next successful write says it ended.
      if (this.fileFailing === null) {
        this.fileFailing = e.message;
        this.record('error', `${e.message}; log lines are kept in memory only until it can be written`);
      }
      this.opts.onFileError?.(e);
    }
  }

  private openFile(file: string): void {
    mkdirSync(dirname(file), { recursive: true });
    this.fd = openSync(file, 'a', 0o600);
    this.size = fstatSync(this.fd).size;
  }

  private rotate(file: string): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    if (this.keepFiles === 0) {
      this.fd = openSync(file, 'w', 0o600);
      this.size = 0;
      return;
    }
    // Shift .N-1 -> .N first so the oldest is overwritten (dropped) and nothing else is lost.
    for (let i = this.keepFiles; i >= 1; i--) {
      const src = i === 1 ? file : `${file}.${i - 1}`;
      if (existsSync(src)) renameSync(src, `${file}.${i}`);
    }
    this.openFile(file);
  }
}

/** "2026-11-21T05:00:00.000Z INFO  [BTC/USDT] message"; continuation lines are indented. */
export function formatLogLine(e: LogEntry): string {
  const sym = e.symbol ? `[${e.symbol}] ` : '';
  const msg = e.message.replace(/\r?\n/g, '\n    ');
  return `${new Date(e.at).toISOString()} ${e.level.toUpperCase().padEnd(5)} ${sym}${msg}\n`;
}

/** Logger options from config.logging; a relative file is resolved against the kilo home folder. */
export function loggerOptionsFromConfig(cfg: Config['logging'], home: string): Pick<LoggerOptions, 'file' | 'maxBytes' | 'keepFiles' | 'level'> {
  return { file: isAbsolute(cfg.file) ? cfg.file : join(home, cfg.file), maxBytes: cfg.max_bytes, keepFiles: cfg.keep_files, level: cfg.level };
}

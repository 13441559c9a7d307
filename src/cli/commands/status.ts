/**
 * `kilo status`, `kilo positions`, `kilo trades`, `kilo logs`, `kilo stop`: what the bot is doing,
 * from any terminal. They ask the running engine through its control API; with none running they
 * answer from the state files and say so on the first line (text) or in `source`/`note` (JSON).
 */
import type { Command } from 'commander';
import type { EngineSnapshot, LogEntry, LogLevel, TradeEvent } from '../../engine-api.js';
import { globalOptions } from '../context.js';
import { CliError } from '../errors.js';
import { loadConfigOrDefaults, positiveInt } from '../load-config.js';
import { locateEngine, snapshotOf, type EngineView } from '../engine-access.js';
import { printJson } from '../json.js';

const money = (x: number): string => x.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const signed = (x: number, digits = 2): string => `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;
const when = (t: number | null): string => (t === null ? '-' : new Date(t).toISOString().slice(0, 16).replace('T', ' '));
const pct = (x: number | null): string => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);
const dur = (ms: number): string => {
  const m = Math.floor(ms / 60_000);
  return m < 60 ? `${m}m` : m < 2880 ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m` : `${Math.floor(m / 1440)}d${Math.floor((m % 1440) / 60)}h`;
};

function origin(view: EngineView, snap: EngineSnapshot): string {
  if (view.source === 'files') return `${view.note}`;
  const up = snap.startedAt === null ? '' : `, up ${dur(snap.now - snap.startedAt)}`;
  return `kilo engine pid ${view.pid} ${snap.status}${up}, round ${snap.round}, ${snap.dataSource} (${snap.backend})`;
}

async function context(cmd: Command): Promise<{ home: string; view: EngineView; snap: EngineSnapshot; notes: string[] }> {
  const { home, configPath } = globalOptions(cmd);
  const { config, note } = await loadConfigOrDefaults(configPath);
  const view = await locateEngine(home);
  const { snap, notes } = await snapshotOf(home, config, view);
  return { home, view, snap, notes: [note, ...notes].filter((n): n is string => !!n) };
}

/** "2026-01-31", "2026-01-31T12:00Z", or back from now: "90m", "24h", "7d". */
export function parseSince(v: string | undefined, now = Date.now()): number | undefined {
  if (v === undefined) return undefined;
  const rel = /^(\d+)(m|h|d)$/.exec(v.trim());
  if (rel) return now - Number(rel[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 'm' | 'h' | 'd'];
  const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v);
  if (!Number.isFinite(t)) throw new CliError(`--since: expected a date like 2026-01-31, 2026-01-31T12:00Z, or 24h / 7d, got "${v}"`, 2);
  return t;
}

function statusText(view: EngineView, s: EngineSnapshot, notes: string[]): string {
  const p = s.portfolio;
  const lines = [...notes.map((n) => `note: ${n}`), origin(view, s)];
  lines.push(
    `equity ${money(p.equity)} (${signed(p.pnlPct)}%)  cash ${money(p.cash)}  exposure ${(p.exposure * 100).toFixed(1)}%  realised ${signed(p.realisedPnl)}  fees ${money(p.feesPaid)}  trades ${p.tradeCount}  win ${pct(s.overallWinRate)}`,
  );
  lines.push(`positions: ${p.positions.length ? p.positions.map((x) => `${x.symbol} ${signed(x.unrealisedPct, 1)}%`).join(', ') : 'none'}`);
  const running = s.jobs.filter((j) => j.state === 'running');
  const queued = s.jobs.filter((j) => j.state === 'queued');
  lines.push(
    `jobs: ${running.length} running${running.length ? ` (${running.map((j) => `${j.id} ${j.symbol} ${Math.round((j.progress?.fraction ?? 0) * 100)}%`).join(', ')})` : ''}, ${queued.length} queued`,
  );
  lines.push(`${'SYMBOL'.padEnd(12)} ${'STATE'.padEnd(11)} ${'MODEL'.padEnd(6)} ${'SIGNAL'.padEnd(12)} ${'WIN'.padStart(6)} ${'PNL'.padStart(10)}  REASON`);
  for (const r of s.symbols) {
    const sig = r.lastSignal ? `${r.lastSignal.direction.slice(0, 4)} ${r.lastSignal.confidence.toFixed(2)}` : '-';
    lines.push(`${r.symbol.padEnd(12)} ${r.state.padEnd(11)} ${(r.modelVersion ?? '-').padEnd(6)} ${sig.padEnd(12)} ${pct(r.winRate).padStart(6)} ${signed(r.pnl.realised + r.pnl.unrealised).padStart(10)}  ${r.stateReason}`);
  }
  const d = s.promotions[0];
  if (d) lines.push(`last decision: ${when(d.at)} ${d.symbol} ${d.kind}: ${d.reason}`);
  return `${lines.join('\n')}\n`;
}

function positionsText(view: EngineView, s: EngineSnapshot, notes: string[]): string {
  const p = s.portfolio;
  const lines = [...notes.map((n) => `note: ${n}`), origin(view, s)];
  lines.push(`cash ${money(p.cash)}  equity ${money(p.equity)} (${signed(p.pnlPct)}%)  exposure ${(p.exposure * 100).toFixed(1)}%`);
  if (!p.positions.length) lines.push('no open positions');
  else {
    lines.push(`${'SYMBOL'.padEnd(12)} ${'QTY'.padStart(14)} ${'ENTRY'.padStart(12)} ${'LAST'.padStart(12)} ${'VALUE'.padStart(12)} ${'UNREALISED'.padStart(12)} ${'%'.padStart(7)}  OPENED`);
    for (const x of p.positions) {
      lines.push(
        `${x.symbol.padEnd(12)} ${x.qty.toPrecision(6).padStart(14)} ${x.entryPrice.toPrecision(6).padStart(12)} ${x.lastPrice.toPrecision(6).padStart(12)} ${money(x.value).padStart(12)} ${signed(x.unrealisedPnl).padStart(12)} ${signed(x.unrealisedPct, 2).padStart(7)}  ${when(x.openedAt)}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

function tradesText(trades: TradeEvent[]): string[] {
  if (!trades.length) return ['no trades'];
  return [
    `${'TIME'.padEnd(16)} ${'SIDE'.padEnd(4)} ${'SYMBOL'.padEnd(12)} ${'QTY'.padStart(14)} ${'PRICE'.padStart(12)} ${'FEE'.padStart(8)} ${'PNL'.padStart(10)}  REASON`,
    ...trades.map(
      (t) =>
        `${when(t.at)} ${t.side.padEnd(4)} ${t.symbol.padEnd(12)} ${t.qty.toPrecision(6).padStart(14)} ${t.price.toPrecision(6).padStart(12)} ${t.fee.toFixed(2).padStart(8)} ${(t.realisedPnl === undefined ? '' : signed(t.realisedPnl)).padStart(10)}  ${t.reason}`,
    ),
  ];
}

const LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error'];
const levelOk = (min: LogLevel, l: LogLevel): boolean => LEVELS.indexOf(l) >= LEVELS.indexOf(min);

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('what the bot is doing: engine, portfolio, positions, jobs and every symbol (from the running engine, else the state files)')
    .option('--json', 'print JSON: {source, pid, note, snapshot}')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const { view, snap, notes } = await context(cmd);
      if (o.json) printJson({ source: view.source, pid: view.pid, note: view.note, notes, snapshot: snap });
      else process.stdout.write(statusText(view, snap, notes));
    });

  program
    .command('positions')
    .description('open paper positions with entry price and unrealised PnL')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const { view, snap, notes } = await context(cmd);
      const p = snap.portfolio;
      if (o.json) printJson({ source: view.source, pid: view.pid, note: view.note, cash: p.cash, equity: p.equity, positions: p.positions });
      else process.stdout.write(positionsText(view, snap, notes));
    });

  program
    .command('trades')
    .description('recent paper trades with their reason, newest first')
    .option('--since <when>', 'only trades at or after: a date (2026-01-31, 2026-01-31T12:00Z) or back from now (90m, 24h, 7d); market time on the simulator')
    .option('--limit <n>', 'at most N trades', '50')
    .option('--json', 'print JSON')
    .action(async (o: { since?: string; limit: string; json?: boolean }, cmd: Command) => {
      const limit = positiveInt('--limit', o.limit) ?? 50;
      const { home, configPath } = globalOptions(cmd);
      const { config } = await loadConfigOrDefaults(configPath);
      const view = await locateEngine(home);
      let trades: TradeEvent[];
      let now = Date.now();
      if (view.client) {
        const snap = await view.client.snapshot();
        now = snap.marketNow ?? snap.now;
        trades = await view.client.trades(parseSince(o.since, now), limit);
      } else {
        const { readStateFile } = await import('../../engine/state-file.js');
        const { data } = await readStateFile(`${home}/data/engine-state.json`);
        if (config.data.source !== 'exchange' && data.marketTime !== null) now = data.marketTime;
        const since = parseSince(o.since, now) ?? -Infinity;
        trades = data.trades.filter((t) => t.at >= since).reverse().slice(0, limit);
      }
      if (o.json) printJson({ source: view.source, pid: view.pid, note: view.note, trades });
      else process.stdout.write(`${[view.note ?? `kilo engine pid ${view.pid}`, ...tradesText(trades)].join('\n')}\n`);
    });

  program
    .command('logs')
    .description('the engine log: the last lines, and with -f the new ones as they come (from the running engine, else data/trading.log)')
    .option('-n, --lines <n>', 'how many of the last lines', '50')
    .option('-f, --follow', 'keep printing new lines until Ctrl+C (or the engine stops)')
    .option('--level <level>', 'debug, info, warn or error: this level and above', 'debug')
    .action(async (o: { lines: string; follow?: boolean; level: string }, cmd: Command) => {
      const lines = positiveInt('--lines', o.lines) ?? 50;
      if (!LEVELS.includes(o.level as LogLevel)) throw new CliError(`--level: expected ${LEVELS.join(', ')}, got "${o.level}"`, 2);
      const level = o.level as LogLevel;
      const { home, configPath } = globalOptions(cmd);
      const { config } = await loadConfigOrDefaults(configPath);
      const view = await locateEngine(home);
      const { formatLogLine, loggerOptionsFromConfig } = await import('../../log/logger.js');
      const print = (e: LogEntry): void => void (levelOk(level, e.level) && process.stdout.write(formatLogLine(e)));
      if (view.client) {
        const client = view.client;
        if (!o.follow) {
          for (const e of await client.logs({ tail: lines })) print(e);
          return;
        }
        // Subscribe first, then print the tail, skipping what the stream already delivered.
        let lastSeq = 0;
        const early: LogEntry[] = [];
        let tailDone = false;
        await new Promise<void>((resolve, reject) => {
          client
            .events(
              (event, data) => {
                if (event !== 'log') return;
                const e = data as LogEntry;
                if (!tailDone) return void early.push(e);
                if (e.seq > lastSeq) {
                  lastSeq = e.seq;
                  print(e);
                }
              },
              (why) => {
                process.stderr.write(`kilo: ${why}\n`);
                resolve();
              },
            )
            .then(async (stream) => {
              process.once('SIGINT', () => {
                stream.close();
                resolve();
              });
              for (const e of await client.logs({ tail: lines })) {
                print(e);
                lastSeq = Math.max(lastSeq, e.seq);
              }
              tailDone = true;
              for (const e of early) if (e.seq > lastSeq) (lastSeq = e.seq), print(e);
            }, reject);
        });
        return;
      }
      const file = loggerOptionsFromConfig(config.logging, home).file;
      process.stderr.write(`note: ${view.note}\n`);
      if (!file) return;
      const { tailFile, followFile } = await import('../tail.js');
      const shown = (l: string): boolean => {
        const m = /^\S+ (DEBUG|INFO|WARN|ERROR) /.exec(l);
        return !m || levelOk(level, m[1].toLowerCase() as LogLevel);
      };
      const { text, size } = await tailFile(file, lines);
      for (const l of text) if (shown(l)) process.stdout.write(`${l}\n`);
      if (o.follow) await followFile(file, size, (l) => shown(l) && process.stdout.write(`${l}\n`));
    });

  program
    .command('stop')
    .description('ask the running engine to stop cleanly (like SIGTERM): trainings resume at the next start, state is flushed')
    .option('--reason <text>', 'logged with the stop')
    .action(async (o: { reason?: string }, cmd: Command) => {
      const { home } = globalOptions(cmd);
      const view = await locateEngine(home);
      if (!view.client) throw new CliError(view.note ?? 'no engine running', 1);
      const r = await view.client.command('stop', o.reason ? { reason: o.reason } : {});
      process.stdout.write(`${r.message}\n`);
      if (!r.ok) process.exitCode = 1;
    });
}

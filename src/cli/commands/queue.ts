import type { Command } from 'commander';
import { join } from 'node:path';
import { globalOptions } from '../context.js';
import { printJson } from '../json.js';
import { CliError } from '../errors.js';
import type { TrainingQueue } from '../../training/queue.js';
import type { JobView } from '../../engine-api.js';
import type { Config } from '../../config/schema.js';
import { loadCommandConfig } from './models.js';

import { SYMBOL_RE } from '../../market/symbols.js';

async function openQueue(cmd: Command): Promise<{ queue: TrainingQueue; notes: string[]; home: string; config: Config }> {
  const { home, configPath } = globalOptions(cmd);
  const { config, note } = await loadCommandConfig(configPath);
  const { TrainingQueue, QUEUE_FILE_NAME, QueueCorruptError } = await import('../../training/queue.js');
  const { systemClock } = await import('../../clock.js');
  try {
    // Not the engine: entries another process is running stay `running`.
    const queue = await TrainingQueue.open({ file: join(home, 'data', QUEUE_FILE_NAME), clock: systemClock, maxAttempts: config.auto_training.max_attempts });
    return { queue, notes: [note, ...queue.warnings].filter((n): n is string => !!n), home, config };
  } catch (err) {
    if (err instanceof QueueCorruptError) throw new CliError(err.message, 2);
    throw err;
  }
}

const when = (t: number | null): string => (t === null ? '-' : new Date(t).toISOString().slice(0, 19).replace('T', ' '));

const eta = (s: number | null): string => (s === null ? '-' : s < 90 ? `${Math.round(s)}s` : s < 5400 ? `${Math.round(s / 60)}m` : `${(s / 3600).toFixed(1)}h`);

function table(jobs: JobView[]): string {
  if (jobs.length === 0) return 'queue is empty\n';
  const head = `${'ID'.padEnd(6)} ${'SYMBOL'.padEnd(12)} ${'STATE'.padEnd(10)} ${'PRIO'.padStart(4)} ${'TRIES'.padStart(5)}  ${'ADDED'.padEnd(19)}  ${'TRIGGER'.padEnd(10)} ${'ETA'.padStart(5)}  REASON / LAST ERROR`;
  const rows = jobs.map(
    (j) =>
      `${j.id.padEnd(6)} ${j.symbol.padEnd(12)} ${j.state.padEnd(10)} ${String(j.priority).padStart(4)} ${String(j.attempts).padStart(5)}  ${when(j.queuedAt)}  ${j.trigger.padEnd(10)} ${eta(j.etaS).padStart(5)}  ${j.lastError ?? j.reason}`,
  );
  return `${[head, ...rows].join('\n')}\n`;
}

/** The queue as the projection shows it (ETAs, triggers, curves), from this queue's entries. */
async function jobsOf(home: string, config: Config, q: TrainingQueue): Promise<JobView[]> {
  const { loadOfflineParts, offlineSnapshot } = await import('../../engine/offline.js');
  const parts = await loadOfflineParts(home, config);
  const entries = q.list();
  const snap = await offlineSnapshot(parts, { queue: entries });
  // The projection shows every active entry and the most recent finished ones; a listing shows all.
  const shown = new Map(snap.jobs.map((j) => [j.id, j]));
  return entries.map((e) => shown.get(e.id) ?? { id: e.id, symbol: e.symbol, trigger: e.trigger, reason: e.reason, state: e.state, priority: e.priority, attempts: e.attempts, lastError: e.last_error, queuedAt: e.added_at, startedAt: e.started_at, finishedAt: e.finished_at, progress: null, lossHistory: [], valHistory: [], curvePhase: null, valLabel: 'validation', etaS: null });
}

type Output = { json: unknown; text: string };
type Opts = Record<string, string | boolean | undefined>;

/**
 * Run one queue action: `prepare` checks the arguments before the queue file is opened (bad input
 * changes nothing), then its result runs against the queue. `--json` may sit on `queue` or the action.
 */
function action(prepare: (args: string[], opts: Opts) => (q: TrainingQueue, ctx: { home: string; config: Config; cmd: Command }) => Promise<Output>) {
  return async (...all: unknown[]): Promise<void> => {
    const cmd = all[all.length - 1] as Command;
    const opts = all[all.length - 2] as Opts;
    const json = opts.json || cmd.parent?.opts<{ json?: boolean }>().json;
    const run = prepare(all.slice(0, -2) as string[], opts);
    const { queue, notes, home, config } = await openQueue(cmd);
    let out: Output;
    try {
      out = await run(queue, { home, config, cmd });
    } catch (err) {
      if (err instanceof Error && err.name === 'QueueEntryNotFoundError') throw new CliError(err.message, 1);
      throw err;
    }
    if (json) printJson({ ...(out.json as object), notes }, { pretty: true });
    else process.stdout.write(`${notes.map((n) => `note: ${n}\n`).join('')}${out.text}`);
  };
}

function parseSymbol(s: string): string {
  const up = s.toUpperCase();
  if (!SYMBOL_RE.test(up)) throw new CliError(`symbol: expected a pair like SOL/USDT, got "${s}"`, 2);
  return up;
}

/** A symbol the configured source does not list is refused (exit 2) before anything is written. */
async function assertListed(cmd: Command, symbol: string): Promise<void> {
  const { home, configPath } = globalOptions(cmd);
  const { assertListed: check } = await import('../listed.js');
  await check(home, configPath, symbol, 'not queued');
}

function parseNumber(what: string, s: string): number {
  const n = Number(s);
  if (!Number.isFinite(n) || s.trim() === '') throw new CliError(`${what}: expected a number, got "${s}"`, 2);
  return n;
}

const ref = (r: string): string => (r.includes('/') ? r.toUpperCase() : r);

export function registerQueue(program: Command): void {
  const queue = program.command('queue').description('inspect and manage the training queue (works without a running engine)').option('--json', 'print JSON');

  queue
    .command('list', { isDefault: true })
    .description('list queue entries (default)')
    .option('--json', 'print JSON')
    .action(
      action(() => async (q, ctx) => {
        const jobs = await jobsOf(ctx.home, ctx.config, q);
        // `entries` are the file's rows as documented; `jobs` the same entries as the console shows them.
        return { json: { entries: q.list(), jobs }, text: table(jobs) };
      }),
    );

  queue
    .command('add <symbol>')
    .description('queue a symbol for training')
    .option('--priority <n>', 'higher runs first', '0')
    .option('--reason <text>', 'why', 'added by the operator')
    .option('--json', 'print JSON')
    .action(
      action(([symbol], o) => {
        const sym = parseSymbol(symbol);
        const priority = parseNumber('--priority', String(o.priority));
        return async (q, ctx) => {
          await assertListed(ctx.cmd, sym);
          const { entry, added } = await q.add(sym, { priority, trigger: 'operator', reason: String(o.reason) });
          return { json: { entry, added }, text: added ? `queued ${entry.symbol} as ${entry.id}\n` : `${entry.symbol} is already ${entry.state} as ${entry.id}\n` };
        };
      }),
    );

  queue
    .command('cancel <id|symbol>')
    .description('cancel an entry, or every active entry of a symbol')
    .option('--json', 'print JSON')
    .action(
      action(([r]) => async (q) => {
        const hit = await q.cancel(ref(r));
        const text = hit.map((e) => `cancelled ${e.id} (${e.symbol})${e.started_at !== null ? ': it was running, the engine stops it' : ''}\n`).join('');
        return { json: { cancelled: hit }, text };
      }),
    );

  queue
    .command('clear')
    .description('remove every entry that is not running')
    .option('--json', 'print JSON')
    .action(
      action(() => async (q) => {
        const removed = await q.clear();
        return { json: { removed }, text: `removed ${removed} entr${removed === 1 ? 'y' : 'ies'}\n` };
      }),
    );

  queue
    .command('prioritize <id|symbol> <n>')
    .description('set the priority of an active entry (higher runs first)')
    .option('--json', 'print JSON')
    .action(
      action(([r, n]) => {
        const value = parseNumber('priority', n);
        return async (q) => {
          const e = await q.prioritize(ref(r), { value });
          return { json: { entry: e }, text: `${e.id} (${e.symbol}) priority ${e.priority}\n` };
        };
      }),
    );
}

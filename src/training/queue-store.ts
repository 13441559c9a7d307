/**
 * The queue file on disk: data/new_symbol_training_queue.json, the seed's format
 * { queued_symbols, queued_at } extended with `entries`. Loading recovers from the `.bak` copy
 * (written after every successful write) when the main file is corrupt, keeping the corrupt file
 * as `<file>.corrupt-<ts>`; when both are unusable it refuses and changes nothing.
 */
import { readFile, rename } from 'node:fs/promises';
import { z } from 'zod';
import { corruptAsideName } from '../util/atomic.js';

export type QueueEntryState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

/** Why an entry was queued: the engine branches on this (a retrain forces a new version), never on `reason`. */
export const QUEUE_TRIGGERS = ['new_symbol', 'retrain', 'operator'] as const;
export type QueueTrigger = (typeof QUEUE_TRIGGERS)[number];

/**
 * Files written before `trigger` existed carry the same fact only in `reason`, in the words the
 * engine used then ("retrain: ...", "new symbol: ..."); this reads them once when the file is
 * loaded, and the entry is rewritten with its trigger at the next save.
 */
export function legacyTrigger(reason: string): QueueTrigger {
  if (reason.startsWith('retrain')) return 'retrain';
  if (reason.startsWith('new symbol')) return 'new_symbol';
  return 'operator';
}

const entrySchema = z.object({
  id: z.string().min(1),
  symbol: z.string().min(1),
  priority: z.number(),
  state: z.enum(['queued', 'running', 'done', 'failed', 'cancelled']),
  attempts: z.number().int().min(0),
  last_error: z.string().nullable(),
  reason: z.string(),
  next_attempt_at: z.number().nullable(),
  added_at: z.number(),
  started_at: z.number().nullable().default(null),
  finished_at: z.number().nullable().default(null),
  last_trained_at: z.number().nullable().default(null),
  trigger: z.enum(QUEUE_TRIGGERS).optional(),
  /**
   * BullMQ job id of the current attempt when it runs on a remote `kilo worker`
   * (distributed.backend bullmq); absent in files written before it existed and for local runs.
   */
  remote_job_id: z.string().min(1).nullable().optional(),
}).transform((e) => ({ ...e, trigger: e.trigger ?? legacyTrigger(e.reason) }));

const fileSchema = z.object({
  queued_symbols: z.array(z.string()),
  queued_at: z.record(z.string(), z.string()),
  entries: z.array(entrySchema).default([]),
  next_seq: z.number().int().min(1).default(1),
});

export type QueueEntry = z.infer<typeof entrySchema>;
export type QueueFileData = z.infer<typeof fileSchema>;

export const emptyQueueFile = (): QueueFileData => ({ queued_symbols: [], queued_at: {}, entries: [], next_seq: 1 });

export class QueueCorruptError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`training queue ${file} is corrupt and its backup cannot be used (${detail}); the file was left untouched: fix or move it away`);
    this.name = 'QueueCorruptError';
  }
}

export const backupPath = (file: string): string => `${file}.bak`;

type ReadResult = { kind: 'missing' } | { kind: 'ok'; data: QueueFileData } | { kind: 'bad'; error: string };

export async function readQueueFile(file: string): Promise<ReadResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'bad', error: String(err) };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { kind: 'bad', error: `malformed JSON: ${(err as Error).message}` };
  }
  // The seed's original file had only queued_symbols/queued_at: turn those into entries.
  if (raw && typeof raw === 'object' && !Array.isArray(raw) && !('entries' in raw)) raw = fromSeedFormat(raw as Record<string, unknown>);
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { kind: 'bad', error: `${issue.path.join('.') || '(root)'}: ${issue.message}` };
  }
  return { kind: 'ok', data: parsed.data };
}

function fromSeedFormat(raw: Record<string, unknown>): unknown {
  const symbols = Array.isArray(raw.queued_symbols) ? raw.queued_symbols : [];
  const at = (raw.queued_at ?? {}) as Record<string, string>;
  const entries = symbols.map((s, i) => ({
    id: `q${i + 1}`,
    symbol: s,
    priority: 0,
    state: 'queued',
    attempts: 0,
    last_error: null,
    reason: 'from the seed queue file',
    trigger: 'new_symbol',
    next_attempt_at: null,
    added_at: Number.isFinite(Date.parse(at[s])) ? Date.parse(at[s]) : 0,
  }));
  return { ...raw, entries, next_seq: entries.length + 1 };
}

export interface LoadOutcome {
  data: QueueFileData;
  warnings: string[];
  /** True when the main file must be rewritten (recovered or created). */
  dirty: boolean;
}

/** Load with recovery. Never writes except renaming a corrupt main file aside after a good backup is found. */
export async function loadQueueFile(file: string, nowMs: number): Promise<LoadOutcome> {
  const main = await readQueueFile(file);
  if (main.kind === 'ok') return { data: main.data, warnings: [], dirty: false };
  const bak = await readQueueFile(backupPath(file));
  if (main.kind === 'missing') {
    if (bak.kind === 'ok') return { data: bak.data, warnings: [`training queue ${file} was missing; restored ${bak.data.entries.length} entries from ${backupPath(file)}`], dirty: true };
    return { data: emptyQueueFile(), warnings: [], dirty: false };
  }
  if (bak.kind !== 'ok') throw new QueueCorruptError(file, `${main.error}; backup ${bak.kind === 'missing' ? 'missing' : bak.error}`);
  const aside = await corruptAsideName(file, nowMs);
  await rename(file, aside);
  return {
    data: bak.data,
    warnings: [`training queue ${file} was corrupt (${main.error}); recovered ${bak.data.entries.length} entries from ${backupPath(file)}, corrupt file kept as ${aside}`],
    dirty: true,
  };
}

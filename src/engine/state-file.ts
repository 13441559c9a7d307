/**
 * data/engine-state.json, the file EngineState persists itself to: its schema, the migration of
 * the first format (version 1: market time, blocks and the broker only) and a read-only loader for
 * commands that answer from the files while no engine runs. Every symbol that enters from this
 * file is checked against the one symbol syntax; a bad key names the file and the entry.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { SYMBOL_RE } from '../market/symbols.js';
import type { Config } from '../config/schema.js';
import type { VerdictFigures } from '../evaluation/edge.js';

const symbolKey = z.string().refine((s) => SYMBOL_RE.test(s), { message: 'not a symbol like BTC/USDT' });
const version = z.string().regex(/^\d+\.\d+$/, 'expected a version like "1.0"');
const finite = z.number().refine(Number.isFinite, { message: 'not a finite number' });

const signalSchema = z.object({
  symbol: symbolKey,
  at: finite,
  direction: z.enum(['bullish', 'bearish', 'neutral']),
  confidence: finite,
  contributions: z.record(z.string(), finite),
  modelVersion: version.nullable(),
  fallback: z.boolean().optional(),
  reason: z.string().optional(),
  edge: z
    .object({
      kind: z.enum(['model', 'ta', 'hold', 'override']),
      verdict: z.enum(['edge', 'no_edge', 'unknown']),
      taVerdict: z.enum(['edge', 'no_edge', 'unknown']),
      override: z.enum(['operator', 'config']).nullable(),
      version: z.string().nullable(),
      reason: z.string(),
      label: z.string(),
      // Shown, never computed with: a NaN figure comes back from JSON as null and prints as n/a.
      figures: z.custom<VerdictFigures>((v) => typeof v === 'object' && v !== null).nullable(),
    })
    .optional(),
  traded: z.object({ direction: z.enum(['bullish', 'bearish', 'neutral']), confidence: finite, via: z.enum(['ta', 'hold']) }).optional(),
});

const tradeSchema = z.object({
  at: finite,
  symbol: symbolKey,
  side: z.enum(['buy', 'sell']),
  qty: finite,
  price: finite,
  fee: finite,
  reason: z.string(),
  realisedPnl: finite.optional(),
});

const retrainSchema = z.object({
  retrain: z.boolean(),
  trigger: z.enum(['win_rate', 'schedule', 'initial']).nullable(),
  reason: z.string(),
  refused: z.enum(['win_rate', 'schedule', 'initial']).optional(),
});

const judgementSchema = z.object({
  verdict: z.enum(['trainable', 'stablecoin', 'illiquid', 'insufficient_data']),
  reason: z.string(),
  historyDays: finite,
  coverage: finite,
  dailyVol: finite.nullable(),
  quoteVolume24h: finite,
});

const servingEventSchema = z.object({
  at: finite,
  symbol: symbolKey.nullable(),
  kind: z.enum(['pin', 'unpin', 'fallback', 'fallback_end', 'edge_override']),
  version: z.string().nullable(),
  reason: z.string(),
});

const requestSchema = z.object({
  models: z.array(z.enum(['gru', 'gbdt', 'ppo'])).optional(),
  quick: z.boolean().optional(),
  force: z.boolean().optional(),
  version: version.optional(),
});

export const stateSchema = z.strictObject({
  version: z.literal(2),
  marketTime: z.number().nullable(),
  manualBlocks: z.record(symbolKey, z.string()),
  broker: z.unknown().nullable(),
  /** The operator's pin, valid while config.yaml still says `configPinned` (an edited config wins). */
  pin: z.object({ version: version.nullable(), configPinned: version.nullable() }).nullable(),
  requests: z.record(symbolKey, requestSchema),
  lastSignals: z.record(symbolKey, signalSchema),
  retrainDecisions: z.record(symbolKey, retrainSchema),
  usage: z.record(version, z.number().int().min(0)),
  trades: z.array(tradeSchema),
  symbolPnl: z.record(symbolKey, z.object({ realised: finite, fees: finite, trades: z.number().int().min(0) })),
  benchmark: z.object({ ref: z.record(symbolKey, z.number().positive()), curve: z.array(finite) }),
  judgements: z.record(symbolKey, judgementSchema),
  shortHistory: z.record(symbolKey, z.object({ days: finite, coverage: finite, reason: z.string() })),
  universe: z.array(symbolKey),
  fallbacks: z.record(symbolKey, z.string()),
  servingEvents: z.array(servingEventSchema),
  jobCurves: z.record(z.string(), z.object({ loss: z.array(finite), val: z.array(finite), phase: z.string().optional() })),
  /** The operator's edge-gate overrides per symbol (absent in files written before them). */
  edgeOverrides: z.record(symbolKey, z.object({ on: z.boolean(), at: finite, reason: z.string() })).default({}),
  /** Challengers running in shadow per symbol (auto_training.shadow_days; absent in older files). */
  shadows: z
    .record(
      symbolKey,
      z.object({
        champion: version,
        challenger: version,
        startedAt: finite,
        until: finite,
        gateReason: z.string(),
        score: z.object({ at: finite, rows: z.number().int().min(0), champion: finite, challenger: finite }).nullable(),
      }),
    )
    .default({}),
});

export type StateData = z.infer<typeof stateSchema>;

export const emptyState = (): StateData => ({
  version: 2,
  marketTime: null,
  manualBlocks: {},
  broker: null,
  pin: null,
  requests: {},
  lastSignals: {},
  retrainDecisions: {},
  usage: {},
  trades: [],
  symbolPnl: {},
  benchmark: { ref: {}, curve: [] },
  judgements: {},
  shortHistory: {},
  universe: [],
  fallbacks: {},
  servingEvents: [],
  jobCurves: {},
  edgeOverrides: {},
  shadows: {},
});

const v1Schema = z.strictObject({
  version: z.literal(1),
  marketTime: z.number().nullable(),
  manualBlocks: z.record(symbolKey, z.string()),
  broker: z.unknown().nullable(),
});

/** Validate what was read; version 1 files are carried over. Throws naming the key. */
export function parseState(raw: unknown, file: string): StateData {
  const isV1 = typeof raw === 'object' && raw !== null && (raw as { version?: unknown }).version === 1;
  const r = isV1 ? v1Schema.safeParse(raw) : stateSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(`${file}: invalid at "${i.path.join('.') || '(root)'}": ${i.message}`);
  }
  if (isV1) {
    const v1 = r.data as z.infer<typeof v1Schema>;
    return { ...emptyState(), marketTime: v1.marketTime, manualBlocks: v1.manualBlocks, broker: v1.broker };
  }
  return r.data as StateData;
}

/**
 * The state as saved, without taking the engine's place: no lock, no write, no recovery copy.
 * A corrupt file is read from its .bak (the warning says so); neither: the defaults and why.
 */
export async function readStateFile(file: string): Promise<{ data: StateData; warnings: string[] }> {
  const read = async (f: string): Promise<{ data?: StateData; error?: string; missing?: boolean }> => {
    let text: string;
    try {
      text = await readFile(f, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { missing: true };
      return { error: (err as Error).message };
    }
    try {
      return { data: parseState(JSON.parse(text), f) };
    } catch (err) {
      return { error: (err as Error).message };
    }
  };
  const main = await read(file);
  if (main.data) return { data: main.data, warnings: [] };
  const bak = await read(`${file}.bak`);
  if (bak.data) return { data: bak.data, warnings: [main.missing ? `${file} is missing; read its .bak` : `${file}: ${main.error}; read its .bak`] };
  if (main.missing && bak.missing) return { data: emptyState(), warnings: [] };
  return { data: emptyState(), warnings: [`${file}: ${main.error ?? 'missing'}; .bak: ${bak.error ?? 'missing'}; showing empty state`] };
}

/** The pinned version in force: the operator's, while config.yaml still says what it said then; else config.yaml's. */
export function pinInForce(data: Pick<StateData, 'pin'>, config: Config): string | null {
  const pin = data.pin;
  return pin && pin.configPinned === config.model.pinned_version ? pin.version : config.model.pinned_version;
}

/** The config with that pin applied (the same object when it changes nothing). */
export function withPin(config: Config, pinned: string | null): Config {
  return pinned === config.model.pinned_version ? config : { ...config, model: { ...config.model, pinned_version: pinned } };
}

/**
 * Shapes of data/performance.json (the OutcomeTracker's file) and their validation. Kept apart
 * from the tracker so the file format can be read without pulling in its logic.
 */
import { z } from 'zod';

const direction = z.enum(['bullish', 'bearish']);

export const pendingSchema = z.strictObject({
  id: z.string().min(1),
  symbol: z.string().min(1),
  at: z.number(),
  direction,
  confidence: z.number(),
  price: z.number().positive(),
  modelVersion: z.string().nullable(),
  horizonBars: z.number().int().positive(),
  /** Candles seen since the signal; the outcome is known when this reaches horizonBars. */
  barsSeen: z.number().int().min(0),
  /** Timestamp of the last candle counted, so the same candle is never counted twice. */
  lastBarAt: z.number(),
});

export const resolvedSchema = pendingSchema.omit({ barsSeen: true, lastBarAt: true }).extend({
  resolvedAt: z.number(),
  exitPrice: z.number().positive(),
  /** Price move over the horizon in percent, unsigned by direction. */
  movePct: z.number(),
  correct: z.boolean(),
  /** Percent PnL of trading the call: direction-signed move minus fees on entry and exit. */
  pnlPct: z.number(),
});

const counts = {
  signals: z.number().int().min(0),
  correct: z.number().int().min(0),
  pnlSum: z.number(),
};

export const versionStatsSchema = z.strictObject({ ...counts, lastRetrain: z.number().nullable() });

export const symbolStatsSchema = z.strictObject({
  ...counts,
  lastRetrainAt: z.number().nullable(),
  signalsSinceRetrain: z.number().int().min(0),
  correctSinceRetrain: z.number().int().min(0),
  pnlSinceRetrain: z.number(),
});

export const symbolBookSchema = z.strictObject({
  stats: symbolStatsSchema,
  /** Keyed by model version; signals without a version are kept under "none". */
  byVersion: z.record(z.string(), versionStatsSchema),
  /** Most recent resolved signals, oldest first (bounded); the counts above stay exact. */
  history: z.array(resolvedSchema),
});

export const performanceSchema = z.strictObject({
  version: z.literal(1),
  nextId: z.number().int().min(1),
  pending: z.array(pendingSchema),
  symbols: z.record(z.string(), symbolBookSchema),
});

export type PendingSignal = z.infer<typeof pendingSchema>;
export type ResolvedSignal = z.infer<typeof resolvedSchema>;
export type VersionStats = z.infer<typeof versionStatsSchema>;
export type SymbolStats = z.infer<typeof symbolStatsSchema>;
export type SymbolBook = z.infer<typeof symbolBookSchema>;
export type PerformanceData = z.infer<typeof performanceSchema>;

export class PerformanceFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PerformanceFileError';
  }
}

/** Validate parsed JSON; the error names the first offending key. */
export function parsePerformance(raw: unknown, source: string): PerformanceData {
  const r = performanceSchema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new PerformanceFileError(`${source}: invalid at "${issue.path.join('.') || '(root)'}": ${issue.message}`);
}

export const emptyPerformance = (): PerformanceData => ({ version: 1, nextId: 1, pending: [], symbols: {} });

/**
 * The promotion gate's decisions, kept for the operator (data/promotions.json, lowdb + .bak).
 * Lives here rather than in src/policy/ so the policy files stay pure. Bounded: the oldest
 * decisions are dropped beyond `limit`.
 */
import { z } from 'zod';
import { DECISION_KINDS, type DecisionKind, type PromotionDecision } from '../engine-api.js';
import { GuardedStore } from './guarded-store.js';

/**
 * Decisions written before `kind` existed say `promoted: true|false` and use "-" for "no
 * challenger" (a failed retrain); they are read as promoted / failed / kept.
 */
const decisionSchema = z
  .strictObject({
    at: z.number(),
    symbol: z.string().min(1),
    kind: z.enum(DECISION_KINDS as [DecisionKind, ...DecisionKind[]]).optional(),
    championVersion: z.string().nullable(),
    challengerVersion: z.string().nullable(),
    championScore: z.number().nullable(),
    challengerScore: z.number().nullable(),
    promoted: z.boolean().optional(),
    reason: z.string(),
    lowerBound: z.number().nullable().optional(),
    rows: z.number().int().min(0).optional(),
    window: z.tuple([z.number(), z.number()]).nullable().optional(),
    metric: z.string().optional(),
    forced: z.boolean().optional(),
  })
  .refine((d) => d.kind !== undefined || d.promoted !== undefined, { message: 'a decision needs a kind' })
  .transform(({ promoted, kind, ...d }): PromotionDecision => {
    const challengerVersion = d.challengerVersion === '-' ? null : d.challengerVersion;
    return { ...d, challengerVersion, kind: kind ?? (promoted ? 'promoted' : challengerVersion === null ? 'failed' : 'kept') };
  });

const fileSchema = z.strictObject({ version: z.literal(1), decisions: z.array(decisionSchema) });
type HistoryFile = z.infer<typeof fileSchema>;

/** Validate promotions.json contents (also for readers that must not write, e.g. `kilo history`). */
export function parsePromotionFile(raw: unknown, file: string): HistoryFile {
  const r = fileSchema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new PromotionHistoryError(`${file}: invalid at "${issue.path.join('.') || '(root)'}": ${issue.message}`);
}

/** Newest first, optionally one symbol's. */
export const decisionsOf = (data: HistoryFile, symbol?: string): PromotionDecision[] =>
  data.decisions
    .filter((d) => symbol === undefined || d.symbol === symbol)
    .map((d) => ({ ...d }))
    .reverse();

export class PromotionHistoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PromotionHistoryError';
  }
}

/** JSON has no NaN: a non-finite score (a broken challenger) is stored as null. */
const finiteOrNull = (x: number | null): number | null => (x !== null && Number.isFinite(x) ? x : null);

export class PromotionHistory {
  private constructor(
    private readonly store: GuardedStore<HistoryFile>,
    private readonly limit: number,
  ) {}

  static async open(file: string, opts: { limit?: number; onWarn?: (m: string) => void } = {}): Promise<PromotionHistory> {
    const store = await GuardedStore.open<HistoryFile>(file, {
      defaults: () => ({ version: 1, decisions: [] }),
      parse: (raw) => parsePromotionFile(raw, file),
      onWarn: opts.onWarn,
    });
    return new PromotionHistory(store, Math.max(1, opts.limit ?? 200));
  }

  /** Append a decision and persist it. */
  async add(decision: PromotionDecision): Promise<void> {
    const list = this.store.data.decisions;
    list.push({
      ...decision,
      championScore: finiteOrNull(decision.championScore),
      challengerScore: finiteOrNull(decision.challengerScore),
      ...(decision.lowerBound !== undefined ? { lowerBound: finiteOrNull(decision.lowerBound) } : {}),
    });
    if (list.length > this.limit) list.splice(0, list.length - this.limit);
    await this.store.write();
  }

  /** Newest first, optionally for one symbol. */
  list(symbol?: string): PromotionDecision[] {
    return decisionsOf(this.store.data, symbol);
  }

  latest(symbol: string): PromotionDecision | null {
    return this.list(symbol)[0] ?? null;
  }
}

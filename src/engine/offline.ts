/**
 * The snapshot of a home whose engine is not running, from its files alone: engine-state.json,
 * the registry (models/ + serving.json), the queue file, performance.json and promotions.json,
 * projected by the same project() the running engine uses. Nothing is written and no lock is
 * taken: a corrupt file is read from its .bak and the note says so. `kilo models --json`,
 * `kilo coverage`, `kilo queue`, `kilo status`, `kilo positions`, `kilo trades` and `kilo history`
 * answer from here when no engine runs.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { EngineSnapshot, PromotionDecision } from '../engine-api.js';
import { ModelRegistry, registryPaths } from '../registry/registry.js';
import { QUEUE_FILE_NAME, type QueueEntry } from '../training/queue.js';
import { backupPath, readQueueFile } from '../training/queue-store.js';
import { PaperBroker } from '../trading/broker.js';
import { OutcomeTracker } from '../trading/outcomes.js';
import { emptyPerformance, parsePerformance } from '../trading/outcome-types.js';
import { decisionsOf, parsePromotionFile } from '../trading/promotion-history.js';
import { estimateTrainingSeconds, type PastTraining } from '../assets/estimate.js';
import { assessUniverse, coverageOf, type AssessedUniverse } from './coverage.js';
import type { SkippedSymbol } from '../assets/coverage.js';
import type { UnknownAssetJudgement } from '../policy/tier.js';
import { pinInForce, readStateFile, withPin, type StateData } from './state-file.js';
import { project } from './project.js';

/** Measured past trainings from the artifacts' metadata (the time estimates are built from these). */
export function pastTrainings(registry: Pick<ModelRegistry, 'list'>): PastTraining[] {
  return registry
    .list()
    .flatMap((v) => v.artifacts)
    .map((a) => a.metadata)
    .filter((m) => m !== null && typeof m.training_duration_s === 'number')
    .map((m) => ({ durationS: m!.training_duration_s as number, profile: m!.profile }));
}

/** Median seconds of a training, from past trainings' metadata (the queue's ETAs). */
export function typicalTrainingSeconds(registry: ModelRegistry, config: Config): number | null {
  const past = pastTrainings(registry);
  return past.length ? estimateTrainingSeconds(past, 'quick', config).seconds : null;
}

async function readJsonWithBak<T>(file: string, parse: (raw: unknown) => T, fallback: () => T, notes: string[]): Promise<T> {
  const attempt = async (f: string): Promise<{ ok: T } | { missing: true } | { error: string }> => {
    let text: string;
    try {
      text = await readFile(f, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { missing: true };
      return { error: (err as Error).message };
    }
    try {
      return { ok: parse(JSON.parse(text)) };
    } catch (err) {
      return { error: (err as Error).message };
    }
  };
  const main = await attempt(file);
  if ('ok' in main) return main.ok;
  const bak = await attempt(`${file}.bak`);
  if ('ok' in bak) {
    notes.push(`${file}: ${'error' in main ? main.error : 'missing'}; read its .bak`);
    return bak.ok;
  }
  if ('error' in main) notes.push(`${file}: ${main.error}; showing nothing from it`);
  return fallback();
}

export interface OfflineParts {
  home: string;
  config: Config;
  state: StateData;
  registry: ModelRegistry;
  queue: QueueEntry[];
  promotions: PromotionDecision[];
  notes: string[];
}

/** Read everything the projection needs from the files of `home`. */
export async function loadOfflineParts(home: string, config: Config, opts: { verifyChecksums?: boolean } = {}): Promise<OfflineParts> {
  const data = join(home, 'data');
  const notes: string[] = [];
  const st = await readStateFile(join(data, 'engine-state.json'));
  notes.push(...st.warnings);
  const registry = new ModelRegistry({ ...registryPaths(home), verifyChecksums: opts.verifyChecksums ?? false, onWarn: (w) => notes.push(w) });
  await registry.refresh();
  const problem = registry.servingProblem();
  if (problem) notes.push(problem);
  const qfile = join(data, QUEUE_FILE_NAME);
  let q = await readQueueFile(qfile);
  if (q.kind === 'bad') {
    const bak = await readQueueFile(backupPath(qfile));
    notes.push(`${qfile}: ${q.error}; ${bak.kind === 'ok' ? 'read its .bak' : 'showing an empty queue'}`);
    q = bak;
  }
  const queue = q.kind === 'ok' ? q.data.entries : [];
  const pfile = join(data, 'promotions.json');
  const promotions = await readJsonWithBak(pfile, (raw) => decisionsOf(parsePromotionFile(raw, pfile)), () => [], notes);
  return { home, config, state: st.data, registry, queue, promotions, notes };
}

/** The universe as the engine last saw it; the configured list when it never ran. */
export function offlineUniverse(config: Config, state: StateData): string[] {
  if (config.universe.mode === 'list') return [...new Set([...config.universe.core_symbols, ...config.universe.symbols])];
  return state.universe.length ? state.universe : [...config.universe.core_symbols];
}

/**
 * What the engine would make of this home's universe right now, from its own market source and
 * judgement code (`kilo coverage`): the universe with core symbols, configured symbols the source
 * does not list (skipped), and a judgement for every unknown-tier symbol - the engine's saved one,
 * else made now from the source's candles at the engine's market time. Candles of a live exchange
 * go through the same candle store the engine uses. Never throws for an unreachable source: notes say why.
 */
export async function assessOffline(parts: OfflineParts): Promise<AssessedUniverse & { marketNow: number }> {
  const { config, state, home } = parts;
  const [{ createMarketSource }, { MarketClockDriver }, { StoredSource }, { systemClock }] = await Promise.all([
    import('../market/index.js'),
    import('./market-clock.js'),
    import('./stored-source.js'),
    import('../clock.js'),
  ]);
  const now = Date.now();
  let driver;
  let market;
  try {
    driver = await MarketClockDriver.create({ config, home, now, resumeAt: state.marketTime });
    market = await createMarketSource(config, { home, clock: driver.clock ?? systemClock });
  } catch (err) {
    // A CSV folder that is gone: what the files say, and why nothing more.
    return {
      universe: offlineUniverse(config, state),
      skipped: [],
      judgements: new Map(Object.entries(state.judgements)),
      notes: [`market source unavailable (${(err as Error).message}): symbols not checked or judged`],
      marketNow: state.marketTime ?? now,
    };
  }
  const clock = driver.clock ?? systemClock;
  const source =
    market.source.kind === 'exchange'
      ? StoredSource.create(market.source, join(home, config.data.cache_dir), market.storeName, systemClock, config.data.cache_expiry_h * 3_600_000)
      : market.source;
  try {
    const r = await assessUniverse({ config, source, marketNow: clock.now(), savedUniverse: state.universe, savedJudgements: state.judgements });
    if (market.notice) r.notes.unshift(market.notice);
    return { ...r, marketNow: clock.now() };
  } finally {
    await market.source.close?.();
  }
}

export async function offlineSnapshot(
  parts: OfflineParts,
  o: { now?: number; universe?: readonly string[]; queue?: readonly QueueEntry[]; judgements?: ReadonlyMap<string, UnknownAssetJudgement>; skipped?: readonly SkippedSymbol[] } = {},
): Promise<EngineSnapshot> {
  const { config, state, registry } = parts;
  const queue = o.queue ?? parts.queue;
  const cfg = withPin(config, pinInForce(state, config));
  const now = o.now ?? Date.now();
  const pfile = join(parts.home, 'data', 'performance.json');
  const perf = await readJsonWithBak(pfile, (raw) => parsePerformance(raw, pfile), emptyPerformance, parts.notes);
  const stats = OutcomeTracker.readOnly(perf, { feeRate: config.paper_trading.fee_rate });
  let broker = new PaperBroker(config.paper_trading);
  if (state.broker) {
    try {
      broker = PaperBroker.fromJSON(state.broker, config.paper_trading, {}, 'data/engine-state.json broker');
    } catch (err) {
      parts.notes.push((err as Error).message);
    }
  }
  const lastPrices = broker.toJSON().lastPrices;
  const universe = o.universe ?? offlineUniverse(config, state);
  const coverage = coverageOf({
    config: cfg,
    universe,
    covered: registry.coveredSymbols(cfg),
    judgements: o.judgements ?? new Map(Object.entries(state.judgements)),
    shortHistory: new Map(Object.entries(state.shortHistory)),
    blocks: state.manualBlocks,
    queue,
    skipped: o.skipped,
  });
  return project({
    origin: 'files',
    config: cfg,
    status: 'stopped',
    startedAt: null,
    now,
    marketNow: config.data.source === 'exchange' ? now : (state.marketTime ?? now),
    round: 0,
    dataSource: config.data.source,
    backend: 'n/a',
    state,
    registry,
    universe,
    coverage,
    queue,
    live: new Map(),
    stats,
    broker,
    market: (symbol) => ({ price: lastPrices[symbol] ?? null, sparkline: [], candles: 0 }),
    promotions: parts.promotions,
    logs: [],
    typicalTrainingS: typicalTrainingSeconds(registry, config),
  });
}

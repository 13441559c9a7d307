/**
 * What the crash trials check after every kill -9, read straight from a home folder with the same
 * library code the engine uses to load it. Each check returns the corruptions it found (strings
 * naming the file and the problem) so the suite can count them and print them.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { discoverModels } from '../../src/registry/discover.js';
import { ModelRegistry, registryPaths } from '../../src/registry/registry.js';
import { readVerifiedArtifact } from '../../src/models/artifact.js';
import { readQueueFile, loadQueueFile, type QueueEntry } from '../../src/training/queue-store.js';
import { OutcomeTracker } from '../../src/trading/outcomes.js';
import { parsePerformance, type PerformanceData } from '../../src/trading/outcome-types.js';
import { readStateFile } from '../../src/engine/state-file.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';

export interface ModelCheck {
  artifacts: number;
  tmpFolders: number;
  problems: string[];
}

/** Every artifact discovery calls complete verifies byte for byte; nothing incomplete is served. */
export async function checkModels(home: string, config: Config, now: number): Promise<ModelCheck> {
  const { modelsDir } = registryPaths(home);
  const problems: string[] = [];
  const versions = await discoverModels(modelsDir, { verifyChecksums: true });
  let artifacts = 0;
  for (const v of versions) {
    for (const a of v.artifacts) {
      artifacts++;
      // The trainer renames whole folders into place: a visible folder that is not complete is a torn write.
      if (!a.complete) problems.push(`${a.dir}: visible but incomplete (${a.problems.join('; ')})`);
      else {
        try {
          await readVerifiedArtifact(a.dir);
        } catch (err) {
          problems.push(`${a.dir}: discovery says complete but verification fails: ${(err as Error).message}`);
        }
      }
    }
  }
  const registry = new ModelRegistry({ ...registryPaths(home) });
  await registry.refresh();
  if (registry.servingProblem()) problems.push(`serving map: ${registry.servingProblem()}`);
  for (const symbol of config.universe.symbols) {
    const s = registry.servingArtifactFor(config, symbol, now);
    if (s && !s.artifact.complete) problems.push(`${symbol} would be served by incomplete ${s.artifact.dir}`);
  }
  const tmpFolders = (await readdir(modelsDir).catch(() => [] as string[])).filter((n) => n.startsWith('.tmp-')).length;
  return { artifacts, tmpFolders, problems };
}

export interface QueueCheck {
  entries: QueueEntry[];
  problems: string[];
}

/** The main queue file parses (atomic rename), ids are unique, one active entry per symbol, and every id in `mustHave` is there. */
export async function checkQueue(home: string, mustHave: Map<string, string>): Promise<QueueCheck> {
  const file = join(home, 'data', 'new_symbol_training_queue.json');
  const problems: string[] = [];
  const main = await readQueueFile(file);
  let entries: QueueEntry[] = [];
  if (main.kind === 'bad') problems.push(`${file}: ${main.error}`);
  else if (main.kind === 'ok') entries = main.data.entries;
  if (main.kind === 'missing' && mustHave.size) problems.push(`${file}: missing although ${mustHave.size} entries were acknowledged`);
  const ids = new Set<string>();
  const active = new Set<string>();
  for (const e of entries) {
    if (ids.has(e.id)) problems.push(`${file}: duplicate id ${e.id}`);
    ids.add(e.id);
    if (e.state === 'queued' || e.state === 'running') {
      if (active.has(e.symbol)) problems.push(`${file}: two active entries for ${e.symbol}`);
      active.add(e.symbol);
    }
  }
  for (const [id, symbol] of mustHave) {
    const e = entries.find((x) => x.id === id);
    if (!e) problems.push(`${file}: acknowledged entry ${id} (${symbol}) lost`);
    else if (e.symbol !== symbol) problems.push(`${file}: entry ${id} is ${e.symbol}, acknowledged as ${symbol}`);
  }
  // What the next process would load (recovery included) must agree with the main file.
  if (main.kind === 'ok') {
    const loaded = await loadQueueFile(file, Date.now());
    if (JSON.stringify(loaded.data.entries) !== JSON.stringify(entries)) problems.push(`${file}: loading does not return the file's entries`);
  }
  return { entries, problems };
}

export interface PerfCheck {
  /** The committed stats: the main file (the .bak only trails it). */
  data: PerformanceData | null;
  problems: string[];
}

export const signalsBySymbol = (d: PerformanceData | null): Record<string, number> =>
  Object.fromEntries(Object.entries(d?.symbols ?? {}).map(([s, b]) => [s, b.stats.signals]));

/**
 * performance.json and its .bak both parse; the .bak never runs ahead of the main file; what
 * OutcomeTracker.open loads equals the main file; no symbol's count fell below `previous`.
 */
export async function checkPerformance(home: string, previous: Record<string, number>): Promise<PerfCheck> {
  const file = join(home, 'data', 'performance.json');
  const problems: string[] = [];
  const read = async (f: string): Promise<PerformanceData | null | string> => {
    const text = await readFile(f, 'utf8').catch(() => null);
    if (text === null) return null;
    try {
      return parsePerformance(JSON.parse(text), f);
    } catch (err) {
      return (err as Error).message;
    }
  };
  const main = await read(file);
  const bak = await read(`${file}.bak`);
  if (typeof main === 'string') problems.push(`${file}: ${main}`);
  if (typeof bak === 'string') problems.push(`${file}.bak: ${bak}`);
  const data = typeof main === 'object' ? main : null;
  if (data && bak && typeof bak === 'object' && bak.nextId > data.nextId) problems.push(`${file}.bak (nextId ${bak.nextId}) is ahead of the main file (${data.nextId})`);
  const now = signalsBySymbol(data);
  for (const [s, n] of Object.entries(previous)) {
    if ((now[s] ?? 0) < n) problems.push(`${file}: ${s} has ${now[s] ?? 0} scored signals, ${n} were committed before`);
  }
  if (data) {
    const warnings: string[] = [];
    const t = await OutcomeTracker.open(file, { feeRate: 0.001, onWarn: (m) => warnings.push(m) });
    const total = Object.values(now).reduce((a, b) => a + b, 0);
    if (t.overall().signals !== total) problems.push(`${file}: loaded ${t.overall().signals} signals, file has ${total}`);
    if (warnings.length) problems.push(`${file}: loading warned: ${warnings.join('; ')}`);
  }
  return { data, problems };
}

/** engine-state.json loads (a torn file would need its .bak). */
export async function checkEngineState(home: string): Promise<{ marketTime: number | null; problems: string[] }> {
  try {
    const s = await readStateFile(join(home, 'data', 'engine-state.json'));
    return { marketTime: s.data.marketTime, problems: s.warnings.map((w) => `engine-state: ${w}`) };
  } catch (err) {
    return { marketTime: null, problems: [`engine-state: ${(err as Error).message}`] };
  }
}

/** config.yaml parses and holds an acknowledged (or in-flight) entry threshold. */
export async function checkConfig(path: string, allowed: Set<number>): Promise<{ config: Config | null; problems: string[] }> {
  try {
    const { config } = await loadConfig(path);
    const v = config.paper_trading.entry_threshold;
    return { config, problems: allowed.has(v) ? [] : [`${path}: entry_threshold ${v} is neither acknowledged nor in flight (${[...allowed].join(', ')})`] };
  } catch (err) {
    return { config: null, problems: [`${path}: ${(err as Error).message}`] };
  }
}

/**
 * How a command reaches the engine of a home. While an engine runs (it holds data/engine.lock),
 * through its control API: the snapshot it answers is what its console shows, and commands act on
 * the running engine. With none running, from the state files, projected the same way, and the
 * answer says so; operator commands are then applied to the files under the home lock, by the same
 * engine code (ModelDecisions) and logged to data/trading.log.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommandResult, EngineApi, EngineSnapshot } from '../engine-api.js';
import type { Config } from '../config/schema.js';
import { ApiClient, ApiUnavailableError } from '../api/client.js';
import { CliError } from './errors.js';
import { loadConfigOrDefaults } from './load-config.js';
import type { Logger } from '../log/logger.js';

export interface EngineView {
  /** 'engine': answered by the running engine; 'files': read from the state files. */
  source: 'engine' | 'files';
  client: ApiClient | null;
  pid: number | null;
  /** What the operator should know about where the answer comes from. */
  note: string | null;
}

/** The running engine's API when one runs and answers; otherwise the files, with why. */
export async function locateEngine(home: string): Promise<EngineView> {
  const { readEngineLock } = await import('../engine/home-lock.js');
  const lock = await readEngineLock(home);
  const saved = await stat(join(home, 'data', 'engine-state.json')).then(
    (s) => `saved ${s.mtime.toISOString().slice(0, 19).replace('T', ' ')} UTC`,
    () => 'never saved',
  );
  if (lock?.owner && lock.state === 'alive') {
    const client = new ApiClient(home);
    try {
      const h = await client.health();
      return { source: 'engine', client, pid: h.pid, note: null };
    } catch (err) {
      const why = err instanceof ApiUnavailableError ? err.message : (err as Error).message;
      return { source: 'files', client: null, pid: lock.owner.pid, note: `an engine (pid ${lock.owner.pid}) holds the home but its control API does not answer (${why}): from the state files (${saved})` };
    }
  }
  return { source: 'files', client: null, pid: null, note: `no engine running on ${home}: from the state files (${saved})` };
}

/** The snapshot: the running engine's, or the files' projection. */
export async function snapshotOf(home: string, config: Config, view: EngineView): Promise<{ snap: EngineSnapshot; notes: string[] }> {
  if (view.client) return { snap: await view.client.snapshot(), notes: [] };
  const { loadOfflineParts, offlineSnapshot } = await import('../engine/offline.js');
  const parts = await loadOfflineParts(home, config);
  return { snap: await offlineSnapshot(parts), notes: parts.notes };
}

export type OperatorCommands = Pick<EngineApi, 'rollback' | 'edgeOverride'>;

/** Run an operator command on the running engine (through its API) or, with none, on the files. */
export async function withEngineOrFiles<T>(home: string, configPath: string, fn: (api: OperatorCommands) => Promise<T>): Promise<T> {
  const { config } = await loadConfigOrDefaults(configPath);
  const { lockHome, EngineRunningError } = await import('../engine/home-lock.js');
  let lock;
  try {
    lock = await lockHome(home);
  } catch (err) {
    if (!(err instanceof EngineRunningError)) throw err;
    const client = new ApiClient(home);
    try {
      await client.health();
    } catch (e) {
      throw new CliError(`an engine (pid ${err.pid}) runs on this home but its control API does not answer (${(e as Error).message}); stop it first`, 4);
    }
    const { edgeModeName } = await import('../api/client.js');
    return fn({
      rollback: (symbol, reason) => client.command('rollback', reason === undefined ? { symbol } : { symbol, reason }),
      edgeOverride: (symbol, on, reason) => client.command('edge', { symbol, mode: edgeModeName(on), ...(reason === undefined ? {} : { reason }) }),
    });
  }
  const { Logger, loggerOptionsFromConfig } = await import('../log/logger.js');
  const logger = new Logger(loggerOptionsFromConfig(config.logging, home));
  try {
    const { state, decisions, marketNow } = await openHomeFiles(home, config, logger);
    const { setEdgeOverride } = await import('../engine/commands.js');
    const api: OperatorCommands = {
      rollback: async (symbol, reason = 'rolled back by the operator'): Promise<CommandResult> => {
        const r = await decisions.rollback(symbol, reason);
        await state.flush();
        return r;
      },
      // The same engine code the running engine uses; the next engine start reads it from the state file.
      edgeOverride: (symbol, on, reason) => setEdgeOverride({ config, state, logger, marketNow }, symbol, on, reason),
    };
    return await fn(api);
  } finally {
    logger.close();
    await lock.release();
  }
}

/**
 * The engine's own file-backed parts of a home, for commands that act with no engine running
 * (the caller holds the home lock): state, registry, decisions (promotions.json, serving.json).
 */
export async function openHomeFiles(home: string, config: Config, logger: Logger) {
  const data = join(home, 'data');
  const [{ EngineState }, { ModelRegistry, registryPaths }, { PromotionHistory }, { OutcomeTracker }, { ModelDecisions }] = await Promise.all([
    import('../engine/state.js'),
    import('../registry/registry.js'),
    import('../trading/promotion-history.js'),
    import('../trading/outcomes.js'),
    import('../engine/decisions.js'),
  ]);
  const warn = (m: string): void => void logger.warn(m);
  const state = await EngineState.open(join(data, 'engine-state.json'), config, warn);
  const registry = new ModelRegistry(registryPaths(home));
  await registry.refresh();
  const promotions = await PromotionHistory.open(join(data, 'promotions.json'), { onWarn: warn });
  const outcomes = await OutcomeTracker.open(join(data, 'performance.json'), { feeRate: config.paper_trading.fee_rate, onWarn: warn });
  const marketNow = (): number => (config.data.source === 'exchange' ? Date.now() : (state.marketTime ?? Date.now()));
  const decisions = new ModelDecisions({ state, registry, promotions, outcomes, store: { emit: () => undefined }, logger, marketNow });
  return { state, registry, promotions, outcomes, decisions, marketNow };
}

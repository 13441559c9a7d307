/**
 * Operator commands from the command line (`kilo models --rollback`, ...). With no engine running
 * they are applied to the files under the home lock, by the same engine code (ModelDecisions)
 * and logged to data/trading.log; while an engine runs, the home lock is its and the command must
 * reach it instead.
 */
import { join } from 'node:path';
import type { CommandResult, EngineApi } from '../engine-api.js';
import { CliError } from './errors.js';
import { loadConfigOrDefaults } from './load-config.js';

export type FileCommands = Pick<EngineApi, 'rollback'>;

export async function withEngineOrFiles<T>(home: string, configPath: string, fn: (api: FileCommands) => Promise<T>): Promise<T> {
  const { config } = await loadConfigOrDefaults(configPath);
  const { lockHome, EngineRunningError } = await import('../engine/home-lock.js');
  let lock;
  try {
    lock = await lockHome(home);
  } catch (err) {
    if (err instanceof EngineRunningError) {
      throw new CliError(`an engine (pid ${err.pid}) is running on this home: give the command in its console (e.g. :rollback BTC/USDT), or stop it first`, 4);
    }
    throw err;
  }
  const { Logger, loggerOptionsFromConfig } = await import('../log/logger.js');
  const logger = new Logger(loggerOptionsFromConfig(config.logging, home));
  try {
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
    const api: FileCommands = {
      rollback: async (symbol, reason = 'rolled back by the operator'): Promise<CommandResult> => {
        const r = await decisions.rollback(symbol, reason);
        await state.flush();
        return r;
      },
    };
    return await fn(api);
  } finally {
    logger.close();
    await lock.release();
  }
}

/**
 * The operator's commands (console keys, `kilo` subcommands): train, cancel, reprioritise,
 * block/unblock and pin. Each validates its input, changes engine state through the owners
 * (queue, trainer, coverage, registry), logs what happened, republishes the snapshot and answers
 * with a CommandResult the console and CLI print as is.
 */
import type { Config } from '../config/schema.js';
import type { CommandResult, EngineApi, TrainRequest } from '../engine-api.js';
import type { Logger } from '../log/logger.js';
import type { ModelRegistry } from '../registry/registry.js';
import type { TrainingQueue } from '../training/queue.js';
import { tierOf } from '../assets/tiers.js';
import type { CoverageKeeper } from './coverage.js';
import type { PredictorCache } from './predictors.js';
import type { ManualRequest, Trainer } from './trainer.js';

export interface CommandDeps {
  config: Config;
  effectiveConfig: () => Config;
  queue: TrainingQueue;
  trainer: Trainer;
  registry: ModelRegistry;
  predictors: PredictorCache;
  coverage: CoverageKeeper;
  logger: Logger;
  requests: Map<string, ManualRequest>;
  manualBlocks: Record<string, string>;
  marketNow: () => number;
  /** Apply (or clear) the operator's pin to the effective config. */
  setPin: (version: string | null) => void;
  persist: () => Promise<void>;
  publish: () => void;
}

export type EngineCommands = Pick<EngineApi, 'train' | 'cancelJob' | 'reprioritize' | 'block' | 'unblock' | 'pinModel'>;

export function engineCommands(d: CommandDeps): EngineCommands {
  const { config, queue, trainer, registry, logger } = d;
  return {
    async train(req: TrainRequest): Promise<CommandResult> {
      const symbol = req.symbol;
      if (!/^[A-Z0-9]+\/[A-Z0-9]+$/.test(symbol)) return { ok: false, message: `not a symbol: "${symbol}" (expected like BTC/USDT)` };
      if (tierOf(symbol, config) === 'unsupported') return { ok: false, message: `${symbol} is listed in assets.unsupported` };
      d.requests.set(symbol, { models: req.models, quick: req.quick ?? true, force: req.force ?? true, version: req.version });
      const { entry, added } = await queue.add(symbol, { priority: 100, reason: req.reason ?? 'operator request' });
      if (!added && entry.state === 'queued') await queue.prioritize(entry.id, { value: 100 });
      logger.info(`${symbol}: training ${added ? 'queued' : 'already queued'} by the operator (${entry.id})`, symbol);
      d.coverage.recompute();
      d.publish();
      void trainer.pump().catch((err) => logger.error(`queue: ${(err as Error).message}`));
      return { ok: true, message: `${symbol} ${added ? 'queued' : 'moved to the front'} as ${entry.id}` };
    },
    async cancelJob(ref: string): Promise<CommandResult> {
      const match = queue.list().find((e) => (e.id === ref || e.symbol === ref) && (e.state === 'queued' || e.state === 'running'));
      if (!match) return { ok: false, message: `no queued or running job matches "${ref}"` };
      if (match.state === 'running') trainer.cancel(match.id);
      else await queue.cancel(match.id);
      logger.info(`${match.symbol}: job ${match.id} cancelled by the operator`, match.symbol);
      d.publish();
      return { ok: true, message: `cancelled ${match.id} (${match.symbol})` };
    },
    async reprioritize(ref: string, delta: number): Promise<CommandResult> {
      try {
        const e = await queue.prioritize(ref, { delta });
        d.publish();
        return { ok: true, message: `${e.id} (${e.symbol}) priority ${e.priority}` };
      } catch (err) {
        return { ok: false, message: (err as Error).message };
      }
    },
    async block(symbol: string, reason = 'blocked by the operator'): Promise<CommandResult> {
      d.manualBlocks[symbol] = reason;
      d.coverage.recompute();
      await d.persist();
      logger.info(`${symbol} blocked: ${reason}`, symbol);
      d.publish();
      return { ok: true, message: `${symbol} blocked` };
    },
    async unblock(symbol: string): Promise<CommandResult> {
      const had = symbol in d.manualBlocks;
      delete d.manualBlocks[symbol];
      d.coverage.recompute();
      await d.persist();
      d.publish();
      const row = d.coverage.row(symbol);
      if (row && row.state !== 'live') {
        const msg = `${symbol} ${had ? 'unblocked by the operator but ' : ''}stays ${row.state}: ${row.reason}`;
        logger.info(msg, symbol);
        return { ok: had, message: msg };
      }
      logger.info(`${symbol} unblocked`, symbol);
      return { ok: true, message: `${symbol} unblocked` };
    },
    async pinModel(version: string | null): Promise<CommandResult> {
      if (version !== null && !registry.list().some((v) => v.version === version)) return { ok: false, message: `no model version ${version} in models/` };
      d.setPin(version);
      d.predictors.clear();
      d.coverage.recompute();
      d.publish();
      const sel = registry.selection(d.effectiveConfig(), d.marketNow());
      const msg = version === null ? `unpinned; selection picks ${sel.winner ?? 'nothing'}` : sel.pin?.honoured ? `pinned ${version}` : `pin ${version} not honoured: ${sel.pin?.reason}`;
      logger.info(msg);
      return { ok: version === null || Boolean(sel.pin?.honoured), message: msg };
    },
  };
}

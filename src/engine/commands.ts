/**
 * The operator's commands (console keys, `kilo` subcommands, the control API): train, cancel,
 * reprioritise, block/unblock, pin, rollback and the edge-gate override. Each validates its input, changes engine state
 * through its owners (EngineState, the queue, the trainer, the decisions), logs what happened and
 * answers with a CommandResult the console, the CLI and the API print as is. Republishing follows
 * from EngineState's change events.
 */
import type { Config } from '../config/schema.js';
import type { CommandResult, EngineApi, TrainRequest } from '../engine-api.js';
import type { Logger } from '../log/logger.js';
import type { ModelRegistry } from '../registry/registry.js';
import type { TrainingQueue } from '../training/queue.js';
import { tierOf } from '../assets/tiers.js';
import { SYMBOL_RE } from '../market/symbols.js';
import type { CoverageKeeper } from './coverage.js';
import type { ModelDecisions } from './decisions.js';
import type { EngineState } from './state.js';
import type { Trainer } from './trainer.js';

export interface CommandDeps {
  config: Config;
  state: EngineState;
  queue: TrainingQueue;
  trainer: Trainer;
  registry: ModelRegistry;
  coverage: CoverageKeeper;
  decisions: ModelDecisions;
  logger: Logger;
  marketNow: () => number;
}

export type EngineCommands = Pick<EngineApi, 'train' | 'cancelJob' | 'reprioritize' | 'block' | 'unblock' | 'pinModel' | 'rollback' | 'edgeOverride'>;

const notSymbol = (s: unknown): CommandResult => ({ ok: false, message: `not a symbol: ${JSON.stringify(s)} (expected like BTC/USDT)` });

export function engineCommands(d: CommandDeps): EngineCommands {
  const { config, queue, trainer, registry, logger, state } = d;
  return {
    async train(req: TrainRequest): Promise<CommandResult> {
      const symbol = req.symbol;
      if (!SYMBOL_RE.test(symbol)) return notSymbol(symbol);
      const listed = await d.coverage.checkSymbol(symbol);
      if (!listed.ok) return { ok: false, message: `${symbol}: ${listed.reason}; not queued` };
      if (tierOf(symbol, config) === 'unsupported') return { ok: false, message: `${symbol} is listed in assets.unsupported` };
      // Not saying quick leaves the recipe to src/engine/recipe.ts (full, or quick for a quick_train asset).
      state.request(symbol, { models: req.models, quick: req.quick, force: req.force ?? true, version: req.version });
      const { entry, added } = await queue.add(symbol, { priority: 100, trigger: 'operator', reason: req.reason ?? 'operator request' });
      if (!added && entry.state === 'queued') await queue.prioritize(entry.id, { value: 100 });
      logger.info(`${symbol}: training ${added ? 'queued' : 'already queued'} by the operator (${entry.id})`, symbol);
      d.coverage.recompute();
      state.touch('jobs', symbol);
      void trainer.pump().catch((err) => logger.error(`queue: ${(err as Error).message}`));
      return { ok: true, message: `${symbol} ${added ? 'queued' : 'moved to the front'} as ${entry.id}` };
    },
    async cancelJob(ref: string): Promise<CommandResult> {
      const match = queue.list().find((e) => (e.id === ref || e.symbol === ref) && (e.state === 'queued' || e.state === 'running'));
      if (!match) return { ok: false, message: `no queued or running job matches "${ref}"` };
      if (match.state === 'running') trainer.cancel(match.id);
      else await queue.cancel(match.id);
      logger.info(`${match.symbol}: job ${match.id} cancelled by the operator`, match.symbol);
      state.touch('jobs', match.symbol);
      return { ok: true, message: `cancelled ${match.id} (${match.symbol})` };
    },
    async reprioritize(ref: string, delta: number): Promise<CommandResult> {
      if (!Number.isFinite(delta)) return { ok: false, message: `priority change must be a number, got ${delta}` };
      try {
        const e = await queue.prioritize(ref, { delta });
        state.touch('jobs', e.symbol);
        return { ok: true, message: `${e.id} (${e.symbol}) priority ${e.priority}` };
      } catch (err) {
        return { ok: false, message: (err as Error).message };
      }
    },
    async block(symbol: string, reason = 'blocked by the operator'): Promise<CommandResult> {
      if (!SYMBOL_RE.test(symbol)) return notSymbol(symbol);
      state.block(symbol, reason);
      d.coverage.recompute();
      await state.flush();
      logger.info(`${symbol} blocked: ${reason}`, symbol);
      return { ok: true, message: `${symbol} blocked` };
    },
    async unblock(symbol: string): Promise<CommandResult> {
      if (!SYMBOL_RE.test(symbol)) return notSymbol(symbol);
      const had = state.unblock(symbol);
      d.coverage.recompute();
      await state.flush();
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
      const sel0 = registry.selection(state.effectiveConfig(), d.marketNow());
      state.setPin(version, d.marketNow(), version === null ? `unpinned by the operator (selection: ${sel0.winner ?? 'nothing'})` : 'pinned by the operator');
      d.coverage.recompute();
      await state.flush();
      const sel = registry.selection(state.effectiveConfig(), d.marketNow());
      const msg = version === null ? `unpinned; selection picks ${sel.winner ?? 'nothing'}` : sel.pin?.honoured ? `pinned ${version}` : `pin ${version} not honoured: ${sel.pin?.reason}`;
      logger.info(msg);
      return { ok: version === null || Boolean(sel.pin?.honoured), message: msg };
    },
    edgeOverride: (symbol: string, on: boolean | null, reason?: string) => setEdgeOverride(d, symbol, on, reason),
    async rollback(symbol: string, reason = 'rolled back by the operator'): Promise<CommandResult> {
      if (!SYMBOL_RE.test(symbol)) return notSymbol(symbol);
      const r = await d.decisions.rollback(symbol, reason);
      if (!r.ok) logger.warn(r.message, symbol);
      d.coverage.recompute();
      return r;
    },
  };
}

/**
 * The edge gate's operator override for one symbol (true: its model trades whatever its verdict;
 * false: the gate applies even if model.edge_overrides lists it; null: config.yaml decides). Kept
 * in the engine state (it survives a restart), logged, and a serving event for `kilo history`.
 * The running engine and `kilo edge` on the files (no engine running) both call this.
 */
export async function setEdgeOverride(
  d: Pick<CommandDeps, 'config' | 'logger' | 'marketNow'> & { state: Pick<EngineState, 'setEdgeOverride' | 'flush'> },
  symbol: string,
  on: boolean | null,
  reason?: string,
): Promise<CommandResult> {
  if (!SYMBOL_RE.test(symbol)) return notSymbol(symbol);
  const why = reason ?? (on === null ? 'edge override cleared by the operator' : on ? 'edge override on: the model trades whatever its verdict' : 'edge override off: the edge gate applies');
  d.state.setEdgeOverride(symbol, on, d.marketNow(), why);
  await d.state.flush();
  const inConfig = d.config.model.edge_overrides.includes(symbol);
  const msg =
    on === true
      ? `${symbol}: its model trades whatever its verdict (operator override)`
      : on === false
        ? `${symbol}: the edge gate applies${inConfig ? ' (over model.edge_overrides in config.yaml)' : ''}`
        : `${symbol}: operator override cleared; ${inConfig ? 'model.edge_overrides lists it, its model trades' : 'the edge gate applies'}`;
  d.logger.info(`${msg} - ${why}`, symbol);
  return { ok: true, message: msg };
}

/**
 * The `:` command line: a pure parser plus a dispatcher onto the engine's commands.
 * Every action here is also a `kilo` subcommand; this is the in-console shortcut.
 */
import type { CommandResult, EngineApi } from '../src/engine-api.js';
import { SYMBOL_RE } from '../src/market/symbols.js';

export type ParsedCommand =
  | { kind: 'train'; symbol: string; quick: boolean }
  | { kind: 'cancel'; jobId: string }
  | { kind: 'block'; symbol: string; reason?: string }
  | { kind: 'unblock'; symbol: string }
  | { kind: 'pin'; version: string }
  | { kind: 'unpin' }
  | { kind: 'rollback'; symbol: string; reason?: string }
  | { kind: 'edge'; symbol: string; on: boolean | null; reason?: string }
  | { kind: 'stop'; reason?: string }
  | { kind: 'help' }
  | { kind: 'quit' };

export class CommandLineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandLineError';
  }
}

export interface CommandContext {
  /** Used when a symbol argument is left out. */
  selectedSymbol: string | null;
  selectedJobId: string | null;
}

export const COMMAND_NAMES = ['train', 'cancel', 'block', 'unblock', 'pin', 'unpin', 'rollback', 'edge', 'stop', 'help', 'quit'] as const;

/** One line per command for `:help` and the help overlay. */
export const COMMAND_HELP: readonly [string, string][] = [
  [':train SYMBOL [--quick]', 'queue a training now (front of the queue)'],
  [':cancel JOB|SYMBOL', 'cancel a queued or running training'],
  [':block SYMBOL [reason]', 'stop trading a symbol'],
  [':unblock SYMBOL', 'trade it again (if a model covers it)'],
  [':pin VERSION', 'serve this version for every symbol it covers'],
  [':unpin', 'back to promotions and the selection score'],
  [':rollback SYMBOL [reason]', 'return a symbol to its previous version'],
  [':edge SYMBOL on|off|auto', 'edge gate override: on = the model trades without an edge; auto = config'],
  [':stop [reason]', 'stop the engine (attached: the engine in the other process)'],
  [':help', 'this list and the keys'],
  [':quit', 'quit (attached: detach; the engine keeps running)'],
];

/** What Tab can complete after a command name: the engine's symbols, job ids, model versions. */
export interface CompletionSource {
  symbols: readonly string[];
  /** Active (queued or running) jobs. */
  jobs: readonly { id: string; symbol: string }[];
  versions: readonly string[];
}

const SYMBOL_COMMANDS = new Set(['train', 'block', 'unblock', 'rollback']);

/**
 * Pure: the candidates for word `index` of the command line, given the words before it. The first
 * word is a command; then a symbol for train/block/unblock/rollback, a job id or symbol for cancel,
 * a version for pin, and --quick after a train's symbol.
 */
export function commandCandidates(index: number, words: readonly string[], src: CompletionSource): string[] {
  if (index === 0) return [...COMMAND_NAMES];
  const cmd = words[0]?.replace(/^:/, '');
  if (index === 1) {
    if (SYMBOL_COMMANDS.has(cmd)) return [...src.symbols];
    if (cmd === 'cancel') return [...src.jobs.map((j) => j.id), ...src.jobs.map((j) => j.symbol)];
    if (cmd === 'pin') return [...src.versions];
    return [];
  }
  if (cmd === 'train' && index === 2) return ['--quick'];
  return [];
}

function symbolArg(arg: string | undefined, ctx: CommandContext, cmd: string): string {
  const s = (arg ?? ctx.selectedSymbol ?? '').toUpperCase();
  if (!s) throw new CommandLineError(`:${cmd} needs a symbol, e.g. :${cmd} BTC/USDT`);
  if (!SYMBOL_RE.test(s)) throw new CommandLineError(`:${cmd}: "${arg}" is not a symbol like BTC/USDT`);
  return s;
}

export function parseCommandLine(text: string, ctx: CommandContext): ParsedCommand {
  const parts = text.trim().replace(/^:/, '').split(/\s+/).filter(Boolean);
  const [name, ...args] = parts;
  if (!name) throw new CommandLineError('empty command; try :train BTC/USDT');
  switch (name) {
    case 'train': {
      const quick = args.includes('--quick');
      const rest = args.filter((a) => a !== '--quick');
      return { kind: 'train', symbol: symbolArg(rest[0], ctx, name), quick };
    }
    case 'cancel': {
      const jobId = args[0] ?? ctx.selectedJobId;
      if (!jobId) throw new CommandLineError(':cancel needs a job id, e.g. :cancel 3');
      return { kind: 'cancel', jobId };
    }
    case 'block': {
      const symbol = symbolArg(args[0], ctx, name);
      const reason = args.slice(1).join(' ');
      return reason ? { kind: 'block', symbol, reason } : { kind: 'block', symbol };
    }
    case 'unblock':
      return { kind: 'unblock', symbol: symbolArg(args[0], ctx, name) };
    case 'pin': {
      const version = args[0];
      if (!version || !/^\d+\.\d+$/.test(version)) throw new CommandLineError(':pin needs a version like 1.1');
      return { kind: 'pin', version };
    }
    case 'unpin':
      return { kind: 'unpin' };
    case 'rollback': {
      const symbol = symbolArg(args[0], ctx, name);
      const reason = args.slice(1).join(' ');
      return reason ? { kind: 'rollback', symbol, reason } : { kind: 'rollback', symbol };
    }
    case 'edge': {
      // The symbol may be left out (the selected one): `:edge on`.
      const named = args[0] !== undefined && !['on', 'off', 'auto'].includes(args[0].toLowerCase());
      const symbol = symbolArg(named ? args[0] : undefined, ctx, name);
      const mode = (named ? args[1] : args[0])?.toLowerCase();
      if (mode !== 'on' && mode !== 'off' && mode !== 'auto') throw new CommandLineError(':edge needs on, off or auto, e.g. :edge BTC/USDT on');
      const reason = args.slice(named ? 2 : 1).join(' ');
      const on = mode === 'auto' ? null : mode === 'on';
      return reason ? { kind: 'edge', symbol, on, reason } : { kind: 'edge', symbol, on };
    }
    case 'stop': {
      const reason = args.join(' ');
      return reason ? { kind: 'stop', reason } : { kind: 'stop' };
    }
    case 'help':
    case 'h':
    case '?':
      return { kind: 'help' };
    case 'quit':
    case 'q':
      return { kind: 'quit' };
    default:
      throw new CommandLineError(`unknown command ":${name}" (known: ${COMMAND_NAMES.map((n) => `:${n}`).join(' ')})`);
  }
}

/** Sends a parsed command to the engine. `quit`, `stop` and `help` are the caller's (it owns exiting and the screen). */
export async function runCommand(engine: EngineApi, cmd: Exclude<ParsedCommand, { kind: 'quit' | 'stop' | 'help' }>): Promise<CommandResult> {
  switch (cmd.kind) {
    case 'train':
      return engine.train({ symbol: cmd.symbol, quick: cmd.quick, reason: 'operator (console)' });
    case 'cancel':
      return engine.cancelJob(cmd.jobId);
    case 'block':
      return engine.block(cmd.symbol, cmd.reason ?? 'blocked by operator');
    case 'unblock':
      return engine.unblock(cmd.symbol);
    case 'pin':
      return engine.pinModel(cmd.version);
    case 'unpin':
      return engine.pinModel(null);
    case 'rollback':
      return engine.rollback(cmd.symbol, cmd.reason ?? 'rolled back by the operator (console)');
    case 'edge':
      return engine.edgeOverride(cmd.symbol, cmd.on, cmd.reason);
  }
}

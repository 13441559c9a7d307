import { access, readdir, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { freemem, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { systemClock } from '../clock.js';
import { defaultConfig } from '../config/schema.js';
import { ConfigError, ConfigNotFoundError, loadConfig } from '../config/load.js';
import { CredentialsError, describeCredentials, loadCredentials } from '../credentials/index.js';
import { marketsCachePath, readMarketsCache } from '../market/markets-cache.js';
import type { CcxtSourceOptions } from '../market/ccxt-source.js';
import { result, type CheckResult, type DoctorCheck, type DoctorContext } from './types.js';

export { result, type CheckResult, type CheckStatus, type DoctorCheck, type DoctorContext } from './types.js';

export interface DoctorOptions {
  home: string;
  configPath: string;
  env?: NodeJS.ProcessEnv;
  /** Contact the exchange even when data.source is not 'exchange'. */
  checkExchange?: boolean;
  /** EXTENSION POINT: queue/registry checks added by other modules, run after the built-in ones. */
  extraChecks?: DoctorCheck[];
  /** Skip the tfjs backend probe (it loads TensorFlow.js, ~1-2 s). */
  skipTf?: boolean;
  ccxt?: Partial<CcxtSourceOptions>;
}

export interface DoctorReport {
  checks: CheckResult[];
  ok: boolean;
}

export async function runDoctor(opts: DoctorOptions): Promise<DoctorReport> {
  const env = opts.env ?? process.env;
  const checks: CheckResult[] = [];
  const { ctx, check } = await configCheck(opts.home, opts.configPath, env);
  checks.push(nodeCheck());
  if (!opts.skipTf) checks.push(await tfCheck());
  checks.push(await rnnKernelCheck());
  checks.push(await gbdtGrowerCheck());
  checks.push(check);
  const builtIn: DoctorCheck[] = [(c) => exchangeCheck(c, !!opts.checkExchange, opts.ccxt), marketsCacheCheck, marketDataCheck, credentialsCheck, diskCheck, writableCheck, engineLockCheck, memoryCheck, tmuxCheck];
  for (const fn of [...builtIn, ...(opts.extraChecks ?? [])]) {
    try {
      const r = await fn(ctx);
      checks.push(...(Array.isArray(r) ? r : [r]));
    } catch (err) {
      // A crashing check is itself a finding, not a crashed doctor.
      checks.push(result(fn.name || 'check', 'fail', `check crashed: ${(err as Error).message}`, 'report this as a bug'));
    }
  }
  return { checks, ok: checks.every((c) => c.status !== 'fail') };
}

export function nodeCheck(version = process.versions.node): CheckResult {
  const major = Number(version.split('.')[0]);
  return major >= 20 ? result('node', 'ok', `Node ${version}`) : result('node', 'fail', `Node ${version} is too old`, 'install Node 20 or newer');
}

async function tfCheck(): Promise<CheckResult> {
  try {
    const { initTf } = await import('../models/tf-backend.js');
    const { backend, reason } = await initTf();
    return result('tfjs backend', backend === 'cpu' ? 'warn' : 'ok', `${backend}: ${reason}`, backend === 'cpu' ? 'pure-JS cpu backend is ~7x slower than wasm: reinstall @tensorflow/tfjs-backend-wasm' : null);
  } catch (err) {
    return result('tfjs backend', 'fail', (err as Error).message, 'run npm ci');
  }
}

/** The native recurrent training kernels (native/kilo_rnn.c): ~5x faster GRU/LSTM training than wasm ops. */
export async function rnnKernelCheck(): Promise<CheckResult> {
  const { nativeRnnStatus } = await import('../native/rnn.js');
  const s = nativeRnnStatus();
  return s.active
    ? result('rnn kernel', 'ok', `${s.kernel} (${s.reason})`)
    : result('rnn kernel', 'warn', `tfjs ops: ${s.reason}`, 'GRU/LSTM training runs ~5x slower; install a C compiler and Node headers, then `npm rebuild` or `node native/build.mjs --strict`');
}

/** The native tree grower (native/kilo_gbdt.c): the same trees as the TypeScript grower, about twice as fast on one thread. */
export async function gbdtGrowerCheck(): Promise<CheckResult> {
  const { nativeGbdtStatus } = await import('../models/gbdt/native.js');
  const s = nativeGbdtStatus();
  return s.active
    ? result('tree grower', 'ok', `native (${s.reason})`)
    : result('tree grower', 'warn', `typescript: ${s.reason}`, 'gradient-boosted trees train about 2x slower (same models); install a C compiler and Node headers, then `npm rebuild` or `npm run build:native`');
}

async function configCheck(home: string, configPath: string, env: NodeJS.ProcessEnv): Promise<{ ctx: DoctorContext; check: CheckResult }> {
  try {
    const { config } = await loadConfig(configPath);
    return { ctx: { home, configPath, env, config, configValid: true }, check: result('config', 'ok', `${configPath} is valid (data.source: ${config.data.source})`) };
  } catch (err) {
    const ctx = { home, configPath, env, config: defaultConfig(), configValid: false };
    if (err instanceof ConfigNotFoundError) return { ctx, check: result('config', 'warn', `${configPath} not found: using defaults`, 'run `kilo setup` to write a commented config.yaml') };
    if (err instanceof ConfigError) return { ctx, check: result('config', 'fail', err.message, 'fix the keys named above (see the comments in config.yaml)') };
    return { ctx, check: result('config', 'fail', (err as Error).message, null) };
  }
}

async function exchangeCheck(ctx: DoctorContext, force: boolean, ccxtOpts?: Partial<CcxtSourceOptions>): Promise<CheckResult> {
  const { config } = ctx;
  const x = config.exchange;
  if (config.data.source !== 'exchange' && !force) {
    return result('exchange', 'ok', `data.source is ${config.data.source}: exchange ${x.id} not contacted (use --exchange to test it)`);
  }
  const { CcxtMarketSource } = await import('../market/ccxt-source.js');
  let src;
  try {
    // One attempt, no backoff: doctor reports the state now, it does not try to ride it out.
    src = new CcxtMarketSource({ ...config, exchange: { ...x, max_retries: 0 } }, { home: ctx.home, clock: systemClock, ...ccxtOpts });
  } catch (err) {
    return result('exchange', 'fail', (err as Error).message, 'fix exchange.id / exchange.sandbox in config.yaml');
  }
  const where = `${src.url}${x.sandbox ? ' (sandbox)' : ''}${x.api_base_url ? ' (api_base_url)' : ''}`;
  try {
    const p = await src.probe();
    const skew = p.skewMs === null ? 'server time unavailable' : `clock skew ${Math.round(p.skewMs)} ms`;
    const detail = `${x.id} answers at ${where} in ${Math.round(p.latencyMs)} ms, ${skew}`;
    if (p.skewMs !== null && Math.abs(p.skewMs) > 1000) return result('exchange', 'warn', detail, 'sync the system clock (signed requests are refused beyond ~1 s of skew)');
    return result('exchange', 'ok', detail);
  } catch (err) {
    return result('exchange', 'fail', `${x.id} at ${where}: ${(err as Error).message}`, 'check the network/proxy settings, or set data.source: sim to work offline');
  } finally {
    await src.close().catch(() => undefined);
  }
}

async function marketsCacheCheck(ctx: DoctorContext): Promise<CheckResult> {
  const x = ctx.config.exchange;
  const file = marketsCachePath(ctx.home, `${x.id}${x.sandbox ? '-sandbox' : ''}`);
  const cache = await readMarketsCache(file);
  if (!cache) {
    const status = ctx.config.data.source === 'exchange' ? 'warn' : 'ok';
    return result('markets cache', status, `no markets cache at ${file}`, status === 'warn' ? 'it is written on the first successful connection (`kilo data fetch`)' : null);
  }
  const ageH = (Date.now() - cache.savedAt) / 3_600_000;
  const n = Object.keys(cache.markets).length;
  const stale = ageH > x.markets_cache_max_age_h;
  return result('markets cache', stale ? 'warn' : 'ok', `${n} markets, ${ageH.toFixed(1)} h old (max ${x.markets_cache_max_age_h} h)`, stale ? 'refreshed automatically when the exchange answers' : null);
}

/**
 * What the engine last said about its market data (data/market-status.json, written by the feed
 * when it changes): waiting for an unreachable exchange, stale, holed or suspicious symbols.
 */
async function marketDataCheck(ctx: DoctorContext): Promise<CheckResult[]> {
  const file = join(ctx.home, 'data', 'market-status.json');
  let st: { source?: string; waiting?: string | null; held?: Record<string, { kind: string; reason: string }>; updated_at?: number };
  try {
    const { readFile } = await import('node:fs/promises');
    st = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return [result('market data', 'ok', 'no engine status yet (written by a running engine)')];
  }
  const when = typeof st.updated_at === 'number' ? ` (engine, ${new Date(st.updated_at).toISOString().slice(0, 16).replace('T', ' ')} UTC)` : '';
  const out: CheckResult[] = [];
  if (st.waiting) out.push(result('market data', 'warn', `${st.waiting}${when}`, 'check the network/proxy settings; the engine retries by itself and trades nothing meanwhile'));
  const held = Object.entries(st.held ?? {});
  for (const [symbol, h] of held.slice(0, 10)) out.push(result(`data ${symbol}`, 'warn', `${h.kind}: ${h.reason}${when}`, h.kind === 'stale' || h.kind === 'gap' ? 'resumes by itself when the candles arrive' : null));
  if (held.length > 10) out.push(result('market data', 'warn', `${held.length - 10} more symbol(s) held`));
  if (!out.length) out.push(result('market data', 'ok', `${st.source ?? 'source'}: every symbol fresh${when}`));
  return out;
}

async function credentialsCheck(ctx: DoctorContext): Promise<CheckResult> {
  try {
    const c = await loadCredentials(ctx.config, ctx.env, ctx.home);
    const mode = c.file ? `, file mode ${((await stat(c.file)).mode & 0o777).toString(8)}` : '';
    return result('credentials', 'ok', `${describeCredentials(c)}${mode}`);
  } catch (err) {
    const fix = err instanceof CredentialsError && /chmod 600/.test(err.message) ? `chmod 600 ${err.file}` : 'fix exchange.credentials_file or the key environment variables';
    return result('credentials', 'fail', (err as Error).message, fix);
  }
}

async function dirSize(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await dirSize(p);
    else if (e.isFile()) total += (await stat(p)).size;
  }
  return total;
}

async function diskCheck(ctx: DoctorContext): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const fs = await statfs(ctx.home);
  const freeMb = (fs.bavail * fs.bsize) / 2 ** 20;
  out.push(result('disk free', freeMb < 500 ? 'warn' : 'ok', `${freeMb.toFixed(0)} MB free at ${ctx.home}`, freeMb < 500 ? 'free some disk space (models and candles need room)' : null));
  const modelsMb = (await dirSize(resolve(ctx.home, 'models'))) / 2 ** 20;
  const limit = ctx.config.resources.storage_limit_mb;
  const over = modelsMb > limit;
  out.push(result('models size', over ? 'warn' : 'ok', `models/ uses ${modelsMb.toFixed(1)} MB of ${limit} MB (resources.storage_limit_mb)`, over ? 'run `kilo models cleanup` or raise resources.storage_limit_mb' : null));
  return out;
}

/** Below this much free space a write of state or a model is likely to fail: doctor fails. */
const MIN_FREE_MB = 100;

/**
 * The home, models/ and data/ must be writable with room to spare: on a read-only home `kilo run`
 * cannot even take its lock, and on a full disk every round fails. Each folder is probed by
 * actually creating (and removing) a file, since mode bits say nothing about a read-only mount.
 */
export async function writableCheck(ctx: DoctorContext): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const [name, dir] of [['home', ctx.home], ['models/', join(ctx.home, 'models')], ['data/', join(ctx.home, 'data')]] as const) {
    const probe = join(dir, `.kilo-tmp-doctor-${process.pid}`);
    let existing = true;
    try {
      await access(dir);
    } catch {
      existing = false;
    }
    // A missing models/ or data/ is created at the first start; what matters then is its parent.
    const target = existing ? probe : join(ctx.home, `.kilo-tmp-doctor-${process.pid}`);
    try {
      await writeFile(target, 'kilo doctor write probe\n');
      await rm(target, { force: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      out.push(result(`writable ${name}`, 'fail', `cannot write in ${existing ? dir : ctx.home} (${code}: ${(err as Error).message.replace(/^[A-Z]+: /, '')})`, code === 'EROFS' ? 'the file system is mounted read-only: run kilo from a writable --home' : code === 'ENOSPC' ? 'free disk space' : `give this user write access to ${existing ? dir : ctx.home}`));
      continue;
    }
    let freeMb: number | null = null;
    try {
      const fs = await statfs(existing ? dir : ctx.home);
      freeMb = (fs.bavail * fs.bsize) / 2 ** 20;
    } catch {
      // statfs unsupported: the write probe above is the check.
    }
    if (freeMb !== null && freeMb < MIN_FREE_MB) {
      out.push(result(`writable ${name}`, 'fail', `${dir} is writable but only ${freeMb.toFixed(0)} MB are free (< ${MIN_FREE_MB} MB)`, 'free disk space: state, candles and models are written here'));
    } else out.push(result(`writable ${name}`, 'ok', `${dir} is writable${freeMb !== null ? `, ${freeMb.toFixed(0)} MB free` : ''}${existing ? '' : ' (created at the first start)'}`));
  }
  return out;
}

/** The engine lock: who holds it, and whether a leftover one (dead or reused pid) will be taken over. */
export async function engineLockCheck(ctx: DoctorContext): Promise<CheckResult> {
  const { readEngineLock, describeOwner } = await import('../engine/home-lock.js');
  const lock = await readEngineLock(ctx.home);
  if (!lock) return result('engine lock', 'ok', 'no engine is running on this home');
  if (!lock.owner) return result('engine lock', 'warn', `${lock.file} is unreadable (${JSON.stringify(lock.text.slice(0, 40))})`, 'it is taken over at the next start');
  const who = describeOwner(lock.owner, lock.state);
  if (lock.state === 'alive') return result('engine lock', 'ok', `held by ${who}`);
  return result('engine lock', 'warn', `stale lock ${lock.file} left by ${who}`, 'harmless: the next `kilo run` takes it over');
}

async function memoryCheck(ctx: DoctorContext): Promise<CheckResult> {
  const freeMb = freemem() / 2 ** 20;
  const need = ctx.config.resources.min_free_memory_mb;
  const low = freeMb < need;
  return result('memory', low ? 'warn' : 'ok', `${freeMb.toFixed(0)} MB free of ${(totalmem() / 2 ** 20).toFixed(0)} MB (trainings need ${need} MB)`, low ? 'close other programs or lower resources.max_concurrent_trainings' : null);
}

async function tmuxCheck(): Promise<CheckResult> {
  const r = spawnSync('tmux', ['-V'], { encoding: 'utf8', timeout: 5000 });
  if (r.status === 0) return result('tmux', 'ok', r.stdout.trim());
  return result('tmux', 'warn', 'tmux not found (optional: keeps the console running after logout)', 'apt-get install tmux');
}

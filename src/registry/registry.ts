/**
 * ModelRegistry: the engine's view of models/ — discovery, selection, which artifact serves each
 * symbol (and why), and which version the next training writes. Emits 'changed' when a rescan
 * finds a different set of artifacts (the engine hot-reloads predictors on it).
 *
 * Serving is per symbol, in this order (servingArtifactFor):
 *   pinned    model.pinned_version (config, console Enter, `:pin`) when it covers the symbol
 *   promoted  data/serving.json, the gate's decision
 *   selected  the selection's winner (score) when it covers the symbol
 *   newest    the newest fitting artifact that covers it
 *   fallback  the chosen one cannot serve (corrupt, moved to models/.quarantine, or unusable):
 *             the newest older version that fits, flagged with the reason
 * An artifact that is incomplete, corrupt, trained another way or missing a model kind that
 * model.models asks for never serves.
 */
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { symbolToFileStem } from '../market/types.js';
import { artifactMismatch, compatibleArtifacts, selectBestModel, type SelectionResult } from '../policy/selection.js';
import { discoverModels, type DiscoveredArtifact, type DiscoveredVersion, type DiscoverOptions } from './discover.js';
import { ServingFileError, readServingMap, updateServingMap, type ServingMap } from './serving.js';
import { bumpMinor, compareVersions } from './version.js';
import { isIntegrityError, moveToQuarantine, readQuarantine, type QuarantineNote } from './quarantine.js';

export interface RegistryEvents {
  changed: [versions: DiscoveredVersion[]];
}

export interface RegistryOptions extends DiscoverOptions {
  modelsDir: string;
  /** data/serving.json by default. */
  servingFile: string;
  /** data/promotions.json: serving is rebuilt from it when serving.json and its .bak are lost. */
  promotionsFile?: string;
  /** Recoveries, quarantines and artifacts set aside (each said once). */
  onWarn?: (message: string) => void;
  /** Wall clock for quarantine names (tests pin it). */
  now?: () => number;
}

/** How the serving artifact of a symbol was chosen. */
export type ServingVia = 'pinned' | 'promoted' | 'selected' | 'newest' | 'fallback';

export interface ServingArtifact {
  artifact: DiscoveredArtifact;
  via: ServingVia;
  /** Why this artifact serves, in words. */
  reason: string;
  /** With via 'fallback': the version that should serve and why it cannot. */
  replaced?: { version: string; via: 'pinned' | 'promoted' | 'selected'; problem: string };
}

/** One symbol's serving state for the console, `kilo models` and `kilo signal`. */
export interface SymbolServing {
  symbol: string;
  /** null: no model can serve this symbol (see reason). */
  version: string | null;
  via: ServingVia | null;
  reason: string;
  /** true when the symbol runs on something other than the version chosen for it. */
  fallback: boolean;
  /** The chosen version's problem when it cannot serve (corrupt, unusable). */
  problem: string | null;
}

export interface TrainRequest {
  /** The symbol to train; omitted for a multi_symbol training of the configured set. */
  symbol?: string;
  force?: boolean;
  /** Explicit --version. */
  version?: string;
}

export interface TrainVersionDecision {
  skip: boolean;
  reason: string;
  version: string;
  existing?: { version: string; key: string };
}

export const registryPaths = (home: string): Pick<RegistryOptions, 'modelsDir' | 'servingFile' | 'promotionsFile'> => ({
  modelsDir: join(home, 'models'),
  servingFile: join(home, 'data', 'serving.json'),
  promotionsFile: join(home, 'data', 'promotions.json'),
});

type Want = { version: string; via: 'pinned' | 'promoted' | 'selected'; why: string };

export class ModelRegistry extends EventEmitter<RegistryEvents> {
  private versions: DiscoveredVersion[] = [];
  private serving: ServingMap = {};
  private fingerprint = '';
  private memo: { config: Config; hour: number; fingerprint: string; result: SelectionResult } | null = null;
  private servingError: string | null = null;
  /** Artifacts that failed to load although their bytes are intact (dir -> why), for this process. */
  private readonly unusable = new Map<string, string>();
  /** Artifacts moved to models/.quarantine, by "version/key". */
  private quarantined = new Map<string, QuarantineNote>();

  constructor(private readonly opts: RegistryOptions) {
    super();
  }

  private warn(message: string): void {
    this.opts.onWarn?.(message);
  }

  /** Rescan models/ and the serving map; returns true (and emits 'changed') when anything differs. */
  async refresh(): Promise<boolean> {
    const discovered = await discoverModels(this.opts.modelsDir, this.opts);
    this.quarantined = await readQuarantine(this.opts.modelsDir);
    try {
      this.serving = await readServingMap(this.opts.servingFile, { promotionsFile: this.opts.promotionsFile, onWarn: (m) => this.warn(m) });
      this.servingError = null;
    } catch (err) {
      // A broken serving.json must not stop model discovery: keep the last good map and say why.
      if (!(err instanceof ServingFileError)) throw err;
      this.servingError = `${err.message}; keeping the previous promotions`;
    }
    const versions = discovered.map((v) => ({ ...v, artifacts: v.artifacts.map((a) => this.withMarks(a)) }));
    const fp = JSON.stringify(versions.map((v) => [v.version, v.artifacts.map((a) => [a.key, a.complete, a.sizeBytes, a.metadata?.created_at])]));
    this.versions = versions;
    if (fp === this.fingerprint) return false;
    this.fingerprint = fp;
    this.emit('changed', versions);
    return true;
  }

  /** An artifact that failed to load in this process is incomplete for everyone who asks. */
  private withMarks(a: DiscoveredArtifact): DiscoveredArtifact {
    const why = this.unusable.get(a.dir);
    return why ? { ...a, complete: false, problems: [...a.problems, `unusable: ${why}`] } : a;
  }

  list(): DiscoveredVersion[] {
    return this.versions;
  }

  /** Why serving.json could not be read at the last refresh, or null. */
  servingProblem(): string | null {
    return this.servingError;
  }

  servingMap(): ServingMap {
    return { ...this.serving };
  }

  /** Artifacts moved aside for inspection (models/.quarantine), newest first. */
  quarantineList(): QuarantineNote[] {
    return [...this.quarantined.values()].sort((a, b) => b.at.localeCompare(a.at));
  }

  /**
   * The selection for `config` at `now`. Memoised per (config object, versions on disk, hour): the
   * engine asks for every symbol on every publish, and the answer only moves when one of those does.
   */
  selection(config: Config, now: number): SelectionResult {
    const hour = Math.floor(now / 3_600_000);
    const m = this.memo;
    if (m && m.config === config && m.hour === hour && m.fingerprint === this.fingerprint) return m.result;
    const result = selectBestModel(config, this.versions, now);
    this.memo = { config, hour, fingerprint: this.fingerprint, result };
    return result;
  }

  /**
   * Complete artifacts fitting the config that can serve `symbol`, newest version first. Memoised
   * per (config object, versions list): every round asks ~20 times (serving, coverage, projection,
   * retrain policy), and a replay that trained 40 versions walked all of them on every ask.
   */
  private fitting(config: Config, symbol: string): readonly DiscoveredArtifact[] {
    let m = this.fitMemo;
    if (!m || m.config !== config || m.versions !== this.versions) m = this.fitMemo = { config, versions: this.versions, bySymbol: new Map() };
    let fit = m.bySymbol.get(symbol);
    if (!fit) {
      fit = this.versions
        .flatMap((v) => compatibleArtifacts(config, v))
        .filter((a) => a.servesSymbols.includes(symbol))
        .sort((a, b) => compareVersions(b.version, a.version));
      m.bySymbol.set(symbol, fit);
    }
    return fit;
  }
  private fitMemo: { config: Config; versions: readonly DiscoveredVersion[]; bySymbol: Map<string, readonly DiscoveredArtifact[]> } | null = null;

  /**
   * Why `version` cannot serve `symbol` although it was meant to: moved to quarantine, incomplete or
   * corrupt on disk, unusable, or not what the config asks for. null when that version simply does
   * not cover the symbol.
   */
  private problemOf(config: Config, version: string, symbol: string): string | null {
    const q = [...this.quarantined.values()].find((n) => n.version === version && n.symbols.includes(symbol));
    const v = this.versions.find((x) => x.version === version);
    const a = v?.artifacts.find((x) => x.servesSymbols.includes(symbol) || x.key === symbolToFileStem(symbol));
    if (a && !a.complete) return a.problems.join('; ') || 'incomplete';
    if (a) {
      const mismatch = artifactMismatch(config, a);
      if (mismatch) return mismatch;
    }
    if (q) return `corrupt: ${q.reason}; moved to ${q.movedTo}`;
    return null;
  }

  /** The artifact serving `symbol` now and why (see the header for the order), or null. */
  servingArtifactFor(config: Config, symbol: string, now: number): ServingArtifact | null {
    const fit = this.fitting(config, symbol);
    const wants: Want[] = [];
    const pinned = config.model.pinned_version;
    if (pinned) wants.push({ version: pinned, via: 'pinned', why: `v${pinned} is pinned (model.pinned_version)` });
    const promoted = this.serving[symbol];
    if (promoted) wants.push({ version: promoted, via: 'promoted', why: `v${promoted} was promoted by the gate (data/serving.json)` });
    const selected = this.selection(config, now).winner;
    if (selected) wants.push({ version: selected, via: 'selected', why: `v${selected} has the best selection score` });
    // The first pinned/promoted version that should serve but cannot: whatever serves instead is a fallback.
    let broken: { want: Want; problem: string } | null = null;
    const serve = (artifact: DiscoveredArtifact, via: ServingVia, why: string): ServingArtifact =>
      broken
        ? {
            artifact,
            via: 'fallback',
            reason: `v${broken.want.version} (${broken.want.via}) cannot serve ${symbol}: ${broken.problem}; serving v${artifact.version} instead (${why})`,
            replaced: { version: broken.want.version, via: broken.want.via, problem: broken.problem },
          }
        : { artifact, via, reason: why };
    for (const w of wants) {
      const hit = fit.find((a) => a.version === w.version);
      if (hit) return serve(hit, w.via, w.why);
      // The selection's winner may simply not cover this symbol well; only operator and gate choices are owed a flag.
      const problem = w.via === 'selected' ? null : this.problemOf(config, w.version, symbol);
      if (!problem) continue;
      broken ??= { want: w, problem };
      // A pin that cannot serve gives way to the promoted version; a broken promoted version to
      // the newest older version that fits (it is verified when it loads).
      if (w.via === 'pinned') continue;
      const older = fit.find((a) => compareVersions(a.version, w.version) < 0);
      return older ? serve(older, 'fallback', `the newest older version that fits`) : null;
    }
    return fit[0] ? serve(fit[0], 'newest', `v${fit[0].version} is the newest version that covers ${symbol}`) : null;
  }

  /** Per symbol: the serving version, how it was chosen and, when it cannot serve, why. */
  servingFor(config: Config, symbol: string, now: number): SymbolServing {
    const s = this.servingArtifactFor(config, symbol, now);
    if (s) {
      return { symbol, version: s.artifact.version, via: s.via, reason: s.reason, fallback: s.via === 'fallback', problem: s.replaced?.problem ?? null };
    }
    const problem = this.unservable(config, symbol, now);
    return { symbol, version: null, via: null, reason: problem ?? `no model covers ${symbol}`, fallback: problem !== null, problem };
  }

  /**
   * Why `symbol` has no model although one was promoted (or pinned) for it: the chosen version is
   * broken and no older one fits. The signal path then uses the configured fallback. null otherwise.
   */
  unservable(config: Config, symbol: string, now: number): string | null {
    if (this.servingArtifactFor(config, symbol, now)) return null;
    for (const v of [this.serving[symbol], config.model.pinned_version]) {
      if (!v) continue;
      const problem = this.problemOf(config, v, symbol);
      if (problem) return `v${v} cannot serve ${symbol}: ${problem}; no older version fits`;
    }
    return null;
  }

  /**
   * Versions the storage cleanup must keep: what serves each of `symbols`, the pin, every promoted
   * version (even one that cannot serve now) and every artifact that failed to load in this process
   * (an operator may need it: an upgrade that cannot read it must not lead to its deletion).
   */
  protectedVersions(config: Config, symbols: readonly string[], now: number): { version: string; why: string }[] {
    const out = new Map<string, string[]>();
    const add = (v: string, why: string): void => void out.set(v, [...(out.get(v) ?? []), why]);
    for (const s of symbols) {
      const a = this.servingArtifactFor(config, s, now);
      if (a) add(a.artifact.version, `serving ${s}`);
    }
    if (config.model.pinned_version) add(config.model.pinned_version, 'pinned');
    for (const [s, v] of Object.entries(this.serving)) add(v, `promoted for ${s}`);
    for (const v of this.versions) if (v.artifacts.some((a) => this.unusable.has(a.dir))) add(v.version, 'failed to load (kept for inspection)');
    return [...out].map(([version, why]) => ({ version, why: [...new Set(why)].join(', ') }));
  }

  /** Symbols that have a complete artifact fitting the config (in any version). */
  coveredSymbols(config: Config): string[] {
    const out = new Set<string>();
    for (const v of this.versions) for (const a of compatibleArtifacts(config, v)) for (const s of a.servesSymbols) out.add(s);
    return [...out].sort();
  }

  /**
   * Load what serves `symbol` with `load` (which verifies it). An artifact that fails is taken out
   * of service at once: damaged bytes -> moved to models/.quarantine (kept for inspection, never
   * deleted); intact but unusable -> set aside for this process. The next choice is loaded in the
   * same call, so the symbol falls back without waiting for a round. null when nothing can serve.
   */
  async loadServing<T>(config: Config, symbol: string, now: number, load: (a: DiscoveredArtifact) => Promise<T>): Promise<{ value: T; serving: ServingArtifact } | null> {
    const tried = new Set<string>();
    for (;;) {
      const serving = this.servingArtifactFor(config, symbol, now);
      if (!serving || tried.has(serving.artifact.dir)) return null;
      tried.add(serving.artifact.dir);
      try {
        return { value: await load(serving.artifact), serving };
      } catch (err) {
        await this.takeOutOfService(serving.artifact, err as Error);
      }
    }
  }

  /** See loadServing. Says so once (onWarn) and refreshes, so every symbol it served falls back. */
  async takeOutOfService(a: DiscoveredArtifact, err: Error): Promise<void> {
    const what = `model v${a.version}/${a.key} (${a.servesSymbols.join(', ') || 'no symbols'})`;
    if (isIntegrityError(err)) {
      const moved = await moveToQuarantine(this.opts.modelsDir, a, err.message, (this.opts.now ?? Date.now)());
      if (moved.ok) this.warn(`${what} is corrupt: ${err.message}; moved to ${moved.path} for inspection; its symbols fall back`);
      else if (moved.gone) return void (await this.refresh());
      else {
        this.unusable.set(a.dir, `corrupt: ${err.message}`);
        this.warn(`${what} is corrupt: ${err.message}; could not move it aside (${moved.error}); not used by this process`);
      }
    } else {
      this.unusable.set(a.dir, err.message);
      this.warn(`${what} cannot be used: ${err.message}; not used by this process; its symbols fall back`);
    }
    await this.refresh();
  }

  /** Record a promotion: `symbol` is served by `version` from now on. */
  async setServing(symbol: string, version: string): Promise<void> {
    this.serving = await updateServingMap(
      this.opts.servingFile,
      (m) => {
        m[symbol] = version;
      },
      { promotionsFile: this.opts.promotionsFile, onWarn: (m) => this.warn(m), freshIfMissing: Object.keys(this.serving).length === 0 },
    );
  }

  /** One past the highest version on disk or in quarantine (1.0 -> 1.1), or the configured version when none exists. */
  nextVersion(config: Config): string {
    const used = [...this.versions.map((v) => v.version), ...[...this.quarantined.values()].map((q) => q.version)];
    const highest = used.sort(compareVersions).at(-1);
    if (!highest) return config.model.version;
    return compareVersions(config.model.version, highest) > 0 ? config.model.version : bumpMinor(highest);
  }

  /**
   * Where a training request goes. Skips when a fitting model already covers the request (unless
   * force); with force over an existing model, the version auto-increments; --version sets it
   * (skipped when that exact folder exists: versions are immutable).
   */
  resolveTrainVersion(config: Config, req: TrainRequest): TrainVersionDecision {
    const multi = config.model.training_mode === 'multi_symbol';
    const key = multi ? 'multi' : symbolToFileStem(req.symbol ?? '');
    if (!multi && !req.symbol) throw new Error('single_symbol training needs a symbol');
    const wanted = multi ? (req.symbol ? [req.symbol] : config.model.multi_symbol_symbols) : [req.symbol as string];
    const what = req.symbol ?? (wanted.length ? wanted.join(', ') : 'the multi-symbol set');

    const existing = this.versions
      .flatMap((v) => compatibleArtifacts(config, v))
      .filter((a) => a.key === key && wanted.every((s) => a.servesSymbols.includes(s)))
      .sort((a, b) => compareVersions(b.version, a.version))[0];

    if (req.version) {
      const there =
        this.versions.find((v) => v.version === req.version)?.artifacts.find((a) => a.key === key) ??
        [...this.quarantined.values()].find((q) => q.version === req.version && q.key === key);
      // Artifacts are immutable (the writer refuses an existing folder), so even --force cannot reuse it.
      if (there) {
        return { skip: true, reason: `v${req.version}/${key} already exists and versions are immutable; choose another --version or omit it`, version: req.version, existing: { version: req.version, key } };
      }
      return { skip: false, reason: `version v${req.version} set by --version`, version: req.version };
    }
    if (existing) {
      const ex = { version: existing.version, key: existing.key };
      if (!req.force) return { skip: true, reason: `${what} is already covered by v${existing.version}/${existing.key}; pass --force-train to retrain`, version: existing.version, existing: ex };
      const next = this.nextVersion(config);
      return { skip: false, reason: `--force-train: retraining ${what} as v${next} (v${existing.version} stays)`, version: next, existing: ex };
    }
    const cfgVersion = this.versions.find((v) => v.version === config.model.version);
    const occupied = (cfgVersion?.artifacts.some((a) => a.key === key) ?? false) || [...this.quarantined.values()].some((q) => q.version === config.model.version && q.key === key);
    if (!occupied) return { skip: false, reason: `no model covers ${what}; training v${config.model.version}`, version: config.model.version };
    const next = this.nextVersion(config);
    return { skip: false, reason: `v${config.model.version}/${key} exists but does not fit the config; training v${next}`, version: next };
  }
}

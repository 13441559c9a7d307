/**
 * ModelRegistry: the engine's view of models/ — discovery, selection, which artifact serves each
 * symbol, and which version the next training writes. Emits 'changed' when a rescan finds a
 * different set of artifacts (the engine hot-reloads predictors on it).
 */
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { symbolToFileStem } from '../market/types.js';
import { compatibleArtifacts, selectBestModel, type SelectionResult } from '../policy/selection.js';
import { discoverModels, type DiscoveredArtifact, type DiscoveredVersion, type DiscoverOptions } from './discover.js';
import { ServingFileError, readServingMap, writeServingMap, type ServingMap } from './serving.js';
import { bumpMinor, compareVersions } from './version.js';

export interface RegistryEvents {
  changed: [versions: DiscoveredVersion[]];
}

export interface RegistryOptions extends DiscoverOptions {
  modelsDir: string;
  /** data/serving.json by default. */
  servingFile: string;
}

export interface ServingArtifact {
  artifact: DiscoveredArtifact;
  via: 'serving' | 'selected' | 'newest';
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

export const registryPaths = (home: string): Pick<RegistryOptions, 'modelsDir' | 'servingFile'> => ({
  modelsDir: join(home, 'models'),
  servingFile: join(home, 'data', 'serving.json'),
});

export class ModelRegistry extends EventEmitter<RegistryEvents> {
  private versions: DiscoveredVersion[] = [];
  private serving: ServingMap = {};
  private fingerprint = '';
  private memo: { config: Config; hour: number; fingerprint: string; result: SelectionResult } | null = null;
  private servingError: string | null = null;

  constructor(private readonly opts: RegistryOptions) {
    super();
  }

  /** Rescan models/ and the serving map; returns true (and emits 'changed') when anything differs. */
  async refresh(): Promise<boolean> {
    const versions = await discoverModels(this.opts.modelsDir, this.opts);
    try {
      this.serving = await readServingMap(this.opts.servingFile);
      this.servingError = null;
    } catch (err) {
      // A broken serving.json must not stop model discovery: keep the last good map and say why.
      if (!(err instanceof ServingFileError)) throw err;
      this.servingError = `${err.message}; keeping the previous promotions`;
    }
    const fp = JSON.stringify(versions.map((v) => [v.version, v.artifacts.map((a) => [a.key, a.complete, a.sizeBytes, a.metadata?.created_at])]));
    this.versions = versions;
    if (fp === this.fingerprint) return false;
    this.fingerprint = fp;
    this.emit('changed', versions);
    return true;
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

  /** Complete artifacts fitting the config that can serve `symbol`, newest version first. */
  private fitting(config: Config, symbol: string): DiscoveredArtifact[] {
    return this.versions
      .flatMap((v) => compatibleArtifacts(config, v))
      .filter((a) => a.servesSymbols.includes(symbol))
      .sort((a, b) => compareVersions(b.version, a.version));
  }

  /** The promoted artifact if serving.json names one, else the selected version's, else the newest fitting one. */
  servingArtifactFor(config: Config, symbol: string, now: number): ServingArtifact | null {
    const fit = this.fitting(config, symbol);
    const promoted = this.serving[symbol];
    const p = promoted ? fit.find((a) => a.version === promoted) : undefined;
    if (p) return { artifact: p, via: 'serving' };
    const selected = this.selection(config, now).winner;
    const s = selected ? fit.find((a) => a.version === selected) : undefined;
    if (s) return { artifact: s, via: 'selected' };
    return fit[0] ? { artifact: fit[0], via: 'newest' } : null;
  }

  /** Symbols that have a complete artifact fitting the config (in any version). */
  coveredSymbols(config: Config): string[] {
    const out = new Set<string>();
    for (const v of this.versions) for (const a of compatibleArtifacts(config, v)) for (const s of a.servesSymbols) out.add(s);
    return [...out].sort();
  }

  /** Record a promotion: `symbol` is served by `version` from now on. */
  async setServing(symbol: string, version: string): Promise<void> {
    const next = { ...(await readServingMap(this.opts.servingFile)), [symbol]: version };
    await writeServingMap(this.opts.servingFile, next);
    this.serving = next;
  }

  /** One past the highest version on disk (1.0 -> 1.1), or the configured version when none exists. */
  nextVersion(config: Config): string {
    const highest = this.versions.map((v) => v.version).sort(compareVersions).at(-1);
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
      const there = this.versions.find((v) => v.version === req.version)?.artifacts.find((a) => a.key === key);
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
    const occupied = cfgVersion?.artifacts.some((a) => a.key === key) ?? false;
    if (!occupied) return { skip: false, reason: `no model covers ${what}; training v${config.model.version}`, version: config.model.version };
    const next = this.nextVersion(config);
    return { skip: false, reason: `v${config.model.version}/${key} exists but does not fit the config; training v${next}`, version: next };
  }
}

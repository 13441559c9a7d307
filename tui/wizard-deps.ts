/**
 * Wires the wizard's narrow WizardDeps to the real modules: config/edit (comment-preserving
 * writes), registry discovery + selection (the "existing compatible model?" question), and the engine.
 */
import { access, readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { EngineApi } from '../src/engine-api.js';
import { configSchema, type Config } from '../src/config/schema.js';
import type { WizardDeps, WizardSymbolCheck } from './screens/wizard/wizard.js';
import type { WizardAnswers } from './screens/wizard/answers.js';
import { wizardAnswersToPatch } from './screens/wizard/answers.js';
import type { ExistingModel } from './screens/wizard/steps.js';

/** Pure: apply a dotted-key patch to a config object and validate the result. */
export function applyPatch(base: Config, patch: Record<string, unknown>): Config {
  const raw = structuredClone(base) as unknown as Record<string, unknown>;
  for (const [dotted, value] of Object.entries(patch)) {
    const keys = dotted.split('.');
    let node = raw;
    for (const k of keys.slice(0, -1)) {
      if (typeof node[k] !== 'object' || node[k] === null) node[k] = {};
      node = node[k] as Record<string, unknown>;
    }
    node[keys[keys.length - 1]] = value;
  }
  return configSchema.parse(raw);
}

export interface WizardWiring {
  home: string;
  configPath: string;
  base: Config;
  /** Creates and starts an engine from the config file as saved. */
  startEngine: () => Promise<EngineApi>;
  now?: () => number;
}

export function makeWizardDeps(w: WizardWiring): WizardDeps {
  return {
    base: w.base,
    configPath: w.configPath,
    async findExistingModel(answers: WizardAnswers): Promise<ExistingModel | null> {
      const [{ discoverModels }, { selectBestModel }, { registryPaths }] = await Promise.all([
        import('../src/registry/discover.js'),
        import('../src/policy/selection.js'),
        import('../src/registry/registry.js'),
      ]);
      const config = applyPatch(w.base, wizardAnswersToPatch(answers));
      const versions = await discoverModels(registryPaths(w.home).modelsDir);
      const sel = selectBestModel(config, versions, (w.now ?? Date.now)());
      const win = sel.candidates.find((c) => c.version === sel.winner);
      if (!win) return null;
      return { version: win.version, symbols: win.trainedSymbols, trainingEnd: win.trainingEnd, trainingMode: win.trainingMode ?? config.model.training_mode };
    },
    async listSymbols(answers) {
      return withSource(w, applyPatch(w.base, wizardAnswersToPatch(answers)), async (source, name) => {
        const { marketListOf } = await import('../src/market/symbols.js');
        const list = await marketListOf(source);
        return { name, symbols: list.symbols ? [...list.symbols].sort() : null, note: list.unavailable };
      }).catch((err: Error) => ({ name: 'the source', symbols: null, note: err.message }));
    },
    async checkSymbols(answers, symbols) {
      return withSource(w, applyPatch(w.base, wizardAnswersToPatch(answers)), async (source) => {
        const { marketListOf, validateSymbol } = await import('../src/market/symbols.js');
        const list = await marketListOf(source);
        const rejected: WizardSymbolCheck['rejected'] = [];
        for (const s of symbols) {
          const r = validateSymbol(s, list);
          if (!r.ok) rejected.push({ symbol: s, reason: r.reason });
        }
        return { rejected, note: list.unavailable };
      });
    },
    async checkCsvDir(dir) {
      const full = resolve(w.home, dir);
      const files = await readdir(full).catch(() => null);
      if (!files) return `folder not found: ${full}`;
      const csv = files.filter((f) => f.toLowerCase().endsWith('.csv'));
      if (!csv.length) return `no .csv files in ${full} (one file per symbol, e.g. BTC-USDT-1h.csv)`;
      return null;
    },
    async save(patch) {
      const notices = await leaveUnfitOutOfMulti(w, patch);
      await writePatch(w, patch);
      return notices;
    },
    startEngine: w.startEngine,
  };
}

/** The configured market source of these answers, closed after `fn`. */
async function withSource<T>(w: WizardWiring, config: Config, fn: (source: import('../src/market/types.js').MarketDataSource, name: string) => Promise<T>): Promise<T> {
  const [{ createMarketSource }, { systemClock }] = await Promise.all([import('../src/market/index.js'), import('../src/clock.js')]);
  const market = await createMarketSource(config, { home: w.home, clock: systemClock });
  try {
    return await fn(market.source, market.source.listName ?? market.source.description);
  } finally {
    await market.source.close?.();
  }
}

/**
 * A shared (multi_symbol) model trains on every symbol of its set: a stablecoin's flat labels or an
 * illiquid pair's noise would shape it for all (issue 13: USDC lifted a shared model's validation
 * accuracy to 71 %). They are judged with the engine's own judgement and left out of the set, each
 * named with why; they stay in the universe (the engine judges them there too).
 */
async function leaveUnfitOutOfMulti(w: WizardWiring, patch: Record<string, unknown>): Promise<string[]> {
  const set = patch['model.multi_symbol_symbols'];
  if (patch['model.training_mode'] !== 'multi_symbol' || !Array.isArray(set) || !set.length) return [];
  const config = applyPatch(w.base, patch);
  const { judgeHistory } = await import('../src/engine/coverage.js');
  const notices: string[] = [];
  const kept: string[] = [];
  await withSource(w, config, async (source) => {
    for (const symbol of set as string[]) {
      const j = await judgeHistory(source, symbol, config, Date.now()).catch(() => null);
      if (j && (j.verdict === 'stablecoin' || j.verdict === 'illiquid')) notices.push(`${symbol} left out of model.multi_symbol_symbols (${j.verdict}): ${j.reason}`);
      else kept.push(symbol);
    }
  }).catch((err: Error) => notices.push(`multi-symbol set not checked for stablecoins and illiquid pairs: ${err.message}`));
  // An empty set means "the whole universe", which would take them back in: then the set stays as typed.
  if (kept.length && kept.length < (set as string[]).length) patch['model.multi_symbol_symbols'] = kept;
  else if (!kept.length) notices.push('every symbol of the multi-symbol set was judged unfit: the set is left as typed; choose others');
  return notices;
}

async function writePatch(w: WizardWiring, patch: Record<string, unknown>): Promise<void> {
  const { updateConfigFile, writeDefaultConfig } = await import('../src/config/edit.js');
  const exists = await access(w.configPath).then(
    () => true,
    () => false,
  );
  // A fresh home gets the shipped, commented template first, so the patch lands among comments.
  if (!exists) await writeDefaultConfig(w.configPath);
  // The operator's own keys kilo does not know stay in the file (kilo setup warned about them).
  await updateConfigFile(w.configPath, patch, { keepUnknown: true });
}

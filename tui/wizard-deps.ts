/**
 * Wires the wizard's narrow WizardDeps to the real modules: config/edit (comment-preserving
 * writes), registry discovery + selection (the "existing compatible model?" question), and the engine.
 */
import { access } from 'node:fs/promises';
import type { EngineApi } from '../src/engine-api.js';
import { configSchema, type Config } from '../src/config/schema.js';
import type { WizardDeps } from './screens/wizard/wizard.js';
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
    async save(patch) {
      const { updateConfigFile, writeDefaultConfig } = await import('../src/config/edit.js');
      const exists = await access(w.configPath).then(
        () => true,
        () => false,
      );
      // A fresh home gets the shipped, commented template first, so the patch lands among comments.
      if (!exists) await writeDefaultConfig(w.configPath);
      // The operator's own keys kilo does not know stay in the file (kilo setup warned about them).
      await updateConfigFile(w.configPath, patch, { keepUnknown: true });
    },
    startEngine: w.startEngine,
  };
}

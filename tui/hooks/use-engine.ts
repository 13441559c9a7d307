import { createContext, useCallback, useContext, useSyncExternalStore } from 'react';
import type { EngineApi, EngineSnapshot } from '../../src/engine-api.js';

/** The one engine, built by the entry point and handed down; no module-level instance. */
export const EngineContext = createContext<EngineApi | null>(null);

export class MissingEngineError extends Error {
  constructor() {
    super('no engine in context: wrap the console in <EngineContext.Provider value={engine}>');
    this.name = 'MissingEngineError';
  }
}

export function useEngine(): EngineApi {
  const engine = useContext(EngineContext);
  if (!engine) throw new MissingEngineError();
  return engine;
}

/** Re-renders when the engine's store changes (it emits only on real changes), never by polling. */
export function useEngineSnapshot(): EngineSnapshot {
  const engine = useEngine();
  // Wrapped so an engine whose methods are not bound still works.
  const subscribe = useCallback((l: () => void) => engine.subscribe(l), [engine]);
  const get = useCallback(() => engine.getSnapshot(), [engine]);
  return useSyncExternalStore(subscribe, get, get);
}

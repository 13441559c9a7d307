import { EventEmitter } from 'node:events';
import type { EngineEvents, EngineSnapshot } from '../engine-api.js';

/**
 * The engine's state owner for the console: an immutable snapshot replaced on change
 * (useSyncExternalStore needs a stable reference until something changed) plus typed events.
 * Notifications are coalesced to one per macrotask so a round that touches 100 symbols
 * re-renders the console once, not 100 times.
 */
export class EngineStore {
  private snapshot: EngineSnapshot;
  private readonly listeners = new Set<() => void>();
  private readonly events = new EventEmitter();
  private notifyScheduled = false;

  constructor(initial: EngineSnapshot) {
    this.snapshot = initial;
    this.events.setMaxListeners(50);
  }

  getSnapshot = (): EngineSnapshot => this.snapshot;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /**
   * Take a freshly projected snapshot. A field whose content did not change keeps its previous
   * object, so a screen selecting it does not re-render, and listeners hear nothing when nothing
   * changed at all.
   */
  replace(next: EngineSnapshot): EngineSnapshot {
    const merged = { ...next } as Record<keyof EngineSnapshot, unknown>;
    let changed = false;
    for (const k of Object.keys(next) as (keyof EngineSnapshot)[]) {
      const a = this.snapshot[k];
      const b = next[k];
      if (a === b || (typeof b === 'object' && b !== null && JSON.stringify(a) === JSON.stringify(b))) merged[k] = a;
      else changed = true;
    }
    if (changed) {
      this.snapshot = merged as unknown as EngineSnapshot;
      this.scheduleNotify();
    }
    return this.snapshot;
  }

  /** Replace part of the snapshot; listeners hear about it only if a field actually changed. */
  update(patch: Partial<EngineSnapshot>): void {
    let changed = false;
    for (const k of Object.keys(patch) as (keyof EngineSnapshot)[]) {
      if (this.snapshot[k] !== patch[k]) {
        changed = true;
        break;
      }
    }
    if (!changed) return;
    this.snapshot = { ...this.snapshot, ...patch };
    this.scheduleNotify();
  }

  on<K extends keyof EngineEvents>(event: K, handler: (...args: EngineEvents[K]) => void): () => void {
    const h = handler as (...args: unknown[]) => void;
    this.events.on(event, h);
    return () => this.events.off(event, h);
  }

  emit<K extends keyof EngineEvents>(event: K, ...args: EngineEvents[K]): void {
    this.events.emit(event, ...args);
  }

  listenerCount(event: keyof EngineEvents): number {
    return this.events.listenerCount(event);
  }

  private scheduleNotify(): void {
    if (this.notifyScheduled) return;
    this.notifyScheduled = true;
    setImmediate(() => {
      this.notifyScheduled = false;
      for (const l of [...this.listeners]) {
        try {
          l();
        } catch {
          // a failing listener must not stop the others or the engine
        }
      }
    });
  }
}

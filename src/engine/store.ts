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
   * changed at all. Content is compared structurally with an early exit (sameContent), not by
   * serialising both sides: every round republishes, and JSON.stringify of the whole snapshot
   * twice a round (the 300-line log tail, the models, the trades) was a quarter of a replay's rounds.
   */
  replace(next: EngineSnapshot): EngineSnapshot {
    const merged = { ...next } as Record<keyof EngineSnapshot, unknown>;
    let changed = false;
    for (const k of Object.keys(next) as (keyof EngineSnapshot)[]) {
      const a = this.snapshot[k];
      const b = next[k];
      if (sameContent(a, b)) merged[k] = a;
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

/**
 * Whether two projected values hold the same content, as their JSON would say it (a key holding
 * undefined counts as absent), but stricter where JSON loses information (NaN and Infinity are
 * not null; key order does not matter): a stricter answer only costs a re-render. Stops at the
 * first difference; a shared reference is equal without looking inside.
 */
export function sameContent(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b) return false;
  if (typeof a === 'number') return Number.isNaN(a) && Number.isNaN(b as number);
  if (typeof a !== 'object' || a === null || b === null) return false;
  const aArr = Array.isArray(a);
  if (aArr !== Array.isArray(b)) return false;
  if (aArr) {
    const x = a as unknown[];
    const y = b as unknown[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!sameContent(x[i], y[i])) return false;
    return true;
  }
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (!ArrayBuffer.isView(a) || !ArrayBuffer.isView(b) || a.constructor !== b.constructor) return false;
    const x = a as unknown as ArrayLike<number>;
    const y = b as unknown as ArrayLike<number>;
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i] && !(Number.isNaN(x[i]) && Number.isNaN(y[i]))) return false;
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let nx = 0;
  for (const k in x) {
    if (x[k] === undefined) continue;
    nx++;
    if (!sameContent(x[k], y[k])) return false;
  }
  let ny = 0;
  for (const k in y) if (y[k] !== undefined) ny++;
  return nx === ny;
}

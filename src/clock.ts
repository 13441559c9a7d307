/** Time is injected everywhere it matters so tests and replays can drive it. */
export type TimerHandle = { readonly id: number };

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = (() => {
  const timers = new Map<number, NodeJS.Timeout>();
  let next = 1;
  return {
    now: () => Date.now(),
    setTimeout(fn, ms) {
      const id = next++;
      const t = setTimeout(() => {
        timers.delete(id);
        fn();
      }, ms);
      timers.set(id, t);
      return { id };
    },
    clearTimeout(h) {
      const t = timers.get(h.id);
      if (t) clearTimeout(t);
      timers.delete(h.id);
    },
  };
})();

/** A clock that only moves when told to; timers fire in time order during advance(). */
export class ManualClock implements Clock {
  private t: number;
  private seq = 1;
  private pending: { id: number; at: number; fn: () => void }[] = [];
  constructor(start = 0) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.seq++;
    this.pending.push({ id, at: this.t + Math.max(0, ms), fn });
    return { id };
  }
  clearTimeout(h: TimerHandle): void {
    this.pending = this.pending.filter((p) => p.id !== h.id);
  }
  /** Move time forward, firing due timers in order (timers scheduled by timers fire too). */
  advance(ms: number): void {
    const target = this.t + ms;
    for (;;) {
      this.pending.sort((a, b) => a.at - b.at || a.id - b.id);
      const due = this.pending[0];
      if (!due || due.at > target) break;
      this.pending.shift();
      this.t = due.at;
      due.fn();
    }
    this.t = target;
  }
  set(t: number): void {
    this.advance(Math.max(0, t - this.t));
  }
}

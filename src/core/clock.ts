/**
 * The clock the chain's layers read and wait on, injected so breakers and
 * backoff are tested without sleeping (CONVENTIONS 10).
 */

export interface Clock {
  /** monotonic milliseconds; only differences are meaningful */
  now(): number;
  /**
   * Wait `ms` milliseconds. On abort it resolves early, at once, and never
   * rejects: callers check `signal.aborted` afterwards.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** `performance.now()` and `setTimeout`. */
export const realClock: Clock = {
  now: () => performance.now(),
  sleep(ms, signal) {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener('abort', done, { once: true });
    });
  },
};

interface Sleeper {
  until: number;
  resolve: () => void;
}

/**
 * A clock for tests. With `autoAdvance` (the default) `sleep(ms)` moves the
 * time forward by `ms` at once; without it, a sleep waits until `advance()`
 * reaches its deadline. Either way every requested delay is recorded in
 * `sleeps`, and an abort ends a sleep without moving the time.
 */
export class ManualClock implements Clock {
  /** delays passed to sleep(), in call order */
  readonly sleeps: number[] = [];
  private t: number;
  private readonly autoAdvance: boolean;
  private waiting: Sleeper[] = [];

  constructor(o: { startMs?: number; autoAdvance?: boolean } = {}) {
    this.t = o.startMs ?? 0;
    this.autoAdvance = o.autoAdvance ?? true;
  }

  now(): number {
    return this.t;
  }

  /** Move the time forward and wake the sleeps that are due. */
  advance(ms: number): void {
    this.t += ms;
    const due = this.waiting.filter((s) => s.until <= this.t);
    this.waiting = this.waiting.filter((s) => s.until > this.t);
    for (const s of due) s.resolve();
  }

  /** sleeps not yet ended */
  get pending(): number {
    return this.waiting.length;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    if (signal?.aborted) return Promise.resolve();
    if (this.autoAdvance) {
      this.t += Math.max(0, ms);
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const s: Sleeper = {
        until: this.t + Math.max(0, ms),
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.waiting = this.waiting.filter((w) => w !== s);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (s.until <= this.t) s.resolve();
      else this.waiting.push(s);
    });
  }
}

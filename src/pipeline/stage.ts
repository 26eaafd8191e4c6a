/**
 * The shared stage helper: timing and counting live here once, not in every
 * stage. A stage is a plain function; `run` wraps it.
 */
export interface StageStat {
  calls: number;
  totalMs: number;
  lastMs: number;
}

export class StageTimer {
  readonly stats = new Map<string, StageStat>();

  run<T>(name: string, fn: () => T): T {
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      this.record(name, performance.now() - t0);
    }
  }

  async runAsync<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.record(name, performance.now() - t0);
    }
  }

  last(name: string): number {
    return this.stats.get(name)?.lastMs ?? 0;
  }

  private record(name: string, ms: number): void {
    let s = this.stats.get(name);
    if (!s) {
      s = { calls: 0, totalMs: 0, lastMs: 0 };
      this.stats.set(name, s);
    }
    s.calls++;
    s.totalMs += ms;
    s.lastMs = ms;
  }
}

/**
 * Stages and the one helper that runs them. A stage is a function over the
 * frame (`process(frame, ctx)`); timing, counting and error events live here
 * once, not in every stage (the OpenTelemetry Collector's processorhelper is
 * the model), so every stage's self-telemetry comes from one place.
 */
import type { ProfileConfig } from '../config/schema.js';
import type { Frame } from '../core/frame.js';
import type { Logger } from '../core/log.js';
import type { MemoryView } from './types.js';

/** What every stage of one cycle may read besides the frame. */
export interface CycleContext {
  /** the active profile's name and settings this cycle */
  readonly profileName: string;
  readonly profile: ProfileConfig;
  /** the memory governor's view; absent when there is no limit */
  readonly memory?: MemoryView;
  readonly logger: Logger;
  /** performance.now() when the cycle began (the cost stage's cycle time) */
  readonly cycleStart: number;
}

export interface Stage {
  /** the name in timings, logs and `nrdot.stage.*` self-telemetry */
  readonly name: string;
  process(frame: Frame, ctx: CycleContext): void | Promise<void>;
}

export interface StageStat {
  calls: number;
  errors: number;
  totalMs: number;
  lastMs: number;
}

/** Times and counts every stage it runs; the engine's only instrument. */
export class StageTimer {
  readonly stats = new Map<string, StageStat>();

  /** Run one stage over the frame. */
  stage(s: Stage, frame: Frame, ctx: CycleContext): void | Promise<void> {
    const t0 = performance.now();
    let r: void | Promise<void>;
    try {
      r = s.process(frame, ctx);
    } catch (e) {
      this.record(s.name, performance.now() - t0, true);
      throw e;
    }
    if (!(r instanceof Promise)) {
      this.record(s.name, performance.now() - t0, false);
      return;
    }
    return r.then(
      () => this.record(s.name, performance.now() - t0, false),
      (e: unknown) => {
        this.record(s.name, performance.now() - t0, true);
        throw e;
      },
    );
  }

  /** Time work that is not a stage (the scan, the export). */
  run<T>(name: string, fn: () => T): T {
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      this.record(name, performance.now() - t0, false);
    }
  }

  async runAsync<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    let failed = true;
    try {
      const v = await fn();
      failed = false;
      return v;
    } finally {
      this.record(name, performance.now() - t0, failed);
    }
  }

  last(name: string): number {
    return this.stats.get(name)?.lastMs ?? 0;
  }

  private record(name: string, ms: number, failed: boolean): void {
    let s = this.stats.get(name);
    if (!s) {
      s = { calls: 0, errors: 0, totalMs: 0, lastMs: 0 };
      this.stats.set(name, s);
    }
    s.calls++;
    if (failed) s.errors++;
    s.totalMs += ms;
    s.lastMs = ms;
  }
}

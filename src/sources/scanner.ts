/**
 * What every scanner backend offers. The TypeScript reader answers
 * synchronously; the native addon resolves a promise, because its scan runs
 * off the event loop.
 */
import type { ProcessBatch } from './batch.js';
import type { ScanBounds } from './bounds.js';

export type BackendName = 'native' | 'ts';

export interface ScanOptions {
  /**
   * Pids whose `status`, `io` and fd count are read (FLAG_DETAIL). Absent:
   * every process. Identities new in this scan are always read in full.
   */
  detail?: Int32Array | readonly number[];
  /**
   * Bounded discovery (src/sources/bounds.ts): processes left out right after
   * their `stat` is parsed. They are not rows; `counters.excluded` counts
   * them per bound. Absent: nothing is left out and `counters.excluded` is
   * absent. Bounded scans also remember each process's CPU time, the base of
   * the next bounded scan's `minCpuPercent` rate.
   */
  bounds?: ScanBounds;
  /**
   * Pids that pass every bound (critical and anomalous processes, say):
   * never excluded by name, CPU, RSS or age, and their rows are reserved
   * within `maxProcesses`. Only meaningful with `bounds`.
   */
  keep?: Int32Array | readonly number[];
}

export interface ProcessScanner {
  readonly backend: BackendName;
  readonly procRoot: string;
  scan(opts?: ScanOptions): ProcessBatch | Promise<ProcessBatch>;
  /** Release what the scanner holds (the native one keeps fds); safe twice. */
  close(): void;
}

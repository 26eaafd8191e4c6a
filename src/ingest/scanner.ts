/**
 * What every scanner backend offers. The TypeScript reader answers
 * synchronously; the native addon resolves a promise, because its scan runs
 * off the event loop.
 */
import type { ProcessBatch } from './batch.js';

export type BackendName = 'native' | 'ts';

export interface ScanOptions {
  /**
   * Pids whose `status`, `io` and fd count are read (FLAG_DETAIL). Absent:
   * every process. Identities new in this scan are always read in full.
   */
  detail?: Int32Array | readonly number[];
}

export interface ProcessScanner {
  readonly backend: BackendName;
  readonly procRoot: string;
  scan(opts?: ScanOptions): ProcessBatch | Promise<ProcessBatch>;
  /** Release what the scanner holds (the native one keeps fds); safe twice. */
  close(): void;
}

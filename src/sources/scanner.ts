/**
 * What every scanner backend offers. The TypeScript reader answers
 * synchronously; the native addon resolves a promise, because its scan runs
 * off the event loop.
 */
import type { ProcessBatch } from './batch.js';
import type { ScanBounds } from './bounds.js';

/** `replay`: a recording played back (src/sources/recording/). */
export type BackendName = 'native' | 'ts' | 'replay';

/** The per-process files a detail row may read besides `stat`. */
export const SCAN_FILES = ['status', 'io', 'fds'] as const;
export type ScanFile = (typeof SCAN_FILES)[number];

/**
 * Which files detail rows read (absent or true: read). `status` gives uid
 * and context switches, `io` read/write bytes, `fds` the open fd count (the
 * `fd/` directory). A value whose file is not read is UNKNOWN (-1), exactly
 * as for a denied file, and the scanner keeps no fd for that file.
 */
export interface ScanFiles {
  status?: boolean;
  io?: boolean;
  fds?: boolean;
}

/** The mask with its defaults filled in (every file on). */
export function resolveFiles(files: ScanFiles | undefined): Required<ScanFiles> {
  return { status: files?.status !== false, io: files?.io !== false, fds: files?.fds !== false };
}

export interface ScanOptions {
  /**
   * Pids whose `status`, `io` and fd count are read (FLAG_DETAIL), as far
   * as `files` allows. Absent: every process. Identities new in this scan
   * are always detail rows.
   */
  detail?: Int32Array | readonly number[];
  /**
   * The files detail rows read (default: all). Identities new in this scan
   * still read `status` once (its Uid names the owner), with `cmdline`,
   * `exe` and `cgroup`, whatever the mask; a known process with `status`
   * off has uid, volCtx and involCtx UNKNOWN (-1).
   */
  files?: ScanFiles;
  /**
   * Read `/proc/<pid>/cgroup` once per identity into `freshCgroup` (default
   * true). False: `freshCgroup` holds '' for every fresh row and
   * `counters.cgroupUnreadable` stays 0.
   */
  cgroup?: boolean;
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

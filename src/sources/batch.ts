/**
 * ProcessBatch: the columnar data model every stage works on.
 *
 * One typed array per field, indexed by row. Strings (name, command line,
 * executable path) travel only for identities that are new since the last
 * scan (`fresh*` arrays); downstream stages keep them in an identity table.
 * Unknown values (permission denied, file missing) are -1. So is a count
 * (rss, vsize, io bytes, faults, context switches) a source read but a
 * float64 cannot hold exactly (past 2^53: a damaged or crafted /proc file,
 * a received int64): `countOrUnknown`, applied where the batch is filled.
 */

import type { ResourceMetrics } from '../otlp/model.js';
import type { ExcludedCounters } from './bounds.js';

export const UNKNOWN = -1;

/**
 * A counter or size a data point can carry exactly: a whole number from 0 to
 * 2^53 - 1. UNKNOWN (-1) is not one, nor is a value a damaged or crafted
 * /proc file gave past 2^53 (a double cannot hold it, and past 2^63 no int64
 * point can): such a value is absent, never rounded or clamped.
 */
export function exactCount(v: number): boolean {
  return v >= 0 && v <= Number.MAX_SAFE_INTEGER && v % 1 === 0;
}

/**
 * `v` as a batch's count column holds it: the value when `exactCount`,
 * else UNKNOWN. Every source applies it where it fills the batch (the
 * TypeScript reader, the native scanner's C++ twin `ExactCount`, the OTLP
 * receiver's mapping), so a stage reads a count as known (>= 0, exact) or
 * UNKNOWN and never needs to check again.
 */
export function countOrUnknown(v: number): number {
  return exactCount(v) ? v : UNKNOWN;
}

/** Row flags (bit set in `flags`). */
export const FLAG_NEW_IDENTITY = 1;
export const FLAG_KERNEL_THREAD = 2;
/**
 * A detail row: `status`, `io` and the fd count were attempted for this row
 * as far as the scan's `files` mask enables them (each may still be unknown,
 * -1: denied, missing, or its file masked off).
 */
export const FLAG_DETAIL = 4;

export interface HostInfo {
  /** host.name resource attribute */
  hostname: string;
  /** seconds since the epoch at boot (`btime` in `<root>/stat`) */
  bootTimeSec: number;
  /** first field of `<root>/uptime`: the tree's own clock */
  uptimeSec: number;
  /** number of `cpuN` lines in `<root>/stat` */
  cpuCount: number;
  /** MemTotal from `<root>/meminfo`, bytes */
  memTotalBytes: number;
  /** clock ticks per second used by `stat` times */
  clkTck: number;
  /** bytes per page used by `stat` rss */
  pageSize: number;
}

export interface ScanCounters {
  /** processes listed but gone before their `stat` could be read */
  vanished: number;
  /** files that answered EACCES/EPERM (counted per file) */
  denied: number;
  /** rows whose `stat` line could not be parsed */
  malformed: number;
  /**
   * Fresh rows whose `cgroup` file could not be read while their `stat`
   * still exists (missing, denied, not a regular file); their
   * `freshCgroup` is ''. A denied one is counted in `denied` too.
   */
  cgroupUnreadable: number;
  /**
   * Processes left out by each bound of `ScanOptions.bounds`; present only
   * when the scan was given bounds. Not included in the other counters.
   */
  excluded?: ExcludedCounters;
}

export interface ProcessBatch {
  count: number;
  host: HostInfo;
  /** wall clock of the scan, ms since epoch */
  scannedAtMs: number;
  pid: Int32Array;
  ppid: Int32Array;
  /** start time in clock ticks since boot (`stat` field 22) */
  startTicks: Float64Array;
  /** CPU seconds */
  utimeSec: Float64Array;
  stimeSec: Float64Array;
  /** aggregated block I/O delay seconds (`stat` field 42) */
  iowaitSec: Float64Array;
  rssBytes: Float64Array;
  vsizeBytes: Float64Array;
  threads: Int32Array;
  /** open file descriptors, -1 when unknown */
  fds: Int32Array;
  /** state letter as a char code (R, S, D, Z, T, I, ...) */
  state: Uint8Array;
  /** bytes read/written from storage (`io` read_bytes/write_bytes), -1 unknown */
  readBytes: Float64Array;
  writeBytes: Float64Array;
  minFaults: Float64Array;
  majFaults: Float64Array;
  /** context switches from `status`, -1 unknown */
  volCtx: Float64Array;
  involCtx: Float64Array;
  /** real uid from `status`, -1 unknown */
  uid: Int32Array;
  flags: Uint8Array;
  /** rows (indices) whose identity is new since the previous scan */
  freshRows: Int32Array;
  /** comm / status Name for each fresh row */
  freshName: string[];
  /** command line (NUL separated args joined with spaces); '' for kernel threads */
  freshCmdline: string[];
  /** executable path from the `exe` link, '' when unreadable */
  freshExe: string[];
  /**
   * `/proc/<pid>/cgroup` of each fresh row, raw (one trailing newline
   * removed); '' when unreadable, not read (`ScanOptions.cgroup: false`) or
   * not sent (received OTLP without a `process.cgroup` attribute).
   */
  freshCgroup: string[];
  /** owner name of each fresh row, when the source names it (received OTLP); otherwise from `uid` */
  freshOwner?: string[];
  counters: ScanCounters;
  /**
   * Received data: the resource each row was read from, exported as it came
   * (attributes, scope, points, time stamps) when the row is kept.
   */
  source?: readonly ResourceMetrics[];
  /**
   * Received data: the latest point time as sent (decimal nanoseconds), the
   * time of the roll-ups built from it, kept exactly (a double in
   * milliseconds would round it).
   */
  timeUnixNano?: string;
}

export function allocBatch(capacity: number, host: HostInfo): ProcessBatch {
  return {
    count: 0,
    host,
    scannedAtMs: Date.now(),
    pid: new Int32Array(capacity),
    ppid: new Int32Array(capacity),
    startTicks: new Float64Array(capacity),
    utimeSec: new Float64Array(capacity),
    stimeSec: new Float64Array(capacity),
    iowaitSec: new Float64Array(capacity),
    rssBytes: new Float64Array(capacity),
    vsizeBytes: new Float64Array(capacity),
    threads: new Int32Array(capacity),
    fds: new Int32Array(capacity).fill(UNKNOWN),
    state: new Uint8Array(capacity),
    readBytes: new Float64Array(capacity).fill(UNKNOWN),
    writeBytes: new Float64Array(capacity).fill(UNKNOWN),
    minFaults: new Float64Array(capacity),
    majFaults: new Float64Array(capacity),
    volCtx: new Float64Array(capacity).fill(UNKNOWN),
    involCtx: new Float64Array(capacity).fill(UNKNOWN),
    uid: new Int32Array(capacity).fill(UNKNOWN),
    flags: new Uint8Array(capacity),
    freshRows: new Int32Array(0),
    freshName: [],
    freshCmdline: [],
    freshExe: [],
    freshCgroup: [],
    counters: { vanished: 0, denied: 0, malformed: 0, cgroupUnreadable: 0 },
  };
}

/** Start time of row `i` in seconds since the epoch. */
export function startEpochSec(b: ProcessBatch, i: number): number {
  return b.host.bootTimeSec + b.startTicks[i] / b.host.clkTck;
}

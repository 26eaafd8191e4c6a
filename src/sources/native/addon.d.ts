/**
 * Types of the native addon `build/Release/nrdot_native.node`, written by
 * hand from native/addon.cc. Bump `abiVersion` in both when the shape changes.
 */

export interface AddonScannerOptions {
  /** the tree to read (absolute path) */
  procRoot: string;
  /** clock ticks per second, to turn `stat` times into seconds */
  clkTck: number;
  /** bytes per page, to turn `stat` rss into bytes */
  pageSize: number;
  /** cap on this scanner's kept `stat` fds (default: the process-wide budget) */
  maxKeptFds?: number;
}

/** Bounded discovery for one scan (src/sources/bounds.ts); every field optional, numbers >= 0. */
export interface AddonScanBounds {
  maxProcesses?: number;
  /** exact comm names, or prefixes with one trailing `*` */
  excludeNames?: readonly string[];
  minCpuPercent?: number;
  minRssBytes?: number;
  minAgeSec?: number;
  /** pids that pass every bound */
  keep?: Int32Array;
}

/**
 * What detail rows and fresh identities read besides `stat` (every field
 * optional, default true). `status`, `io`, `fds`: the files detail rows read
 * (a fresh row still reads `status`, keeping no fd for it when `status` is
 * false); a kept fd of a file that is off is closed. `cgroup`: read
 * `<pid>/cgroup` of fresh rows into `freshCgroup`.
 */
export interface AddonScanReads {
  status?: boolean;
  io?: boolean;
  fds?: boolean;
  cgroup?: boolean;
}

/** One scan's columns; each typed array has `capacity` (= pids listed) rows, `count` of them filled. */
export interface RawScan {
  count: number;
  startTicks: Float64Array;
  utimeSec: Float64Array;
  stimeSec: Float64Array;
  iowaitSec: Float64Array;
  rssBytes: Float64Array;
  vsizeBytes: Float64Array;
  readBytes: Float64Array;
  writeBytes: Float64Array;
  minFaults: Float64Array;
  majFaults: Float64Array;
  volCtx: Float64Array;
  involCtx: Float64Array;
  pid: Int32Array;
  ppid: Int32Array;
  threads: Int32Array;
  fds: Int32Array;
  uid: Int32Array;
  state: Uint8Array;
  flags: Uint8Array;
  freshRows: Int32Array;
  freshName: string[];
  freshCmdline: string[];
  freshExe: string[];
  /** `<pid>/cgroup` of each fresh row, one trailing newline removed; '' unreadable or not read */
  freshCgroup: string[];
  vanished: number;
  denied: number;
  malformed: number;
  /** fresh rows whose cgroup file could not be read while their `stat` exists */
  cgroupUnreadable: number;
  /** per-bound counts of processes left out; null when the scan had no bounds */
  excluded: { max_processes: number; name: number; cpu: number; rss: number; age: number } | null;
  /** raw host files (latin1), null when unreadable */
  hostStat: string | null;
  uptime: string | null;
  meminfo: string | null;
  /** errno name when the root could not be listed (e.g. 'ENOENT'), else null */
  listError: string | null;
  listErrorMessage: string | null;
  scannedAtMs: number;
  /** diagnostics: this scanner's kept fds after the scan */
  keptFds: number;
  /** `stat` files opened by path in this scan */
  opened: number;
  /** kept fds dropped and reopened (ESRCH, ESPIPE, a replaced file) */
  reopened: number;
  /** detail rows (status, io and the fd count read as far as the mask enables them) */
  detailRows: number;
  /** nanoseconds spent reading and parsing on the pool thread */
  scanNs: number;
}

export interface AddonScanner {
  /**
   * Scan off the event loop. `detail`: pids that get status/io/fd; absent or
   * null = all. `bounds`: processes to leave out (absent or null: none).
   * `reads`: the file mask and the cgroup switch (absent or null: all on).
   */
  scan(detail?: Int32Array | null, bounds?: AddonScanBounds | null, reads?: AddonScanReads | null): Promise<RawScan>;
  /** Close every kept fd (after the running scan, if any) and forget identities. */
  close(): void;
  /** whether procRoot is a procfs mount (kept fds need no staleness check) */
  readonly isProcfs: boolean;
  readonly keptFds: number;
}

export interface FdLimits {
  soft: number;
  hard: number;
  /** kept fds allowed process-wide: hard limit minus a reserve, capped */
  budget: number;
  /** kept fds now, all scanners */
  kept: number;
}

/** One listening socket from netlink sock_diag (native/sock_diag.cc). */
export interface DiagListener {
  transport: 'tcp' | 'udp' | 'unix';
  inode: number;
  family?: 4 | 6;
  address?: string;
  port?: number;
  uid?: number;
  path?: string;
}

export interface Addon {
  Scanner: new (opts: AddonScannerOptions) => AddonScanner;
  limits(): FdLimits;
  /**
   * flock(fd, LOCK_EX | LOCK_NB): 0 when locked, else the errno
   * (native/lock.cc; absent in builds from before it, which fall back to a pid file)
   */
  flock?: (fd: number) => number;
  /** listening sockets over netlink sock_diag; absent in builds before it was added */
  listeningSockets?(): Promise<DiagListener[]>;
  abiVersion: number;
}

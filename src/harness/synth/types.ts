/**
 * Public and persisted types of the synthetic host.
 *
 * `ProcessTruth` is what a correct reader must report for a process;
 * `SynthProc` adds the model parameters `advanceHost` needs to continue.
 */

export type Category =
  | 'init'
  | 'kernel'
  | 'system'
  | 'session'
  | 'database'
  | 'webserver'
  | 'broker'
  | 'container'
  | 'runtime'
  | 'shell'
  | 'tool'
  | 'user';

export const CATEGORIES: readonly Category[] = [
  'init',
  'kernel',
  'system',
  'session',
  'database',
  'webserver',
  'broker',
  'container',
  'runtime',
  'shell',
  'tool',
  'user',
];

export type AnomalyKind = 'cpu' | 'memory' | 'new';

export interface HostTruth {
  hostname: string;
  /** seconds since the epoch at boot (`btime`) */
  btime: number;
  /** seconds since boot (first field of `uptime`), two decimals */
  uptime: number;
  cpus: number;
  memTotalBytes: number;
}

export interface ProcessTruth {
  pid: number;
  ppid: number;
  /** `stat` comm / `status` Name */
  comm: string;
  /** argv as written to `cmdline` ([] for kernel threads and zombies) */
  argv: string[];
  /** argv joined with single spaces, as the reader reports it */
  cmdline: string;
  /** target of the `exe` link; '' when there is no link */
  exe: string;
  /** state letter (R, S, D, Z, T, I) */
  state: string;
  utimeTicks: number;
  stimeTicks: number;
  /** `stat` field 22, clock ticks since boot */
  starttimeTicks: number;
  vsizeBytes: number;
  rssBytes: number;
  threads: number;
  /** entries in `fd/` */
  fds: number;
  /** real uid */
  uid: number;
  volCtx: number;
  involCtx: number;
  readBytes: number;
  writeBytes: number;
  minflt: number;
  majflt: number;
  blkioTicks: number;
  kernel: boolean;
  category: Category;
  /** finer role inside the category, e.g. 'postgres-backend' */
  role: string;
  anomaly?: AnomalyKind;
}

export interface SynthTruth {
  seed: number;
  clkTck: number;
  pageSize: number;
  host: HostTruth;
  processes: ProcessTruth[];
}

export interface AdvanceResult extends SynthTruth {
  anomalies: { pid: number; kind: AnomalyKind }[];
  exited: number[];
  spawned: number[];
}

export type ProgressFn = (done: number, total: number) => void;

export interface GenerateOptions {
  out: string;
  processes: number;
  seed?: number;
  cpus?: number;
  onProgress?: ProgressFn;
}

export interface AdvanceOptions {
  dir: string;
  seconds: number;
  /** number of anomalies to inject in this step (default 0) */
  anomalies?: number;
  /** fraction of live processes that exit (and are replaced) in this step; default 0.01 */
  churn?: number;
  onProgress?: ProgressFn;
}

/** Model parameters and the counters that are not part of the truth. */
export interface ProcModel {
  gid: number;
  pgrp: number;
  session: number;
  ttyNr: number;
  tpgid: number;
  flags: number;
  nice: number;
  /** scheduling policy (0 other, 1 fifo) and rt priority */
  policy: number;
  rtPrio: number;
  processor: number;
  umask: string;
  /** pid inside its container's pid namespace, 0 when in the host namespace */
  nsPid: number;
  /** CPU use as a fraction of one core */
  cpuRate: number;
  /** share of CPU time spent in user mode */
  userShare: number;
  /** fractional ticks not yet written */
  tickCarry: number;
  /** voluntary context switches per second */
  wakeRate: number;
  /** involuntary context switches per CPU second */
  preemptPerCpuSec: number;
  /** minor faults per CPU second */
  faultsPerCpuSec: number;
  /** storage bytes per second */
  readRate: number;
  writeRate: number;
  rchar: number;
  wchar: number;
  syscr: number;
  syscw: number;
  cancelledWriteBytes: number;
  cutime: number;
  cstime: number;
  cminflt: number;
  cmajflt: number;
  /** peak values for VmHWM / VmPeak */
  hwmBytes: number;
  peakVsizeBytes: number;
  /** may exit during churn */
  ephemeral: boolean;
  /** kind of fd targets to draw */
  fdKind: FdKind;
}

export type FdKind = 'std' | 'tty' | 'server' | 'db' | 'jvm' | 'kernel';

export interface SynthProc extends ProcessTruth {
  m: ProcModel;
}

export interface HostModel extends HostTruth {
  /** cumulative CPU ticks of the whole host (incl. exited processes) */
  userTicks: number;
  niceTicks: number;
  idleTicks: number;
  systemTicks: number;
  iowaitTicks: number;
  irqTicks: number;
  softirqTicks: number;
  ctxt: number;
  intr: number;
  /** forks since boot */
  forks: number;
  memFreeKb: number;
  buffersKb: number;
  cachedKb: number;
}

export interface SynthState {
  format: 'nrdot-synth';
  version: 1;
  seed: number;
  clkTck: number;
  pageSize: number;
  /** number of advance steps applied */
  step: number;
  /** next pid the allocator hands out */
  nextPid: number;
  host: HostModel;
  procs: SynthProc[];
  lastAdvance?: { anomalies: { pid: number; kind: AnomalyKind }[]; exited: number[]; spawned: number[] };
}

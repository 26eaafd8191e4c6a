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

/**
 * What kind of host to build. `mixed` is the original all-round host (and
 * the default: same seed, same bytes); the others are dominated by one kind
 * of workload (see README, "Try it on a synthetic busy host").
 */
export type Shape = 'mixed' | 'web' | 'k8s' | 'ci' | 'db' | 'idle';

export const SHAPES: readonly Shape[] = ['mixed', 'web', 'k8s', 'ci', 'db', 'idle'];

/** cgroup v2 (unified: one `0::/path` line) or legacy v1 (one line per hierarchy). */
export type CgroupVersion = 1 | 2;

/** Kubernetes QoS class of a pod (decides its slice). */
export type Qos = 'guaranteed' | 'burstable' | 'besteffort';

/**
 * Where a process sits in the cgroup tree; the file text, the systemd unit,
 * the container id and the pod uid all derive from it.
 *   kernel: kernel threads (`/`); init: pid 1 (`/init.scope`);
 *   svc: a system unit under system.slice (templated units `a@b.service`
 *        under `system-a.slice`, with `-` escaped as `\x2d` like systemd);
 *   user: a unit under user-UID.slice (`session-N.scope`, `user@UID.service`);
 *   docker: a docker container; pod: a container of a Kubernetes pod.
 */
export type Placement =
  | { k: 'kernel' }
  | { k: 'init' }
  | { k: 'svc'; unit: string }
  | { k: 'user'; uid: number; unit: string }
  | { k: 'docker'; id: string }
  | { k: 'pod'; qos: Qos; pod: string; id: string };

export interface HostTruth {
  hostname: string;
  /** seconds since the epoch at boot (`btime`) */
  btime: number;
  /** seconds since boot (first field of `uptime`), two decimals */
  uptime: number;
  cpus: number;
  memTotalBytes: number;
}

/** The fields of a process the model stores (everything but the cgroup view). */
export interface ProcCore {
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

/** What a correct reader must report for a process, and how it should be grouped. */
export interface ProcessTruth extends ProcCore {
  /**
   * The lines of `/proc/<pid>/cgroup` as written, without newlines: one
   * `0::/path` line for cgroup v2, `N:controllers:/path` lines for v1. Also
   * set when the file is made unreadable (`cgroupReadable: false`): it is
   * where the process really is.
   */
  cgroup: string[];
  /** the process's cgroup path: the v2 path, or the v1 `name=systemd` (and pids, memory) path */
  cgroupPath: string;
  /** false for the processes whose `cgroup` is deliberately a directory (reading it fails with EISDIR) */
  cgroupReadable: boolean;
  /** the systemd service or scope the process runs in (null for kernel threads and v1 cgroupfs containers) */
  unit: string | null;
  /** the 64-hex container id for processes in a docker or Kubernetes container */
  containerId: string | null;
  /** the pod uid (with dashes) for processes in a Kubernetes pod */
  podUid: string | null;
  /**
   * The worker pool the process belongs to, `<name>@<container id or unit>`
   * (e.g. `php-fpm@php8.2-fpm.service`): every member of a pool the
   * generator built, master included; null for everything else.
   */
  pool: string | null;
}

export interface SynthTruth {
  seed: number;
  shape: Shape;
  cgroupVersion: CgroupVersion;
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
  /** default 'mixed' */
  shape?: Shape;
  /** default 2 */
  cgroupVersion?: CgroupVersion;
  /**
   * Share (0..1) of processes whose `cgroup` file is unreadable: written as a
   * directory, so reading it as a file fails with EISDIR. Default 0.
   */
  cgroupUnreadable?: number;
  onProgress?: ProgressFn;
}

export interface AdvanceOptions {
  dir: string;
  seconds: number;
  /** number of anomalies to inject in this step (default 0) */
  anomalies?: number;
  /**
   * fraction of live processes that exit (and are replaced) in this step;
   * default per shape: mixed 0.01, web 0.03, k8s 0.03, ci 0.35, db 0.01, idle 0.002
   */
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
  /** where it sits in the cgroup tree (set when the process is placed) */
  cg?: Placement;
  /** name of the worker pool it belongs to (the truth's pool is `<pool>@<container or unit>`) */
  pool?: string;
  /** processes sharing a cohort (a pod, a CI job) exit together in `advance` */
  cohort?: string;
}

export type FdKind = 'std' | 'tty' | 'server' | 'db' | 'jvm' | 'kernel';

export interface SynthProc extends ProcCore {
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
  shape: Shape;
  cgroup: { version: CgroupVersion; unreadable: number };
}

/**
 * Builds the initial population: groups add processes as drafts (parent
 * index + start time + parameters); `materialize` orders them by start time,
 * hands out pids the way the kernel does (increasing, with gaps left by
 * processes that came and went), and fills the counters for each age.
 */
import { commOf, kernelComm } from './catalog.js';
import { accrue, pickState, setRss } from './model.js';
import type { Rng } from './prng.js';
import type { Category, FdKind, SynthProc } from './types.js';

export type StartKind = 'boot' | 'early' | 'service' | 'any' | 'child' | 'recent' | 'fresh';

/** A pid namespace (container); counts pids inside it. */
export interface Namespace {
  next: number;
}

export interface Spec {
  argv: string[];
  /** target of the exe link, '' for none */
  exe: string;
  /** defaults to the basename of argv[0] (the path given to execve) truncated to 15 bytes */
  comm?: string;
  ids: readonly [number, number];
  category: Category;
  role: string;
  threads?: number;
  /** median CPU rate, fraction of one core */
  cpu: number;
  cpuSigma?: number;
  /** probability of joining the busy tail */
  busy?: number;
  /** median RSS in MiB */
  rssMb: number;
  rssSigma?: number;
  /** extra virtual size in MiB beyond RSS (heap reservations, mappings) */
  vmMb?: number;
  fds: readonly [number, number];
  fdKind?: FdKind;
  start: StartKind;
  state?: string;
  ephemeral?: boolean;
  /** 0 inherit pgrp/session, 1 process-group leader, 2 session leader */
  leader?: 0 | 1 | 2;
  tty?: number;
  readKBps?: number;
  writeKBps?: number;
  /** voluntary wakeups per second, median */
  wake?: number;
  nice?: number;
  rtPrio?: number;
  kernel?: boolean;
  ns?: Namespace;
  umask?: string;
}

interface Draft {
  p: SynthProc;
  parent: number;
  start: number;
  leader: 0 | 1 | 2;
  ns?: Namespace;
  key: number;
}

const MiB = 1024 * 1024;

export class Builder {
  readonly drafts: Draft[] = [];
  kernelCount = 0;

  constructor(
    readonly rng: Rng,
    readonly uptime: number,
    readonly cpus: number,
    readonly capacity: number,
    readonly kernelBudget: number,
  ) {}

  get full(): boolean {
    return this.drafts.length >= this.capacity;
  }

  /** Room left for user-space processes (the kernel budget is reserved). */
  get userRoom(): number {
    return this.capacity - this.drafts.length - Math.max(0, this.kernelBudget - this.kernelCount);
  }

  get kernelRoom(): number {
    return Math.min(this.kernelBudget - this.kernelCount, this.capacity - this.drafts.length);
  }

  startOf(i: number): number {
    return i < 0 ? 0 : this.drafts[i].start;
  }

  /** Add a process under draft `parent` (-1: ppid 0). Returns its index, or -1 when there is no room. */
  add(parent: number, s: Spec): number {
    if (this.full) return -1;
    if (s.kernel ? this.kernelRoom <= 0 : this.userRoom <= 0) return -1;
    const rng = this.rng;
    const ps = this.startOf(parent);
    const U = this.uptime;
    let start: number;
    switch (s.start) {
      case 'boot':
        start = ps + rng.range(0.01, 1.2);
        break;
      case 'early':
        start = rng.range(1.5, 25);
        break;
      case 'service':
        start = rng.chance(0.75) ? rng.range(3, 90) : rng.range(90, U);
        break;
      case 'any':
        start = rng.range(ps, U);
        break;
      case 'child':
        start = ps + rng.exp(1.5);
        break;
      case 'recent':
        start = U - rng.exp(600);
        break;
      case 'fresh':
        start = U - rng.exp(4);
        break;
    }
    start = Math.min(Math.max(start, ps + 0.001), U - 0.005);

    const p = makeProc(rng, s, this.cpus);
    const kernel = p.kernel;
    if (kernel) this.kernelCount++;
    const idx = this.drafts.length;
    this.drafts.push({ p, parent, start, leader: s.leader ?? 0, ns: s.ns, key: idx });
    return idx;
  }

  /**
   * Order by start time, assign pids, derive pgrp/session, and fill the
   * counters for each process's age. Returns the processes and the next pid.
   */
  materialize(clkTck: number, pageSize: number, cpuBudget: number): { procs: SynthProc[]; nextPid: number } {
    const rng = this.rng;
    const U = this.uptime;
    this.capCpu(cpuBudget);
    const order = this.drafts.slice().sort((a, b) => a.start - b.start || a.key - b.key);
    // init and kthreadd always own pids 1 and 2.
    const pinned = order.filter((d) => d.key < 2).sort((a, b) => a.key - b.key);
    const rest = order.filter((d) => d.key >= 2);
    const pidOf = new Int32Array(this.drafts.length);
    const meanGap = rng.range(2, 10);
    let next = 1;
    for (const d of [...pinned, ...rest]) {
      const bootKernel = d.p.kernel && d.start < 2;
      if (next > 2 && !bootKernel) next += Math.floor(rng.exp(meanGap));
      pidOf[d.key] = next++;
    }
    const procs: SynthProc[] = [];
    for (const d of [...pinned, ...rest]) {
      const p = d.p;
      p.pid = pidOf[d.key];
      const parent = d.parent >= 0 ? this.drafts[d.parent].p : undefined;
      p.starttimeTicks = Math.floor(d.start * clkTck);
      linkProc(p, parent, d.leader);
      if (d.ns) p.m.nsPid = d.ns.next++;
      bornAt(p, U, rng, clkTck, pageSize);
      procs.push(p);
    }
    const last = procs.length > 0 ? procs[procs.length - 1].pid : 2;
    return { procs, nextPid: last + 1 + Math.floor(rng.exp(meanGap)) };
  }

  /** Keep the sum of CPU rates within the host's budget (cores x utilisation). */
  private capCpu(budget: number): void {
    const rng = this.rng;
    let sum = 0;
    for (const d of this.drafts) sum += d.p.m.cpuRate;
    if (sum <= budget) return;
    // First calm some of the busy tail down, then scale what is left.
    const busy = this.drafts.filter((d) => d.p.m.cpuRate > 0.05);
    rng.shuffle(busy);
    for (const d of busy) {
      if (sum <= budget) break;
      const calm = rng.logNormal(0.002, 1);
      sum -= d.p.m.cpuRate - calm;
      d.p.m.cpuRate = calm;
    }
    if (sum > budget) {
      const f = budget / sum;
      for (const d of this.drafts) d.p.m.cpuRate *= f;
    }
  }
}

/** A process from its spec: everything but the pid, parent links and start time. */
export function makeProc(rng: Rng, s: Spec, cpus: number): SynthProc {
  const kernel = s.kernel === true;
  const threads = s.threads ?? 1;
  let cpuRate = kernel ? rng.logNormal(s.cpu, 1.0) : rng.logNormal(s.cpu, s.cpuSigma ?? 1.2);
  if (s.busy && rng.chance(s.busy))
    cpuRate = rng.range(0.1, 0.95) * (threads > 1 ? rng.range(1, Math.min(threads, 4)) : 1);
  cpuRate = Math.min(cpuRate, threads, cpus);
  const rss = kernel || s.state === 'Z' ? 0 : rng.logNormal(s.rssMb, s.rssSigma ?? 0.5) * MiB;
  const vm =
    kernel || s.state === 'Z'
      ? 0
      : rss * rng.range(1.2, 3) + (s.vmMb ?? 20) * MiB * rng.jitter(0.3) + threads * 8 * MiB;
  const nice = s.nice ?? 0;
  const rtPrio = s.rtPrio ?? 0;
  const wake = s.wake ?? (kernel ? 0.5 : 2);
  const p: SynthProc = {
    pid: 0,
    ppid: 0,
    comm: s.comm ?? (kernel ? kernelComm(s.argv[0]) : commOf(s.argv[0])),
    argv: kernel || s.state === 'Z' ? [] : s.argv,
    cmdline: kernel || s.state === 'Z' ? '' : s.argv.join(' '),
    exe: kernel || s.state === 'Z' ? '' : s.exe,
    state: s.state ?? 'S',
    utimeTicks: 0,
    stimeTicks: 0,
    starttimeTicks: 0,
    vsizeBytes: Math.round(vm),
    rssBytes: 0,
    threads: s.state === 'Z' ? 1 : threads,
    fds: kernel || s.state === 'Z' ? 0 : rng.int(s.fds[0], s.fds[1]),
    uid: s.ids[0],
    volCtx: 0,
    involCtx: 0,
    readBytes: 0,
    writeBytes: 0,
    minflt: 0,
    majflt: 0,
    blkioTicks: 0,
    kernel,
    category: s.category,
    role: s.role,
    m: {
      gid: s.ids[1],
      pgrp: 0,
      session: 0,
      ttyNr: s.tty ?? 0,
      tpgid: -1,
      flags: kernel
        ? s.argv[0].startsWith('kworker/')
          ? 0x04208060
          : 0x00208040
        : s.ids[0] === 0
          ? 0x00400100
          : 0x00400000,
      nice,
      policy: rtPrio > 0 ? 1 : 0,
      rtPrio,
      processor: rng.int(0, cpus - 1),
      umask: s.umask ?? (kernel ? '0000' : '0022'),
      nsPid: 0,
      cpuRate: s.state === 'Z' ? 0 : cpuRate,
      userShare: kernel ? 0 : rng.range(0.55, 0.95),
      tickCarry: 0,
      wakeRate: s.state === 'Z' ? 0 : rng.logNormal(wake, 0.7),
      preemptPerCpuSec: rng.logNormal(kernel ? 5 : 25, 0.6),
      faultsPerCpuSec: kernel ? 0 : rng.logNormal(400, 0.8),
      readRate: s.readKBps ? rng.logNormal(s.readKBps * 1024, 1) : 0,
      writeRate: s.writeKBps ? rng.logNormal(s.writeKBps * 1024, 1) : 0,
      rchar: 0,
      wchar: 0,
      syscr: 0,
      syscw: 0,
      cancelledWriteBytes: 0,
      cutime: 0,
      cstime: 0,
      cminflt: 0,
      cmajflt: 0,
      hwmBytes: 0,
      peakVsizeBytes: 0,
      ephemeral: s.ephemeral === true,
      fdKind: kernel ? 'kernel' : (s.fdKind ?? 'std'),
    },
  };
  p.rssBytes = rss; // rounded to pages in bornAt
  return p;
}

/** Derive pgrp/session/tpgid from the parent (leader: 0 inherit, 1 group leader, 2 session leader). */
export function linkProc(p: SynthProc, parent: SynthProc | undefined, leader: 0 | 1 | 2): void {
  const m = p.m;
  p.ppid = parent ? parent.pid : 0;
  if (leader === 2 || !parent) {
    m.pgrp = p.pid;
    m.session = p.pid;
  } else if (leader === 1) {
    m.pgrp = p.pid;
    m.session = parent.m.session;
  } else {
    m.pgrp = parent.m.pgrp;
    m.session = parent.m.session;
  }
  if (p.kernel) {
    m.pgrp = 0;
    m.session = 0;
  }
  m.tpgid = m.ttyNr ? m.pgrp : -1;
}

/**
 * Give a process (with `starttimeTicks` set) its memory in whole pages, its
 * start-up counters and the counters of its life until `uptime`.
 */
export function bornAt(p: SynthProc, uptime: number, rng: Rng, clkTck: number, pageSize: number): void {
  const m = p.m;
  setRss(p, p.rssBytes, pageSize);
  p.vsizeBytes = p.kernel || p.state === 'Z' ? 0 : Math.ceil(p.vsizeBytes / pageSize) * pageSize;
  m.peakVsizeBytes = Math.round((p.vsizeBytes * rng.range(1, 1.15)) / pageSize) * pageSize;
  m.hwmBytes = Math.round((p.rssBytes * rng.range(1, 1.3)) / pageSize) * pageSize;
  if (!p.kernel && p.state !== 'Z') {
    p.minflt = Math.round((p.rssBytes / pageSize) * rng.range(1.2, 3)) + rng.int(80, 400);
    p.majflt = rng.chance(0.3) ? rng.int(0, 40) : 0;
    m.rchar = rng.int(2000, 400_000);
    m.syscr = rng.int(10, 400);
    m.syscw = rng.int(1, 50);
    m.wchar = rng.int(0, 20_000);
  }
  accrue(p, uptime - p.starttimeTicks / clkTck, rng, clkTck);
  if (p.state === 'Z') {
    // A zombie keeps what it used before exiting.
    p.utimeTicks = rng.int(0, 30);
    p.stimeTicks = rng.int(0, 10);
    p.volCtx = rng.int(1, 50);
    p.involCtx = rng.int(0, 5);
    p.minflt = rng.int(100, 2000);
  }
  p.state = pickState(p, rng);
}

/**
 * Builds the initial population: groups add processes as drafts (parent
 * index + start time + parameters); `materialize` orders them by start time,
 * hands out pids the way the kernel does (increasing, with gaps left by
 * processes that came and went), and fills the counters for each age.
 */
import { resolvePlacement } from './cgroup.js';
import type { Rng } from './prng.js';
import { bornAt, linkProc, makeProc } from './proc.js';
import type { Category, FdKind, Placement, SynthProc } from './types.js';

export type StartKind = 'boot' | 'early' | 'service' | 'any' | 'child' | 'recent' | 'fresh';

/** A pid namespace (container); counts pids inside it. */
export interface Namespace {
  next: number;
  /** the container's cgroup: every process in the namespace is placed there */
  cg?: Placement;
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
  /** its own cgroup (else its namespace's, else its parent's) */
  cg?: Placement;
  /** worker pool name (see ProcessTruth.pool) */
  pool?: string;
  /** exits together with the rest of its cohort (else inherits its parent's) */
  cohort?: string;
}

interface Draft {
  p: SynthProc;
  parent: number;
  start: number;
  leader: 0 | 1 | 2;
  ns?: Namespace;
  key: number;
  /** an existing process registered as a parent (advance): never materialized again */
  existing?: boolean;
  cg?: Placement;
  cohort?: string;
}

/** Advance mode: new processes start inside [from, to] (seconds since boot). */
export interface Window {
  from: number;
  to: number;
}

export class Builder {
  readonly drafts: Draft[] = [];
  kernelCount = 0;
  /** drafts that are new processes (not existing ones registered with `ext`) */
  made = 0;
  /**
   * A second random stream for what the original generator did not draw
   * (container ids of app containers, pod uids, QoS classes), so adding it
   * left the `mixed` host's main stream, and so its bytes, unchanged.
   */
  readonly aux: Rng;
  private readonly units = new Map<string, number>();

  constructor(
    readonly rng: Rng,
    readonly uptime: number,
    readonly cpus: number,
    readonly capacity: number,
    readonly kernelBudget: number,
    aux: Rng,
    readonly window?: Window,
  ) {
    this.aux = aux;
  }

  get full(): boolean {
    return this.made >= this.capacity;
  }

  /** Room left for user-space processes (the kernel budget is reserved). */
  get userRoom(): number {
    return this.capacity - this.made - Math.max(0, this.kernelBudget - this.kernelCount);
  }

  get kernelRoom(): number {
    return Math.min(this.kernelBudget - this.kernelCount, this.capacity - this.made);
  }

  startOf(i: number): number {
    return i < 0 ? 0 : this.drafts[i].start;
  }

  /** A unit name not used yet on this host: `nginx.service`, then `nginx-2.service`. */
  unit(name: string): string {
    const n = (this.units.get(name) ?? 0) + 1;
    this.units.set(name, n);
    if (n === 1) return name;
    const dot = name.lastIndexOf('.');
    return `${name.slice(0, dot)}-${n}${name.slice(dot)}`;
  }

  /** The placement a draft will get (its own, its namespace's, or the nearest ancestor's that has one). */
  placementOf(idx: number): Placement | undefined {
    for (let i = idx; i >= 0; i = this.drafts[i].parent) {
      const d = this.drafts[i];
      const cg = d.existing ? d.p.m.cg : (d.cg ?? d.ns?.cg);
      if (cg) return cg;
    }
    return undefined;
  }

  /** Register an existing process (advance) so new processes can hang under it. */
  ext(p: SynthProc, clkTck: number): number {
    const idx = this.drafts.length;
    this.drafts.push({ p, parent: -1, start: p.starttimeTicks / clkTck, leader: 0, key: idx, existing: true });
    return idx;
  }

  /** Add a process under draft `parent` (-1: ppid 0). Returns its index, or -1 when there is no room. */
  add(parent: number, s: Spec): number {
    if (this.full) return -1;
    if (s.kernel ? this.kernelRoom <= 0 : this.userRoom <= 0) return -1;
    const rng = this.rng;
    const ps = this.startOf(parent);
    const U = this.uptime;
    let start: number;
    if (this.window) {
      const from = Math.max(this.window.from, ps);
      start = from + rng.range(0.05, 0.95) * (this.window.to - from);
    } else
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
    if (!this.window) start = Math.min(Math.max(start, ps + 0.001), U - 0.005);

    const p = makeProc(rng, s, this.cpus);
    const kernel = p.kernel;
    if (kernel) this.kernelCount++;
    this.made++;
    const idx = this.drafts.length;
    const cohort = s.cohort ?? (parent >= 0 ? this.drafts[parent].p.m.cohort : undefined);
    this.drafts.push({ p, parent, start, leader: s.leader ?? 0, ns: s.ns, key: idx, cg: s.cg, cohort });
    if (cohort !== undefined) p.m.cohort = cohort;
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
      p.m.cg = resolvePlacement(p, d.cg, d.ns?.cg, parent);
      bornAt(p, U, rng, clkTck, pageSize);
      procs.push(p);
    }
    const last = procs.length > 0 ? procs[procs.length - 1].pid : 2;
    return { procs, nextPid: last + 1 + Math.floor(rng.exp(meanGap)) };
  }

  /**
   * Advance mode: give the new drafts pids from `alloc` in start order, link
   * them to their (new or existing) parents and fill their counters up to
   * the window's end. `minTicks(pid)` keeps a reused pid's start time after
   * the one of the process that held it.
   */
  materializeNew(
    alloc: () => number,
    minTicks: (pid: number) => number,
    clkTck: number,
    pageSize: number,
  ): SynthProc[] {
    const rng = this.rng;
    const to = this.window?.to ?? this.uptime;
    const fresh = this.drafts.filter((d) => !d.existing).sort((a, b) => a.start - b.start || a.key - b.key);
    const out: SynthProc[] = [];
    for (const d of fresh) {
      const p = d.p;
      p.pid = alloc();
      const parent = d.parent >= 0 ? this.drafts[d.parent].p : undefined;
      let ticks = Math.floor(d.start * clkTck);
      ticks = Math.max(ticks, minTicks(p.pid), parent ? parent.starttimeTicks : 0);
      p.starttimeTicks = Math.min(ticks, Math.floor(to * clkTck));
      linkProc(p, parent, d.leader);
      if (d.ns) p.m.nsPid = d.ns.next++;
      p.m.cg = resolvePlacement(p, d.cg, d.ns?.cg, parent);
      bornAt(p, to, rng, clkTck, pageSize);
      out.push(p);
    }
    return out;
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

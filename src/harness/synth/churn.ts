/**
 * Churn for the shaped hosts: which processes exit in an `advance` step and
 * what starts in their place.
 *
 * Exits: first whole cohorts (a pod with its shim, pause and containers; a
 * CI job with its container or runner worker), up to the shape's share of
 * the step's exits, then short-lived leaves (pool workers, compilers, shell
 * commands). Replacements: a new cohort of about the same size for each
 * cohort (new pod uid, sandbox and container ids; a new job), and for each
 * leaf a process like it under the same parent, in the same cgroup, pool
 * and container (a recycled worker; for CI, the job's next compiler or
 * test worker).
 */
import { Builder, type Namespace, type Spec } from './builder.js';
import { containerOf } from './cgroup.js';
import type { Rng } from './prng.js';
import type { Shape, SynthProc } from './types.js';

const MiB = 1024 * 1024;

/** What `advance` may ask of a shape when its processes come and go. */
export interface AdvanceCtx {
  /** the surviving processes */
  live: SynthProc[];
  /** live children per pid */
  children: Map<number, number>;
  /** register a live process as a parent; returns its builder index */
  ext(p: SynthProc): number;
}

export interface ShapeChurn {
  /** share of the step's exits taken by whole cohorts */
  cohortShare: number;
  /** start new cohorts of about these sizes */
  newCohorts?(b: Builder, a: AdvanceCtx, sizes: number[]): void;
  /** the process that replaces an exited leaf (default: one like it) */
  replaceLeaf?(b: Builder, p: SynthProc, ns: Namespace | undefined): Spec | undefined;
}

/** Default `churn` per shape: the share of live processes that exit in a step. */
export const DEFAULT_CHURN: Record<Shape, number> = {
  mixed: 0.01,
  web: 0.03,
  k8s: 0.03,
  ci: 0.35,
  db: 0.01,
  idle: 0.002,
};

/** The processes that exit in this step, cohorts first. */
export function pickExits(rng: Rng, procs: SynthProc[], churn: number, spec: ShapeChurn): SynthProc[] {
  const target = churn > 0 ? Math.max(1, Math.round(churn * procs.length)) : 0;
  const out: SynthProc[] = [];
  const exiting = new Set<number>();
  if (target > 0 && spec.cohortShare > 0) {
    const cohorts = new Map<string, SynthProc[]>();
    for (const p of procs) {
      const c = p.m.cohort;
      if (c === undefined) continue;
      const list = cohorts.get(c);
      if (list) list.push(p);
      else cohorts.set(c, [p]);
    }
    let budget = Math.round(target * spec.cohortShare);
    for (const key of rng.shuffle([...cohorts.keys()])) {
      if (budget <= 0) break;
      const members = cohorts.get(key) ?? [];
      for (const p of members) {
        out.push(p);
        exiting.add(p.pid);
      }
      budget -= members.length;
    }
  }
  const kids = new Set<number>();
  for (const p of procs) kids.add(p.ppid);
  const leaves = rng.shuffle(
    procs.filter((p) => p.m.ephemeral && !p.kernel && p.state !== 'Z' && !kids.has(p.pid) && !exiting.has(p.pid)),
  );
  for (let i = 0; i < leaves.length && out.length < target; i++) out.push(leaves[i]);
  return out;
}

/**
 * Ceilings on the medians a clone inherits. A clone's rates are drawn
 * around its parent's drawn rates, so without a ceiling they walk
 * multiplicatively from generation to generation: a simulated week of churn
 * reached 10^22 read bytes (past what an int64 data point holds). The I/O
 * and wake-up ceilings are far above anything a generated process starts
 * with; CPU is at most one core per thread (one core for a single thread).
 */
const CLONE_MAX = { readKBps: 200 * 1024, writeKBps: 200 * 1024, wake: 5000, cpuPerThread: 1 } as const;

/** A process like `p` (a recycled worker): same program, user, parent, cgroup, pool and cohort. */
export function cloneSpec(p: SynthProc, ns: Namespace | undefined): Spec {
  const m = p.m;
  return {
    argv: p.argv,
    exe: p.exe,
    comm: p.comm,
    ids: [p.uid, m.gid],
    category: p.category,
    role: p.role,
    threads: p.threads,
    cpu: p.anomaly ? 0.01 : Math.min(Math.max(1e-6, m.cpuRate), CLONE_MAX.cpuPerThread * Math.max(1, p.threads)),
    cpuSigma: 0.3,
    rssMb: Math.max(0.5, p.rssBytes / MiB / (p.anomaly === 'memory' ? 10 : 1)),
    rssSigma: 0.15,
    fds: [p.fds, p.fds],
    fdKind: m.fdKind,
    start: 'fresh',
    leader: p.pid === m.session ? 2 : p.pid === m.pgrp ? 1 : 0,
    tty: m.ttyNr,
    wake: Math.min(m.wakeRate, CLONE_MAX.wake),
    readKBps: m.readRate > 0 ? Math.min(m.readRate / 1024, CLONE_MAX.readKBps) : undefined,
    writeKBps: m.writeRate > 0 ? Math.min(m.writeRate / 1024, CLONE_MAX.writeKBps) : undefined,
    nice: m.nice,
    umask: m.umask,
    ns,
    cg: m.cg,
    pool: m.pool,
    cohort: m.cohort,
    ephemeral: true,
  };
}

export interface RespawnArgs {
  rng: Rng;
  aux: Rng;
  spec: ShapeChurn;
  /** every process before the step (for namespace pid counters) */
  before: SynthProc[];
  live: SynthProc[];
  exiting: SynthProc[];
  cpus: number;
  from: number;
  to: number;
  clkTck: number;
  pageSize: number;
  alloc: () => number;
  minTicks: (pid: number) => number;
}

/** Start the replacements of `exiting`; returns the new processes (pids assigned, counters filled). */
export function respawn(a: RespawnArgs): SynthProc[] {
  const { spec, live, exiting, clkTck } = a;
  const b = new Builder(a.rng, a.to, a.cpus, exiting.length + 50, 0, a.aux, { from: a.from, to: a.to });
  const byPid = new Map<number, SynthProc>();
  for (const p of live) byPid.set(p.pid, p);
  const extIdx = new Map<number, number>();
  const ext = (p: SynthProc): number => {
    let i = extIdx.get(p.pid);
    if (i === undefined) {
      i = b.ext(p, clkTck);
      extIdx.set(p.pid, i);
    }
    return i;
  };
  const children = new Map<number, number>();
  for (const p of live) children.set(p.ppid, (children.get(p.ppid) ?? 0) + 1);
  // Containers keep counting pids in their namespace.
  const spaces = new Map<string, Namespace>();
  const nsOf = (p: SynthProc): Namespace | undefined => {
    const id = p.m.cg ? containerOf(p.m.cg) : null;
    if (!id || !p.m.nsPid) return undefined;
    let ns = spaces.get(id);
    if (!ns) {
      let max = 0;
      for (const q of a.before) if (q.m.nsPid > max && q.m.cg && containerOf(q.m.cg) === id) max = q.m.nsPid;
      ns = { next: max + 1, cg: p.m.cg };
      spaces.set(id, ns);
    }
    return ns;
  };
  // A cohort none of whose members survive exited whole: start a new one of its size.
  const liveCohorts = new Set<string>();
  for (const p of live) if (p.m.cohort !== undefined) liveCohorts.add(p.m.cohort);
  const sizes = new Map<string, number>();
  for (const p of exiting) {
    const c = p.m.cohort;
    if (c !== undefined && !liveCohorts.has(c)) {
      sizes.set(c, (sizes.get(c) ?? 0) + 1);
      continue;
    }
    const parent = byPid.get(p.ppid);
    if (!parent) continue;
    const ns = nsOf(p);
    b.add(ext(parent), spec.replaceLeaf?.(b, p, ns) ?? cloneSpec(p, ns));
  }
  if (sizes.size > 0 && spec.newCohorts) spec.newCohorts(b, { live, children, ext }, [...sizes.values()]);
  return b.materializeNew(a.alloc, a.minTicks, clkTck, a.pageSize);
}

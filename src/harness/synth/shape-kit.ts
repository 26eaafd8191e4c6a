/**
 * What every shape shares: the skeleton (pid 1, kthreadd, kernel threads,
 * systemd's daemons, an admin's ssh login from groups-login.ts), sizes that
 * scale with the host, worker pools, and the filler that makes the host
 * exactly N processes.
 */
import { Builder, type Spec } from './builder.js';
import { SHELL_TOOLS, UID, USERS } from './catalog.js';
import { svcCg } from './cgroup.js';
import type { ShapeChurn } from './churn.js';
import { addKernel } from './groups-kernel.js';
import { addLogin } from './groups-login.js';
import { addBaseSystem, addShellNoise, type BaseOptions, type Ctx, sleepSpec, toolSpec } from './groups-system.js';
import { addRoots, newCtx, type Population } from './population.js';
import type { Rng } from './prng.js';

/** Process counts in the shape descriptions are for a host of this size. */
export const REFERENCE_PROCESSES = 6000;

export interface ShapePlan {
  /** which container daemons the base system runs */
  base: BaseOptions;
  /** the hosts's CPU use, as a share of its cores */
  cpuShare: number;
  /** everything the shape adds after the skeleton; `s` scales reference counts */
  build(b: Builder, ctx: Ctx, s: number): void;
  /** how its processes come and go in `advance` */
  churn: ShapeChurn;
}

/** Size factor: 1 at REFERENCE_PROCESSES. */
export function scaleOf(n: number): number {
  return Math.min(8, Math.max(0.005, n / REFERENCE_PROCESSES));
}

/** A reference count scaled to the host and jittered by ±`jitter`, at least `min`. */
export function sized(rng: Rng, ref: number, s: number, jitter = 0.3, min = 2): number {
  return Math.max(Math.round(min), Math.round(ref * s * rng.range(1 - jitter, 1 + jitter)));
}

/**
 * Kernel threads of a real machine of this size: five per CPU, ~55 made at
 * boot, and workqueue workers; never more than a fifth of a small host.
 */
export function kernelBudgetOf(rng: Rng, n: number, cpus: number): number {
  if (n < 2) return 0;
  return Math.max(1, Math.min(Math.round(n * 0.2), Math.round(cpus * rng.range(6.5, 9) + 55)));
}

export function buildShaped(
  plan: ShapePlan,
  rng: Rng,
  aux: Rng,
  n: number,
  cpus: number,
  uptime: number,
  clkTck: number,
  pageSize: number,
): Population {
  const b = new Builder(rng, uptime, cpus, n, kernelBudgetOf(rng, n, cpus), aux);
  const ctx = newCtx(n);
  addRoots(b, ctx);
  addKernel(b, ctx);
  if (ctx.init >= 0) {
    addBaseSystem(b, ctx, plan.base);
    addLogin(b, ctx, USERS[0], { manager: true });
    plan.build(b, ctx, scaleOf(n));
    fillExact(b, ctx);
  }
  return b.materialize(clkTck, pageSize, cpus * plan.cpuShare);
}

/**
 * Top the host up to exactly its size with one-process additions: sleepers
 * and tools under the logins' shells (or transient units when there is no
 * shell).
 */
export function fillExact(b: Builder, ctx: Ctx): void {
  const rng = b.rng;
  while (b.userRoom > 0) {
    if (ctx.shells.length === 0) {
      if (b.add(ctx.init, { ...sleepSpec('recent', UID.root, 0), leader: 2 }) < 0) break;
      continue;
    }
    const sh = rng.pick(ctx.shells);
    const ids = [sh.uid, sh.gid] as const;
    const spec = rng.chance(0.6)
      ? sleepSpec(rng.chance(0.5) ? 'recent' : 'any', ids, sh.tty)
      : toolSpec(rng.pick(SHELL_TOOLS), ids, sh.tty, 'recent');
    if (b.add(sh.idx, spec) < 0) break;
  }
}

/** A user for logins: the six named ones, then numbered accounts. */
export function userAt(i: number): { name: string; uid: number } {
  if (i < USERS.length) return USERS[i];
  const uid = 1000 + i;
  return { name: `u${uid}`, uid };
}

/** A long-running service under pid 1 in its own unit. */
export function service(
  b: Builder,
  ctx: Ctx,
  unit: string,
  s: Omit<Spec, 'start' | 'cg'> & { start?: Spec['start'] },
): number {
  return b.add(ctx.init, {
    fdKind: 'server',
    leader: 2,
    ...s,
    start: s.start ?? 'service',
    cg: svcCg(b.unit(unit)),
  });
}

/** Add up to `count` copies of `spec` under `parent`; returns how many were added. */
export function addMany(b: Builder, parent: number, count: number, spec: (i: number) => Spec): number {
  let added = 0;
  for (let i = 0; i < count; i++) {
    if (b.userRoom <= 0 || b.add(parent, spec(i)) < 0) break;
    added++;
  }
  return added;
}

/** A few shell-noise commands and cron jobs: every host has some. */
export function addNoise(b: Builder, ctx: Ctx, n: number): void {
  for (let i = 0; i < n && b.userRoom > 0; i++) addShellNoise(b, ctx);
}

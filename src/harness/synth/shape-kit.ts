/**
 * What every shape shares: the skeleton (pid 1, kthreadd, kernel threads,
 * systemd's daemons, an admin's ssh login), sizes that scale with the host,
 * worker pools, logins, and the filler that makes the host exactly N
 * processes.
 */
import { Builder, type Spec } from './builder.js';
import { SHELL_TOOLS, UID, USERS } from './catalog.js';
import { svcCg, userCg } from './cgroup.js';
import type { ShapeChurn } from './churn.js';
import { addKernel } from './groups-kernel.js';
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
    addLogin(b, ctx, USERS[0], true);
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

/**
 * An ssh login: sshd [priv] -> sshd user@pts -> login shell, in its own
 * session scope; with `manager`, the user's systemd and (sd-pam) too.
 * Returns the shell's index (-1 when the host is full).
 */
export function addLogin(
  b: Builder,
  ctx: Ctx,
  u: { name: string; uid: number },
  manager: boolean,
  zsh = false,
): number {
  const ids = [u.uid, u.uid] as const;
  const pts = ctx.nextPts++ % 4096;
  const tty = 34816 + (pts % 256) + (pts >= 256 ? (pts >> 8) * 1048576 : 0);
  if (manager) {
    const sd = b.add(ctx.init, {
      argv: ['/lib/systemd/systemd', '--user'],
      exe: '/usr/lib/systemd/systemd',
      ids,
      category: 'session',
      role: 'systemd-user',
      cpu: 0.0002,
      rssMb: 10,
      fds: [15, 40],
      start: 'any',
      leader: 2,
      cg: userCg(u.uid, `user@${u.uid}.service`),
    });
    if (sd >= 0)
      b.add(sd, {
        argv: ['(sd-pam)'],
        exe: '/usr/lib/systemd/systemd',
        comm: '(sd-pam)',
        ids,
        category: 'session',
        role: 'sd-pam',
        cpu: 0.000001,
        rssMb: 3,
        fds: [3, 5],
        start: 'child',
      });
  }
  const sshd = ctx.sshd >= 0 ? ctx.sshd : ctx.init;
  const priv = b.add(sshd, {
    argv: [`sshd: ${u.name} [priv]`],
    exe: '/usr/sbin/sshd',
    comm: 'sshd',
    ids: UID.root,
    category: 'session',
    role: 'sshd-session',
    cpu: 0.00005,
    rssMb: 10,
    fds: [6, 9],
    start: 'any',
    leader: 2,
    cg: userCg(u.uid, `session-${ctx.nextSession++}.scope`),
  });
  if (priv < 0) return -1;
  const net = b.add(priv, {
    argv: [`sshd: ${u.name}@pts/${pts}`],
    exe: '/usr/sbin/sshd',
    comm: 'sshd',
    ids,
    category: 'session',
    role: 'sshd-session',
    cpu: 0.0003,
    rssMb: 7,
    fds: [8, 12],
    start: 'child',
    wake: 3,
  });
  if (net < 0) return -1;
  const shell = b.add(net, {
    argv: [zsh ? '-zsh' : '-bash'],
    exe: zsh ? '/usr/bin/zsh' : '/usr/bin/bash',
    comm: zsh ? 'zsh' : 'bash',
    ids,
    category: 'shell',
    role: 'login-shell',
    cpu: 0.0001,
    rssMb: zsh ? 7 : 5,
    fds: [4, 4],
    fdKind: 'tty',
    start: 'child',
    leader: 2,
    tty,
  });
  if (shell >= 0) ctx.shells.push({ idx: shell, uid: u.uid, gid: u.uid, tty });
  return shell;
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

/**
 * The initial process population of a host with `n` processes: the base
 * system every category needs first, then services, containers, sessions and
 * noise drawn by weight until the host is full.
 */
import { Builder } from './builder.js';
import { UID } from './catalog.js';
import { INIT_CG } from './cgroup.js';
import { addApp, addContainer, addOddNames, addZombie } from './groups-apps.js';
import { addKernel } from './groups-kernel.js';
import { addSshSession } from './groups-login.js';
import { addBroker, addDatabase, addPostgres, addWebServer } from './groups-services.js';
import { addBaseSystem, addCronJob, addShellNoise, addTmux, type Ctx, sleepSpec } from './groups-system.js';
import type { Rng } from './prng.js';
import type { SynthProc } from './types.js';

type Group = (b: Builder, ctx: Ctx) => void;

const FILL: readonly (readonly [Group, number])[] = [
  [(b, c) => addContainer(b, c, true), 20],
  [(b, c) => addContainer(b, c, false), 5],
  [addDatabase, 2.5],
  [(b, c) => addWebServer(b, c.init, b.rng.chance(0.6) ? 'nginx' : 'httpd'), 3],
  [(b, c) => addBroker(b, c, b.rng.chance(0.6) ? 'kafka' : 'rabbitmq'), 1],
  [(b, c) => addApp(b, c.init, b.rng.pick(['java', 'node', 'gunicorn', 'puma', 'go'] as const)), 12],
  [(b, c) => addSshSession(b, c, b.rng.chance(0.3)), 8],
  [addTmux, 2],
  [addShellNoise, 22],
  [addCronJob, 6],
  [
    (b, c) =>
      c.shells.length > 0 &&
      b.add(b.rng.pick(c.shells).idx, sleepSpec('recent', [c.shells[0].uid, c.shells[0].gid], 0)),
    3,
  ],
  [addOddNames, 0.2],
  [addZombie, 0.3],
];

export interface Population {
  procs: SynthProc[];
  nextPid: number;
}

/** The `mixed` host: a bit of everything (the original generator; its output must not change). */
export function buildPopulation(
  rng: Rng,
  aux: Rng,
  n: number,
  cpus: number,
  uptime: number,
  clkTck: number,
  pageSize: number,
): Population {
  const kernelBudget = n < 2 ? 0 : Math.max(1, Math.round(n * rng.range(0.1, 0.22)));
  const b = new Builder(rng, uptime, cpus, n, kernelBudget, aux);
  const ctx = newCtx(n);
  addRoots(b, ctx);
  addKernel(b, ctx);
  if (ctx.init >= 0) {
    addBaseSystem(b, ctx);
    addSshSession(b, ctx, true);
    addTmux(b, ctx);
    addShellNoise(b, ctx);
    addShellNoise(b, ctx);
    addPostgres(b, ctx.init, 3 + Math.min(60, Math.floor(n / 100)));
    addWebServer(b, ctx.init, 'nginx');
    addBroker(b, ctx, 'kafka');
    addContainer(b, ctx, true, 'kube-proxy');
    addApp(b, ctx.init, 'java');
    addOddNames(b, ctx);
    addCronJob(b, ctx);
    if (ctx.shells.length > 0)
      b.add(ctx.shells[0].idx, sleepSpec('any', [ctx.shells[0].uid, ctx.shells[0].gid], ctx.shells[0].tty));
    if (n >= 400) addZombie(b, ctx);
    let stale = 0;
    while (b.userRoom > 0 && stale < 50) {
      const before = b.drafts.length;
      rng.weighted(FILL)(b, ctx);
      stale = b.drafts.length === before ? stale + 1 : 0;
    }
  }
  return b.materialize(clkTck, pageSize, cpus * 0.55);
}

export function newCtx(n: number): Ctx {
  return {
    init: -1,
    kthreadd: -1,
    sshd: -1,
    cron: -1,
    containerd: -1,
    dockerd: -1,
    shells: [],
    nextPts: 0,
    total: n,
    nextSession: 1,
  };
}

/** systemd as pid 1 and kthreadd as pid 2. */
export function addRoots(b: Builder, ctx: Ctx): void {
  ctx.init = b.add(-1, {
    argv: ['/sbin/init', 'splash'],
    exe: '/usr/lib/systemd/systemd',
    comm: 'systemd',
    ids: UID.root,
    category: 'init',
    role: 'systemd',
    cpu: 0.001,
    rssMb: 12,
    fds: [90, 300],
    start: 'boot',
    leader: 2,
    wake: 3,
    umask: '0000',
    cg: INIT_CG,
  });
  ctx.kthreadd = b.add(-1, {
    argv: ['kthreadd'],
    exe: '',
    ids: UID.root,
    category: 'kernel',
    role: 'kthreadd',
    cpu: 0.00002,
    rssMb: 0,
    fds: [0, 0],
    start: 'boot',
    kernel: true,
    wake: 0.2,
  });
  // Pid 1 and 2 start first, a few ticks after boot.
  if (ctx.init >= 0) b.drafts[ctx.init].start = 0.04;
  if (ctx.kthreadd >= 0) b.drafts[ctx.kthreadd].start = 0.04;
}

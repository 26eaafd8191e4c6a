/**
 * `idle`: a shared login host that does almost nothing (counts for 6,000
 * processes, scaled): ~1,500 shells (ssh logins, tmux and screen windows,
 * looping scripts) and ~2,500 sleepers (`sleep` under shells, in scripts,
 * and abandoned ones reparented to pid 1 in their old session scope), idle
 * tools (less, vim, tail -f, top, watch), kernel threads and a few services
 * (nginx, redis, a small postgres). `synth advance` changes little.
 */
import type { Builder, Spec } from './builder.js';
import { UID } from './catalog.js';
import { userCg } from './cgroup.js';
import { addLogin, addShell, nextPts } from './groups-login.js';
import { addPostgres, addWebServer } from './groups-services.js';
import { type Ctx, sleepSpec } from './groups-system.js';
import { type ShapePlan, service, userAt } from './shape-kit.js';

const SHELL_SHARE = 1500 / 6000;
const SLEEP_SHARE = 2500 / 6000;

const IDLE_TOOLS: readonly { argv: string[]; exe: string }[] = [
  { argv: ['less', '/var/log/syslog'], exe: '/usr/bin/less' },
  { argv: ['vim', 'notes.md'], exe: '/usr/bin/vim.basic' },
  { argv: ['tail', '-f', '/var/log/app/app.log'], exe: '/usr/bin/tail' },
  { argv: ['top'], exe: '/usr/bin/top' },
  { argv: ['watch', '-n', '5', 'df -h'], exe: '/usr/bin/watch' },
  { argv: ['man', 'bash'], exe: '/usr/bin/man' },
  { argv: ['python3'], exe: '/usr/bin/python3.11' },
];

interface IdleState {
  users: number;
  managers: Set<number>;
  shells: number;
  sleepers: number;
}

function idleTool(t: { argv: string[]; exe: string }, ids: readonly [number, number], tty: number): Spec {
  return {
    argv: t.argv,
    exe: t.exe,
    comm: t.argv[0],
    ids,
    category: 'tool',
    role: t.argv[0],
    cpu: t.argv[0] === 'top' || t.argv[0] === 'watch' ? 0.002 : 0.00002,
    rssMb: t.argv[0] === 'python3' ? 12 : 4,
    fds: [3, 6],
    fdKind: 'tty',
    start: 'any',
    leader: 1,
    tty,
    wake: 0.2,
  };
}

function login(b: Builder, ctx: Ctx, st: IdleState): number {
  const i = b.rng.int(0, st.users - 1);
  const u = userAt(i);
  const manager = !st.managers.has(u.uid);
  if (manager) st.managers.add(u.uid);
  const sh = addLogin(b, ctx, u, { manager, zsh: b.rng.chance(0.2) });
  if (sh >= 0) st.shells++;
  return sh;
}

/** A tmux or screen server with 2-6 shells. */
function multiplexer(b: Builder, ctx: Ctx, st: IdleState): void {
  const rng = b.rng;
  const u = userAt(rng.int(0, st.users - 1));
  const ids = [u.uid, u.uid] as const;
  const screen = rng.chance(0.3);
  const srv = b.add(ctx.init, {
    argv: screen ? ['SCREEN', '-S', 'work'] : ['tmux', 'new-session', '-d', '-s', 'work'],
    exe: screen ? '/usr/bin/screen' : '/usr/bin/tmux',
    comm: screen ? 'screen' : 'tmux: server',
    ids,
    category: 'shell',
    role: screen ? 'screen' : 'tmux-server',
    cpu: 0.0002,
    rssMb: 5,
    fds: [10, 30],
    start: 'any',
    leader: 2,
    cg: userCg(u.uid, `session-${ctx.nextSession++}.scope`),
  });
  if (srv < 0) return;
  for (let n = rng.int(2, 6); n > 0 && b.userRoom > 0; n--) {
    const { tty } = nextPts(ctx, 256);
    const role = screen ? 'screen-shell' : 'tmux-shell';
    if (addShell(b, ctx, srv, u.uid, tty, { role, start: 'any', cpu: 0.00005 }) >= 0) {
      st.shells++;
    }
  }
}

/** A looping script: bash poll.sh -> sleep 60. */
function script(b: Builder, ctx: Ctx, st: IdleState): void {
  const rng = b.rng;
  if (ctx.shells.length === 0) return;
  const sh = rng.pick(ctx.shells);
  const ids = [sh.uid, sh.gid] as const;
  const bash = b.add(sh.idx, {
    argv: [
      'bash',
      `/home/${userAt(sh.uid - 1000).name}/bin/${rng.pick(['poll', 'watch-queue', 'sync', 'keepalive'])}.sh`,
    ],
    exe: '/usr/bin/bash',
    comm: 'bash',
    ids,
    category: 'shell',
    role: 'script',
    cpu: 0.00002,
    rssMb: 3,
    fds: [3, 4],
    fdKind: 'tty',
    start: 'any',
    leader: 1,
    tty: sh.tty,
  });
  if (bash < 0) return;
  st.shells++;
  if (b.add(bash, { ...sleepSpec('fresh', ids, sh.tty), argv: ['sleep', '60'], leader: 0 }) >= 0) st.sleepers++;
}

/** A sleeper under a shell, or one left behind by a closed login (parent pid 1, still in the session scope). */
function sleeper(b: Builder, ctx: Ctx, st: IdleState): void {
  const rng = b.rng;
  if (ctx.shells.length === 0) return;
  const sh = rng.pick(ctx.shells);
  const ids = [sh.uid, sh.gid] as const;
  const orphan = rng.chance(0.25);
  const spec: Spec = {
    ...sleepSpec(rng.chance(0.5) ? 'any' : 'recent', ids, orphan ? 0 : sh.tty),
    argv: ['sleep', rng.pick(['infinity', '3600', '86400', '600'])],
    ephemeral: false,
  };
  const idx = orphan
    ? b.add(ctx.init, {
        ...spec,
        leader: 2,
        cg: b.placementOf(sh.idx) ?? userCg(sh.uid, `session-${ctx.nextSession++}.scope`),
      })
    : b.add(sh.idx, spec);
  if (idx >= 0) st.sleepers++;
}

function build(b: Builder, ctx: Ctx, s: number): void {
  const rng = b.rng;
  void s;
  addWebServer(b, ctx.init, 'nginx');
  addPostgres(b, ctx.init, rng.int(3, 8));
  service(b, ctx, 'redis-server.service', {
    argv: ['/usr/bin/redis-server 127.0.0.1:6379'],
    exe: '/usr/bin/redis-server',
    comm: 'redis-server',
    ids: UID.redis,
    category: 'database',
    role: 'redis-server',
    threads: 5,
    cpu: 0.002,
    rssMb: 20,
    fds: [10, 40],
    wake: 10,
  });
  const room = b.userRoom;
  const st: IdleState = {
    users: Math.max(6, Math.round((room * SHELL_SHARE) / 6)),
    managers: new Set([1000]),
    shells: 1,
    sleepers: 0,
  };
  const reserve = Math.max(1, Math.round(b.capacity * 0.01));
  const shells = room * SHELL_SHARE;
  const sleepers = room * SLEEP_SHARE;
  let stale = 0;
  while (b.userRoom > reserve && stale < 20) {
    const before = b.made;
    const needShells = st.shells < shells;
    const needSleep = st.sleepers < sleepers;
    if (needShells && (!needSleep || rng.chance(0.5))) {
      const r = rng.next();
      if (r < 0.45) login(b, ctx, st);
      else if (r < 0.75) multiplexer(b, ctx, st);
      else script(b, ctx, st);
    } else if (needSleep) sleeper(b, ctx, st);
    else if (ctx.shells.length > 0) {
      const sh = rng.pick(ctx.shells);
      b.add(sh.idx, idleTool(rng.pick(IDLE_TOOLS), [sh.uid, sh.gid], sh.tty));
    } else login(b, ctx, st);
    stale = b.made === before ? stale + 1 : 0;
  }
}

export const IDLE: ShapePlan = {
  base: { containerd: false, dockerd: false, kubelet: false },
  cpuShare: 0.05,
  build,
  churn: { cohortShare: 0 },
};

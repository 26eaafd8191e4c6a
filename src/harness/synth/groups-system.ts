/**
 * The base system: systemd's daemons, login sessions, shells and their noise.
 */
import type { Builder, Spec } from './builder.js';
import { CRON_JOBS, SHELL_TOOLS, UID, USERS } from './catalog.js';
import { svcCg, userCg } from './cgroup.js';
import { addShell, nextPts } from './groups-login.js';

/** Indices of well-known processes other groups hang children on (-1 when absent). */
export interface Ctx {
  init: number;
  kthreadd: number;
  sshd: number;
  cron: number;
  containerd: number;
  dockerd: number;
  /** interactive shells (draft index, user, tty) */
  shells: { idx: number; uid: number; gid: number; tty: number }[];
  nextPts: number;
  total: number;
  /** number of the next login session (`session-N.scope`) */
  nextSession: number;
}

/** Which container and orchestration daemons the base system runs (all by default). */
export interface BaseOptions {
  containerd?: boolean;
  dockerd?: boolean;
  kubelet?: boolean;
}

const ROOT = UID.root;

function daemon(argv: string[], exe: string, o: Partial<Spec> & Pick<Spec, 'rssMb'>): Spec {
  return {
    argv,
    exe,
    ids: ROOT,
    category: 'system',
    role: o.role ?? o.comm ?? exe.slice(exe.lastIndexOf('/') + 1),
    cpu: 0.0005,
    fds: [6, 20],
    start: 'early',
    leader: 2,
    wake: 1,
    ...o,
  };
}

/** systemd's daemons, sshd, cron, getty, chrony and the container runtimes. */
export function addBaseSystem(b: Builder, ctx: Ctx, o: BaseOptions = {}): void {
  const init = ctx.init;
  const add = (s: Spec) => b.add(init, { ...s, cg: s.cg ?? svcCg(b.unit(`${unitBase(s)}.service`)) });
  add(
    daemon(['/lib/systemd/systemd-journald'], '/usr/lib/systemd/systemd-journald', {
      rssMb: 40,
      writeKBps: 15,
      wake: 8,
      fds: [30, 90],
      umask: '0022',
    }),
  );
  add(daemon(['/lib/systemd/systemd-udevd'], '/usr/lib/systemd/systemd-udevd', { rssMb: 9, fds: [10, 20] }));
  add(
    daemon(['/lib/systemd/systemd-networkd'], '/usr/lib/systemd/systemd-networkd', {
      rssMb: 8,
      ids: UID.systemdNetwork,
    }),
  );
  add(
    daemon(['/lib/systemd/systemd-resolved'], '/usr/lib/systemd/systemd-resolved', {
      rssMb: 12,
      ids: UID.systemdResolve,
      wake: 3,
    }),
  );
  add(daemon(['/lib/systemd/systemd-logind'], '/usr/lib/systemd/systemd-logind', { rssMb: 7 }));
  // dbus-daemon runs as dbus.service
  add(
    daemon(
      [
        '@dbus-daemon',
        '--system',
        '--address=systemd:',
        '--nofork',
        '--nopidfile',
        '--systemd-activation',
        '--syslog-only',
      ],
      '/usr/bin/dbus-daemon',
      { comm: 'dbus-daemon', rssMb: 5, ids: UID.messagebus, wake: 2, cg: svcCg(b.unit('dbus.service')) },
    ),
  );
  add(
    daemon(['/usr/sbin/rsyslogd', '-n', '-iNONE'], '/usr/sbin/rsyslogd', {
      rssMb: 6,
      ids: UID.syslog,
      threads: 4,
      writeKBps: 8,
    }),
  );
  ctx.cron = add(daemon(['/usr/sbin/cron', '-f', '-P'], '/usr/sbin/cron', { rssMb: 3, fds: [5, 8] }));
  // sshd runs as ssh.service (Debian's name)
  ctx.sshd = add(
    daemon(['sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups'], '/usr/sbin/sshd', {
      rssMb: 9,
      fds: [4, 8],
      role: 'sshd',
      comm: 'sshd',
      cg: svcCg(b.unit('ssh.service')),
    }),
  );
  add(
    daemon(['/sbin/agetty', '-o', '-p -- \\u', '--noclear', '-', 'linux'], '/usr/sbin/agetty', {
      rssMb: 2,
      fds: [3, 4],
      tty: 1025,
      fdKind: 'tty',
      wake: 0.01,
      cg: svcCg(b.unit('getty@tty1.service')),
    }),
  );
  add(
    daemon(
      ['/sbin/agetty', '-o', '-p -- \\u', '--keep-baud', '115200,57600,38400,9600', '-', 'vt220'],
      '/usr/sbin/agetty',
      { rssMb: 2, fds: [3, 4], tty: 1088, fdKind: 'tty', wake: 0.01, cg: svcCg(b.unit('serial-getty@ttyS0.service')) },
    ),
  );
  add(
    daemon(['/usr/sbin/chronyd', '-F', '1'], '/usr/sbin/chronyd', {
      rssMb: 3,
      ids: UID.chrony,
      wake: 0.5,
      cg: svcCg(b.unit('chrony.service')),
    }),
  );
  add(
    daemon(['/usr/lib/polkit-1/polkitd', '--no-debug'], '/usr/lib/polkit-1/polkitd', {
      rssMb: 9,
      ids: UID.polkitd,
      threads: 4,
      cg: svcCg(b.unit('polkit.service')),
    }),
  );
  if (o.containerd !== false) ctx.containerd = addContainerd(b, ctx);
  if (o.dockerd !== false)
    ctx.dockerd = add(
      daemon(['/usr/bin/dockerd', '-H', 'fd://', '--containerd=/run/containerd/containerd.sock'], '/usr/bin/dockerd', {
        category: 'container',
        rssMb: 90,
        threads: b.rng.int(15, 40),
        cpu: 0.003,
        fds: [40, 120],
        fdKind: 'server',
        wake: 10,
        cg: svcCg(b.unit('docker.service')),
      }),
    );
  if (o.kubelet !== false)
    add(
      daemon(
        [
          '/usr/bin/kubelet',
          '--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf',
          '--kubeconfig=/etc/kubernetes/kubelet.conf',
          '--config=/var/lib/kubelet/config.yaml',
          '--container-runtime-endpoint=unix:///run/containerd/containerd.sock',
          '--pod-infra-container-image=registry.k8s.io/pause:3.9',
        ],
        '/usr/bin/kubelet',
        {
          category: 'container',
          rssMb: 110,
          threads: b.rng.int(30, 80),
          cpu: 0.02,
          busy: 0.05,
          fds: [50, 150],
          fdKind: 'server',
          start: 'service',
          wake: 60,
        },
      ),
    );
  add(daemon(['/usr/bin/irqbalance', '--foreground'], '/usr/sbin/irqbalance', { rssMb: 4, threads: 2 }));
  add(
    daemon(['/usr/bin/node_exporter', '--collector.systemd', '--web.listen-address=:9100'], '/usr/bin/node_exporter', {
      rssMb: 25,
      ids: UID.nobody,
      threads: b.rng.int(6, 12),
      cpu: 0.002,
      start: 'service',
      fdKind: 'server',
      cg: svcCg(b.unit('prometheus-node-exporter.service')),
    }),
  );
}

/** containerd.service (its shims stay in its cgroup). */
export function addContainerd(b: Builder, ctx: Ctx): number {
  return b.add(
    ctx.init,
    daemon(['/usr/bin/containerd'], '/usr/bin/containerd', {
      category: 'container',
      rssMb: 60,
      threads: b.rng.int(20, 60),
      cpu: 0.01,
      fds: [60, 200],
      fdKind: 'server',
      wake: 40,
      cg: svcCg(b.unit('containerd.service')),
    }),
  );
}

/** The unit of a base daemon: its program name (`rsyslogd` runs as rsyslog.service). */
function unitBase(s: Spec): string {
  const name = s.exe.slice(s.exe.lastIndexOf('/') + 1);
  return name === 'rsyslogd' ? 'rsyslog' : name;
}

/** A tmux server with a few shells (bash and zsh). */
export function addTmux(b: Builder, ctx: Ctx): void {
  const rng = b.rng;
  const u = rng.pick(USERS);
  const ids = [u.uid, u.uid] as const;
  const srv = b.add(ctx.init, {
    argv: ['tmux', 'new-session', '-s', 'work'],
    exe: '/usr/bin/tmux',
    comm: 'tmux: server',
    ids,
    category: 'shell',
    role: 'tmux-server',
    cpu: 0.0005,
    rssMb: 6,
    fds: [12, 30],
    start: 'any',
    leader: 2,
    cg: userCg(u.uid, `session-${ctx.nextSession++}.scope`),
  });
  if (srv < 0) return;
  const n = rng.int(1, 4);
  for (let i = 0; i < n; i++) {
    const { tty } = nextPts(ctx, 256);
    addShell(b, ctx, srv, u.uid, tty, { role: 'tmux-shell', start: 'any', zsh: rng.chance(0.4) });
  }
}

/** Short-lived commands run from an interactive shell. */
export function addShellNoise(b: Builder, ctx: Ctx): void {
  const rng = b.rng;
  if (ctx.shells.length === 0) return;
  const sh = rng.pick(ctx.shells);
  const ids = [sh.uid, sh.gid] as const;
  const kind = rng.int(0, 9);
  if (kind < 2) {
    b.add(sh.idx, sleepSpec(rng.chance(0.5) ? 'fresh' : 'recent', ids, sh.tty));
    return;
  }
  let parent = sh.idx;
  if (kind < 4) {
    // A pipeline or script: sh -c '...' with a tool under it.
    parent = b.add(sh.idx, {
      argv: ['sh', '-c', 'journalctl -u app | grep -c timeout'],
      exe: '/usr/bin/dash',
      ids,
      category: 'shell',
      role: 'sh',
      cpu: 0.001,
      rssMb: 1.5,
      fds: [3, 4],
      fdKind: 'tty',
      start: 'recent',
      leader: 1,
      tty: sh.tty,
      ephemeral: true,
    });
    if (parent < 0) return;
  }
  b.add(parent, toolSpec(rng.pick(SHELL_TOOLS), ids, sh.tty, 'fresh'));
}

export function toolSpec(
  t: { argv: string[]; exe: string },
  ids: readonly [number, number],
  tty: number,
  start: Spec['start'],
): Spec {
  const heavy = t.argv[0] === 'find' || t.argv[0] === 'grep' || t.argv[0] === 'du' || t.argv[0] === 'rsync';
  return {
    argv: t.argv,
    exe: t.exe,
    comm: t.argv[0].includes('/') ? undefined : t.argv[0],
    ids,
    category: 'tool',
    role: t.argv[0].slice(t.argv[0].lastIndexOf('/') + 1),
    cpu: heavy ? 0.3 : 0.01,
    busy: heavy ? 0.5 : 0.05,
    rssMb: heavy ? 6 : 3,
    fds: [3, 6],
    fdKind: tty ? 'tty' : 'std',
    start,
    leader: 1,
    tty,
    readKBps: heavy ? 8000 : 20,
    wake: 5,
    ephemeral: true,
  };
}

export function sleepSpec(start: Spec['start'], ids: readonly [number, number], tty: number): Spec {
  return {
    argv: ['sleep', sleepArg(start)],
    exe: '/usr/bin/sleep',
    ids,
    category: 'tool',
    role: 'sleep',
    cpu: 0.000001,
    rssMb: 0.9,
    rssSigma: 0.1,
    fds: [3, 3],
    fdKind: tty ? 'tty' : 'std',
    start,
    leader: 1,
    tty,
    wake: 0.001,
    ephemeral: true,
  };
}

function sleepArg(start: Spec['start']): string {
  return start === 'fresh' ? '30' : start === 'recent' ? '3600' : 'infinity';
}

/** What a cron job's shell runs (`sh -c cmd`) and as whom. */
export interface CronCommand {
  cmd: string;
  ids: readonly [number, number];
}

/**
 * cron -> CRON (the child cron forks for a job) -> /bin/sh -c `cmd`. `job`
 * is called once the CRON child is there (so a caller may draw the job's
 * random numbers before or after that child, as it always did). Returns
 * the shell's index and the job, or undefined when the host is full.
 */
export function addCronShell<J extends CronCommand>(
  b: Builder,
  ctx: Ctx,
  job: () => J,
): { sh: number; job: J } | undefined {
  const c = b.add(ctx.cron, {
    argv: ['/usr/sbin/CRON', '-f', '-P'],
    exe: '/usr/sbin/cron',
    comm: 'cron',
    ids: ROOT,
    category: 'system',
    role: 'cron-child',
    cpu: 0.00001,
    rssMb: 3,
    fds: [5, 6],
    start: 'recent',
    ephemeral: true,
  });
  if (c < 0) return undefined;
  const j = job();
  const sh = b.add(c, {
    argv: ['/bin/sh', '-c', j.cmd],
    exe: '/usr/bin/dash',
    ids: j.ids,
    category: 'shell',
    role: 'sh',
    cpu: 0.0001,
    rssMb: 1.5,
    fds: [3, 4],
    start: 'child',
    leader: 2,
    ephemeral: true,
  });
  return sh < 0 ? undefined : { sh, job: j };
}

/** A cron job: cron -> sh -c -> the job (drawn before the CRON child). */
export function addCronJob(b: Builder, ctx: Ctx): void {
  const rng = b.rng;
  const job = rng.pick(CRON_JOBS);
  const ids = rng.chance(0.5) ? ROOT : ([1003, 1003] as const);
  const run = addCronShell(b, ctx, () => ({ cmd: job.argv.join(' '), ids }));
  if (!run) return;
  b.add(run.sh, {
    ...toolSpec(job, ids, 0, 'child'),
    role: 'cron-job',
    cpu: 0.2,
    busy: 0.2,
    readKBps: 2000,
    writeKBps: 500,
  });
}

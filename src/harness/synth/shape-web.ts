/**
 * `web`: a PHP/Python web host dominated by worker pools (counts for 6,000
 * processes, scaled with the host):
 *   - php-fpm services, each a master with ~200 workers as its children;
 *   - celery programs under supervisord, ~120 workers each, every worker a
 *     child of supervisord (a flat pool: the parent is not a celery);
 *   - gunicorn services, a master with ~40 workers as its children;
 *   - uwsgi services whose ~80 workers were reparented to pid 1 (a flat
 *     pool: every worker's parent is systemd, all in the service's cgroup);
 *   - nginx in front, redis, memcached and a local mysqld, cron jobs, logins.
 * Pool workers are recycled (`pm.max_requests`, `max_requests`,
 * `--max-tasks-per-child`): `synth advance` replaces some each step.
 */
import type { Builder, Spec } from './builder.js';
import { UID } from './catalog.js';
import { svcCg } from './cgroup.js';
import { addLogin } from './groups-login.js';
import { addWebServer } from './groups-services.js';
import { addCronJob, addTmux, type Ctx } from './groups-system.js';
import { addMany, addNoise, type ShapePlan, service, sized, userAt } from './shape-kit.js';

const WWW = UID.www;
const APP = [1003, 1003] as const;
const SITES = ['shop', 'blog', 'api', 'admin', 'portal', 'media', 'forum', 'crm', 'docs', 'wiki'];
const PHP = ['8.2', '8.1', '7.4'];
const QUEUES = ['default', 'emails', 'reports', 'media', 'webhooks', 'search', 'billing', 'exports'];

interface WebState {
  php: number;
  gunicorn: number;
  uwsgi: number;
  celery: number;
  supervisord: number;
}

/** A php-fpm service: master (root) and workers of 1-3 pools, all children of the master. */
function addPhpFpm(b: Builder, ctx: Ctx, st: WebState, workers: number): number {
  const rng = b.rng;
  const k = st.php++;
  const ver = PHP[Math.min(k, PHP.length - 1)];
  const unit = k < PHP.length ? `php${ver}-fpm.service` : `php-fpm@${SITES[(k - PHP.length) % SITES.length]}.service`;
  const exe = `/usr/sbin/php-fpm${ver}`;
  const master = b.add(ctx.init, {
    argv: [`php-fpm: master process (/etc/php/${ver}/fpm/php-fpm.conf)`],
    exe,
    comm: `php-fpm${ver}`,
    ids: UID.root,
    category: 'runtime',
    role: 'php-fpm-master',
    cpu: 0.001,
    rssMb: 30,
    fds: [10, 20],
    fdKind: 'server',
    start: 'service',
    leader: 2,
    wake: 1,
    cg: svcCg(b.unit(unit)),
    pool: 'php-fpm',
  });
  if (master < 0) return 1;
  const pools = SITES.slice(0, rng.int(1, 3)).map((s) => (s === 'shop' ? 'www' : s));
  return (
    1 +
    addMany(b, master, workers, () => ({
      argv: [`php-fpm: pool ${rng.pick(pools)}`],
      exe,
      comm: `php-fpm${ver}`,
      ids: WWW,
      category: 'runtime',
      role: 'php-fpm-worker',
      cpu: 0.008,
      busy: 0.05,
      rssMb: 45,
      rssSigma: 0.4,
      fds: [8, 14],
      fdKind: 'server',
      start: rng.chance(0.6) ? 'child' : 'recent',
      wake: 15,
      ephemeral: true,
      pool: 'php-fpm',
    }))
  );
}

/** supervisord (python, supervisor.service): celery programs hang under it. */
function supervisord(b: Builder, ctx: Ctx, st: WebState): number {
  if (st.supervisord >= 0) return st.supervisord;
  st.supervisord = service(b, ctx, 'supervisor.service', {
    argv: ['/usr/bin/python3', '/usr/bin/supervisord', '-n', '-c', '/etc/supervisor/supervisord.conf'],
    exe: '/usr/bin/python3.11',
    comm: 'supervisord',
    ids: UID.root,
    category: 'system',
    role: 'supervisord',
    cpu: 0.0005,
    rssMb: 25,
    fds: [20, 60],
    fdKind: 'std',
    wake: 1,
  });
  return st.supervisord;
}

/** One supervisord program with numprocs=N celery workers: each a child of supervisord. */
function addCelery(b: Builder, ctx: Ctx, st: WebState, workers: number): number {
  const rng = b.rng;
  const sup = supervisord(b, ctx, st);
  if (sup < 0) return 1;
  const q = QUEUES[st.celery++ % QUEUES.length];
  return addMany(b, sup, workers, (i) => ({
    argv: [
      '/srv/app/venv/bin/python3',
      '/srv/app/venv/bin/celery',
      '-A',
      'app',
      'worker',
      '-Q',
      q,
      '--concurrency=1',
      '--max-tasks-per-child=500',
      '-n',
      `${q}-${String(i).padStart(2, '0')}@%h`,
    ],
    exe: '/usr/bin/python3.11',
    comm: 'celery',
    ids: APP,
    category: 'runtime',
    role: 'celery-worker',
    cpu: 0.01,
    busy: 0.05,
    rssMb: 140,
    rssSigma: 0.3,
    fds: [10, 20],
    start: rng.chance(0.7) ? 'child' : 'recent',
    leader: 0,
    wake: 10,
    vmMb: 400,
    ephemeral: true,
    pool: 'celery',
  }));
}

/** A gunicorn service: master and workers as its children. */
function addGunicorn(b: Builder, ctx: Ctx, st: WebState, workers: number): number {
  const rng = b.rng;
  const k = st.gunicorn++;
  const app = SITES[k % SITES.length];
  const argv = [
    '/srv/app/venv/bin/python3',
    '/srv/app/venv/bin/gunicorn',
    '--workers',
    String(workers),
    '--max-requests',
    '1000',
    '--bind',
    `unix:/run/gunicorn/${app}.sock`,
    `${app}.wsgi:application`,
  ];
  const spec: Omit<Spec, 'role' | 'start'> = {
    argv,
    exe: '/usr/bin/python3.11',
    comm: 'gunicorn',
    ids: APP,
    category: 'runtime',
    cpu: 0.006,
    busy: 0.08,
    rssMb: 95,
    fds: [6, 12],
    fdKind: 'server',
    wake: 25,
    pool: 'gunicorn',
  };
  const master = b.add(ctx.init, {
    ...spec,
    role: 'gunicorn-master',
    cpu: 0.001,
    rssMb: 40,
    start: 'service',
    leader: 2,
    cg: svcCg(b.unit(`gunicorn-${app}.service`)),
  });
  if (master < 0) return 1;
  return (
    1 +
    addMany(b, master, workers, () => ({
      ...spec,
      role: 'gunicorn-worker',
      start: rng.chance(0.6) ? 'child' : 'recent',
      threads: rng.chance(0.3) ? rng.int(2, 4) : 1,
      ephemeral: true,
    }))
  );
}

/**
 * A uwsgi service whose master is gone: its workers were reparented to pid 1
 * and stay in the service's cgroup. New workers are daemonized the same way.
 */
function addUwsgi(b: Builder, ctx: Ctx, st: WebState, workers: number): number {
  const rng = b.rng;
  const k = st.uwsgi++;
  const app = SITES[(k + 3) % SITES.length];
  const cg = svcCg(b.unit(`uwsgi-${app}.service`));
  return addMany(b, ctx.init, workers, () => ({
    argv: ['/usr/bin/uwsgi', '--ini', `/etc/uwsgi/apps-enabled/${app}.ini`, '--max-requests', '2000'],
    exe: '/usr/bin/uwsgi-core',
    comm: 'uwsgi',
    ids: WWW,
    category: 'runtime',
    role: 'uwsgi-worker',
    cpu: 0.007,
    busy: 0.06,
    rssMb: 70,
    fds: [6, 12],
    fdKind: 'server',
    start: rng.chance(0.7) ? 'service' : 'recent',
    leader: 2,
    wake: 20,
    ephemeral: true,
    cg,
    pool: 'uwsgi',
  }));
}

/** A developer's login and a cron job (artisan schedule:run and the like). */
function addSessionAndCron(b: Builder, ctx: Ctx): number {
  const before = b.made;
  addLogin(b, ctx, userAt(b.rng.int(0, 8)), { manager: false });
  addCronJob(b, ctx);
  return b.made - before;
}

function build(b: Builder, ctx: Ctx, s: number): void {
  const rng = b.rng;
  const st: WebState = { php: 0, gunicorn: 0, uwsgi: 0, celery: 0, supervisord: -1 };
  addWebServer(b, ctx.init, 'nginx');
  service(b, ctx, 'redis-server.service', {
    argv: ['/usr/bin/redis-server 127.0.0.1:6379'],
    exe: '/usr/bin/redis-server',
    comm: 'redis-server',
    ids: UID.redis,
    category: 'database',
    role: 'redis-server',
    threads: 5,
    cpu: 0.02,
    busy: 0.1,
    rssMb: 300,
    fds: [40, 400],
    wake: 200,
    writeKBps: 20,
  });
  service(b, ctx, 'memcached.service', {
    argv: ['/usr/bin/memcached', '-m', '2048', '-p', '11211', '-u', 'memcache', '-l', '127.0.0.1'],
    exe: '/usr/bin/memcached',
    ids: UID.nobody,
    category: 'database',
    role: 'memcached',
    threads: 10,
    cpu: 0.01,
    rssMb: 900,
    fds: [20, 300],
    wake: 150,
  });
  service(b, ctx, 'mysql.service', {
    argv: ['/usr/sbin/mysqld'],
    exe: '/usr/sbin/mysqld',
    ids: UID.mysql,
    category: 'database',
    role: 'mysqld',
    threads: rng.int(40, 120),
    cpu: 0.04,
    busy: 0.2,
    rssMb: 1500,
    fds: [100, 600],
    fdKind: 'db',
    readKBps: 400,
    writeKBps: 600,
    wake: 300,
  });
  addLogin(b, ctx, userAt(3), { manager: true });
  addTmux(b, ctx);
  addNoise(b, ctx, 3);
  for (let i = 0; i < 3; i++) addCronJob(b, ctx);
  // The first of each kind at its reference size, then more by share of what is left.
  addPhpFpm(b, ctx, st, sized(rng, 200, s));
  addCelery(b, ctx, st, sized(rng, 120, s));
  addGunicorn(b, ctx, st, sized(rng, 40, s));
  addUwsgi(b, ctx, st, sized(rng, 80, s));
  const kinds: [(w: number) => number, number, number][] = [
    [(w) => addPhpFpm(b, ctx, st, w), 200, 45],
    [(w) => addCelery(b, ctx, st, w), 120, 20],
    [(w) => addGunicorn(b, ctx, st, w), 40, 15],
    [(w) => addUwsgi(b, ctx, st, w), 80, 12],
    [() => addSessionAndCron(b, ctx), 6, 8],
  ];
  // Keep ~2% for the filler (short-lived commands under the logins' shells).
  const reserve = Math.max(1, Math.round(b.capacity * 0.02));
  let stale = 0;
  while (b.userRoom > reserve && stale < 20) {
    // Pick by share of processes: an instance of a kind adds about `ref` of them.
    const [add, ref] = rng.weighted(kinds.map((k) => [k, k[2] / k[1]] as const));
    stale = add(Math.min(sized(rng, ref, s), b.userRoom - reserve)) > 0 ? 0 : stale + 1;
  }
}

export const WEB: ShapePlan = {
  base: { containerd: false, dockerd: false, kubelet: false },
  cpuShare: 0.5,
  build,
  churn: { cohortShare: 0 },
};

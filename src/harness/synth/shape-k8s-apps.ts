/**
 * The containers of the `k8s` shape's pods: apps (some with worker pools)
 * and sidecars, each container its own pid namespace and cgroup scope.
 */
import type { Builder, Namespace, Spec } from './builder.js';
import { UID } from './catalog.js';
import { podCg } from './cgroup.js';
import type { Qos } from './types.js';

export type Kind = 'gunicorn' | 'php-fpm' | 'celery' | 'nginx' | 'node' | 'postgres' | 'java' | 'go' | 'redis';
export const POOL_KINDS: readonly (readonly [Kind, number])[] = [
  ['gunicorn', 4],
  ['php-fpm', 3],
  ['celery', 3],
  ['nginx', 2],
  ['node', 2],
  ['postgres', 1],
];
export const SINGLE_KINDS: readonly (readonly [Kind, number])[] = [
  ['go', 5],
  ['java', 3],
  ['node', 3],
  ['redis', 1],
];
export const SIDECARS = ['istio-proxy', 'fluent-bit', 'cloud-sql-proxy', 'nginx'] as const;

export interface Container {
  ns: Namespace;
  ids: readonly [number, number];
}

export function container(qos: Qos, pod: string, id: string, root: boolean): Container {
  return { ns: { next: 1, cg: podCg(qos, pod, id) }, ids: root ? UID.root : ([1000, 1000] as const) };
}

/** The first process of a container (pid 1 in its namespace). */
export function top(c: Container, s: Omit<Spec, 'ids' | 'start' | 'ns'>): Spec {
  return { ids: c.ids, start: 'child', leader: 2, ns: c.ns, fdKind: 'server', ...s };
}

function worker(c: Container, s: Omit<Spec, 'ids' | 'start' | 'ns' | 'ephemeral'>): Spec {
  return { ids: c.ids, start: 'child', ns: c.ns, fdKind: 'server', ephemeral: true, ...s };
}

/** A container running `kind`, with a pool of about `workers` when it has one. Returns processes added. */
export function addApp(b: Builder, shim: number, c: Container, kind: Kind, workers: number): number {
  const rng = b.rng;
  const before = b.made;
  const many = (parent: number, n: number, s: () => Spec) => {
    for (let i = 0; i < n && b.userRoom > 0; i++) b.add(parent, s());
  };
  switch (kind) {
    case 'gunicorn': {
      const argv = ['/usr/local/bin/python', '/usr/local/bin/gunicorn', '-w', String(workers), 'app:app'];
      const base = { argv, exe: '/usr/local/bin/python3.12', comm: 'gunicorn', category: 'runtime' as const };
      const m = b.add(
        shim,
        top(c, { ...base, role: 'gunicorn-master', cpu: 0.001, rssMb: 40, fds: [6, 10], pool: 'gunicorn' }),
      );
      if (m >= 0)
        many(m, workers, () =>
          worker(c, {
            ...base,
            role: 'gunicorn-worker',
            cpu: 0.008,
            busy: 0.08,
            rssMb: 90,
            fds: [5, 10],
            wake: 25,
            pool: 'gunicorn',
          }),
        );
      break;
    }
    case 'php-fpm': {
      const base = { exe: '/usr/local/sbin/php-fpm', comm: 'php-fpm', category: 'runtime' as const };
      const m = b.add(
        shim,
        top(c, {
          ...base,
          argv: ['php-fpm: master process (/usr/local/etc/php-fpm.conf)'],
          role: 'php-fpm-master',
          cpu: 0.001,
          rssMb: 25,
          fds: [8, 12],
          pool: 'php-fpm',
        }),
      );
      if (m >= 0)
        many(m, workers, () =>
          worker(c, {
            ...base,
            argv: ['php-fpm: pool www'],
            role: 'php-fpm-worker',
            cpu: 0.008,
            busy: 0.05,
            rssMb: 40,
            fds: [6, 10],
            wake: 15,
            pool: 'php-fpm',
          }),
        );
      break;
    }
    case 'celery': {
      const argv = [
        '/usr/local/bin/python',
        '/usr/local/bin/celery',
        '-A',
        'tasks',
        'worker',
        `--concurrency=${workers}`,
      ];
      const base = { argv, exe: '/usr/local/bin/python3.12', comm: 'celery', category: 'runtime' as const };
      const m = b.add(
        shim,
        top(c, { ...base, role: 'celery-master', cpu: 0.002, rssMb: 120, fds: [10, 20], pool: 'celery' }),
      );
      if (m >= 0)
        many(m, workers, () =>
          worker(c, {
            ...base,
            role: 'celery-worker',
            cpu: 0.01,
            busy: 0.05,
            rssMb: 130,
            fds: [8, 14],
            wake: 10,
            pool: 'celery',
          }),
        );
      break;
    }
    case 'nginx': {
      const base = { exe: '/usr/sbin/nginx', comm: 'nginx', category: 'webserver' as const };
      const m = b.add(
        shim,
        top(c, {
          ...base,
          argv: ['nginx: master process nginx -g daemon off;'],
          role: 'nginx-master',
          cpu: 0.0005,
          rssMb: 6,
          fds: [8, 20],
          pool: 'nginx',
        }),
      );
      if (m >= 0)
        many(m, Math.min(workers, 16), () => ({
          ...worker(c, {
            ...base,
            argv: ['nginx: worker process'],
            role: 'nginx-worker',
            cpu: 0.01,
            busy: 0.05,
            rssMb: 10,
            fds: [8, 40],
            wake: 60,
            pool: 'nginx',
          }),
          ephemeral: false,
        }));
      break;
    }
    case 'node': {
      const base = { argv: ['node', 'dist/server.js'], exe: '/usr/local/bin/node', category: 'runtime' as const };
      if (workers <= 1) {
        b.add(
          shim,
          top(c, {
            ...base,
            role: 'node',
            threads: rng.int(7, 11),
            cpu: 0.01,
            busy: 0.1,
            rssMb: 150,
            fds: [10, 40],
            wake: 50,
            vmMb: 900,
          }),
        );
        break;
      }
      const m = b.add(
        shim,
        top(c, {
          ...base,
          role: 'node-cluster-primary',
          threads: 7,
          cpu: 0.001,
          rssMb: 60,
          fds: [8, 12],
          pool: 'node',
        }),
      );
      if (m >= 0)
        many(m, workers, () =>
          worker(c, {
            ...base,
            role: 'node-cluster-worker',
            threads: rng.int(7, 11),
            cpu: 0.01,
            busy: 0.08,
            rssMb: 140,
            fds: [10, 30],
            wake: 40,
            vmMb: 900,
            pool: 'node',
          }),
        );
      break;
    }
    case 'postgres': {
      const exe = '/usr/lib/postgresql/16/bin/postgres';
      const base = {
        exe,
        comm: 'postgres',
        category: 'database' as const,
        fdKind: 'db' as const,
        umask: '0077',
        pool: 'postgres',
      };
      const m = b.add(
        shim,
        top(c, { ...base, argv: ['postgres'], role: 'postgres-postmaster', cpu: 0.001, rssMb: 30, fds: [8, 12] }),
      );
      if (m < 0) break;
      for (const aux of ['checkpointer', 'background writer', 'walwriter', 'autovacuum launcher']) {
        b.add(m, {
          ...worker(c, {
            ...base,
            argv: [`postgres: ${aux} `],
            role: 'postgres-aux',
            cpu: 0.0003,
            rssMb: 20,
            fds: [6, 10],
          }),
          ephemeral: false,
        });
      }
      many(m, workers, () =>
        worker(c, {
          ...base,
          argv: [`postgres: app appdb 10.244.${rng.int(0, 255)}.${rng.int(2, 254)}(${rng.int(32768, 60999)}) idle`],
          role: 'postgres-backend',
          cpu: 0.004,
          busy: 0.04,
          rssMb: 25,
          fds: [5, 12],
          wake: 20,
          readKBps: 30,
        }),
      );
      break;
    }
    case 'java':
      b.add(
        shim,
        top(c, {
          argv: ['java', '-XX:MaxRAMPercentage=75', '-jar', '/app/app.jar'],
          exe: '/opt/java/openjdk/bin/java',
          category: 'runtime',
          role: 'java-app',
          threads: rng.int(40, 200),
          cpu: 0.02,
          busy: 0.1,
          rssMb: 800,
          fds: [30, 200],
          fdKind: 'jvm',
          wake: 150,
          vmMb: 3000,
        }),
      );
      break;
    case 'go':
      b.add(
        shim,
        top(c, {
          argv: ['/app/server', '--port=8080'],
          exe: '/app/server',
          category: 'runtime',
          role: 'go-service',
          threads: rng.int(8, 30),
          cpu: 0.005,
          busy: 0.08,
          rssMb: 40,
          fds: [6, 30],
          wake: 40,
          vmMb: 1200,
        }),
      );
      break;
    case 'redis':
      b.add(
        shim,
        top(c, {
          argv: ['redis-server *:6379'],
          exe: '/usr/local/bin/redis-server',
          comm: 'redis-server',
          category: 'database',
          role: 'redis-server',
          threads: 5,
          cpu: 0.008,
          busy: 0.1,
          rssMb: 60,
          fds: [10, 60],
          wake: 100,
        }),
      );
      break;
  }
  return b.made - before;
}

export function addSidecar(b: Builder, shim: number, c: Container, kind: (typeof SIDECARS)[number]): void {
  const rng = b.rng;
  if (kind === 'istio-proxy') {
    const agent = b.add(
      shim,
      top(c, {
        argv: ['/usr/local/bin/pilot-agent', 'proxy', 'sidecar', '--domain', 'default.svc.cluster.local'],
        exe: '/usr/local/bin/pilot-agent',
        category: 'runtime',
        role: 'pilot-agent',
        threads: rng.int(10, 20),
        cpu: 0.002,
        rssMb: 45,
        fds: [10, 30],
        wake: 10,
      }),
    );
    if (agent >= 0)
      b.add(agent, {
        ...top(c, {
          argv: ['/usr/local/bin/envoy', '-c', 'etc/istio/proxy/envoy-rev.json', '--drain-time-s', '45'],
          exe: '/usr/local/bin/envoy',
          category: 'webserver',
          role: 'envoy',
          threads: rng.int(10, 20),
          cpu: 0.01,
          busy: 0.05,
          rssMb: 60,
          fds: [20, 120],
          wake: 100,
        }),
        leader: 0,
      });
    return;
  }
  if (kind === 'fluent-bit') {
    b.add(
      shim,
      top(c, {
        argv: ['/fluent-bit/bin/fluent-bit', '-c', '/fluent-bit/etc/fluent-bit.conf'],
        exe: '/fluent-bit/bin/fluent-bit',
        category: 'runtime',
        role: 'fluent-bit',
        threads: rng.int(4, 8),
        cpu: 0.003,
        rssMb: 20,
        fds: [10, 40],
        wake: 20,
        readKBps: 50,
      }),
    );
    return;
  }
  if (kind === 'cloud-sql-proxy') {
    b.add(
      shim,
      top(c, {
        argv: ['/cloud-sql-proxy', '--port=5432', 'proj:region:db'],
        exe: '/cloud-sql-proxy',
        category: 'runtime',
        role: 'cloud-sql-proxy',
        threads: rng.int(8, 14),
        cpu: 0.001,
        rssMb: 25,
        fds: [8, 40],
        wake: 10,
      }),
    );
    return;
  }
  addApp(b, shim, c, 'nginx', rng.int(1, 4));
}

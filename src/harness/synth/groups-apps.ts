/**
 * Language runtimes and containers, plus the odd names and zombies a real
 * host always has.
 */
import type { Builder, Namespace } from './builder.js';
import { UID, USERS } from './catalog.js';
import { dockerCg, podCg, svcCg, uuidOf } from './cgroup.js';
import { addPostgres, addWebServer, svc } from './groups-services.js';
import { addShim } from './groups-shim.js';
import type { Ctx } from './groups-system.js';
import type { Qos } from './types.js';

const ROOT = UID.root;
type AppKind =
  | 'java'
  | 'node'
  | 'gunicorn'
  | 'puma'
  | 'go'
  | 'envoy'
  | 'coredns'
  | 'kube-proxy'
  | 'redis'
  | 'nginx'
  | 'postgres';

/** A language-runtime service (on the host or inside a container namespace). */
export function addApp(b: Builder, parent: number, kind: AppKind, ns?: Namespace): void {
  const rng = b.rng;
  const u = ns
    ? rng.chance(0.5)
      ? ([1000, 1000] as const)
      : ROOT
    : (() => {
        const x = rng.pick(USERS);
        return [x.uid, x.uid] as const;
      })();
  const leader = 2 as const;
  // On the host each app is its own systemd service; in a container, the container's cgroup.
  const cg =
    ns || kind === 'nginx' || kind === 'postgres'
      ? undefined
      : svcCg(b.unit(`${APP_UNITS[kind as keyof typeof APP_UNITS]}.service`));
  switch (kind) {
    case 'java':
      b.add(
        parent,
        svc(
          [
            '/usr/bin/java',
            '-Xms512m',
            `-Xmx${rng.pick(['1g', '2g', '4g'])}`,
            '-XX:+UseZGC',
            '-jar',
            '/opt/app/app.jar',
            '--spring.profiles.active=prod',
            '--server.port=8080',
          ],
          '/usr/lib/jvm/java-21-openjdk-amd64/bin/java',
          u,
          'runtime',
          'java-app',
          {
            rssMb: 700,
            rssSigma: 0.5,
            threads: rng.chance(0.15) ? rng.int(200, 600) : rng.int(30, 120),
            cpu: 0.02,
            busy: 0.12,
            fds: [20, 100],
            fdKind: 'jvm',
            wake: 150,
            vmMb: 3000,
            ns,
            leader,
            cg,
          },
        ),
      );
      return;
    case 'node':
      b.add(
        parent,
        svc(
          ['node', rng.pick(['server.js', '/srv/api/dist/server.js', 'index.js'])],
          '/usr/bin/node',
          u,
          'runtime',
          'node',
          {
            rssMb: 120,
            threads: rng.int(7, 11),
            cpu: 0.01,
            busy: 0.1,
            fds: [10, 30],
            wake: 50,
            vmMb: 900,
            ns,
            leader,
            cg,
          },
        ),
      );
      return;
    case 'gunicorn': {
      const py = '/usr/bin/python3.11';
      const workers = rng.int(2, 9);
      const argv = [
        '/usr/bin/python3',
        '/usr/local/bin/gunicorn',
        '--workers',
        String(workers),
        '--bind',
        '0.0.0.0:8000',
        'app.wsgi:application',
      ];
      const m = b.add(
        parent,
        svc(argv, py, u, 'runtime', 'gunicorn-master', {
          comm: 'gunicorn',
          rssMb: 35,
          fds: [8, 12],
          ns,
          leader,
          wake: 1,
          cg,
          pool: 'gunicorn',
        }),
      );
      if (m < 0) return;
      for (let i = 0; i < workers; i++)
        b.add(m, {
          argv,
          exe: py,
          comm: 'gunicorn',
          ids: u,
          category: 'runtime',
          role: 'gunicorn-worker',
          cpu: 0.006,
          busy: 0.1,
          rssMb: 90,
          fds: [5, 10],
          fdKind: 'server',
          start: 'child',
          wake: 30,
          ns,
          threads: rng.chance(0.3) ? rng.int(2, 8) : 1,
          pool: 'gunicorn',
        });
      return;
    }
    case 'puma': {
      const m = b.add(
        parent,
        svc(['puma 6.4.2 (tcp://0.0.0.0:3000) [app]'], '/usr/local/bin/ruby', u, 'runtime', 'puma-master', {
          comm: 'ruby',
          rssMb: 110,
          threads: rng.int(3, 6),
          fds: [12, 20],
          ns,
          leader,
          cg,
          pool: 'puma',
        }),
      );
      if (m < 0) return;
      const workers = rng.int(2, 6);
      for (let i = 0; i < workers; i++)
        b.add(m, {
          argv: [`puma: cluster worker ${i}: [app]`],
          exe: '/usr/local/bin/ruby',
          comm: 'ruby',
          ids: u,
          category: 'runtime',
          role: 'puma-worker',
          cpu: 0.008,
          busy: 0.08,
          rssMb: 180,
          threads: rng.int(6, 12),
          fds: [8, 14],
          fdKind: 'server',
          start: 'child',
          wake: 20,
          ns,
          pool: 'puma',
        });
      return;
    }
    case 'go':
      b.add(
        parent,
        svc(
          ['/app/server', `--port=${rng.int(8000, 9000)}`, '--log-level=info'],
          '/app/server',
          u,
          'runtime',
          'go-service',
          {
            rssMb: 40,
            threads: rng.int(8, 30),
            cpu: 0.005,
            busy: 0.08,
            fds: [6, 20],
            wake: 40,
            vmMb: 1200,
            ns,
            leader,
            cg,
          },
        ),
      );
      return;
    case 'envoy':
      b.add(
        parent,
        svc(
          ['envoy', '-c', '/etc/envoy/envoy.yaml', '--service-cluster', 'front-proxy'],
          '/usr/local/bin/envoy',
          [101, 101],
          'webserver',
          'envoy',
          {
            rssMb: 60,
            threads: Math.min(2 * b.cpus + 8, 80),
            cpu: 0.01,
            busy: 0.1,
            fds: [20, 120],
            wake: 100,
            ns,
            leader,
            cg,
          },
        ),
      );
      return;
    case 'coredns':
      b.add(
        parent,
        svc(['/coredns', '-conf', '/etc/coredns/Corefile'], '/coredns', [65532, 65532], 'container', 'coredns', {
          rssMb: 30,
          threads: rng.int(10, 20),
          cpu: 0.003,
          fds: [10, 20],
          wake: 30,
          ns,
          leader,
          cg,
        }),
      );
      return;
    case 'kube-proxy':
      b.add(
        parent,
        svc(
          ['/usr/local/bin/kube-proxy', '--config=/var/lib/kube-proxy/config.conf', '--hostname-override=worker-1'],
          '/usr/local/bin/kube-proxy',
          ROOT,
          'container',
          'kube-proxy',
          { rssMb: 45, threads: rng.int(8, 16), cpu: 0.003, fds: [10, 20], wake: 10, ns, leader, cg },
        ),
      );
      return;
    case 'redis':
      b.add(
        parent,
        svc(['redis-server *:6379'], '/usr/local/bin/redis-server', [999, 999], 'database', 'redis-server', {
          comm: 'redis-server',
          rssMb: 40,
          rssSigma: 1,
          threads: 5,
          cpu: 0.008,
          busy: 0.1,
          fds: [10, 60],
          wake: 100,
          ns,
          leader,
          cg,
        }),
      );
      return;
    case 'nginx':
      addWebServer(b, parent, 'nginx', ns);
      return;
    case 'postgres':
      addPostgres(b, parent, rng.int(2, 20), [999, 999], ns);
      return;
  }
}

/** One container: a containerd-shim-runc-v2 and the container's processes (k8s pods also get pause). */
export function addContainer(b: Builder, ctx: Ctx, k8s: boolean, app?: AppKind): void {
  const rng = b.rng;
  const id = rng.hex(64);
  // The shim's id is the container's (docker) or the pod sandbox's (k8s): the pause container's.
  const pod = k8s ? uuidOf(b.aux.hex(32)) : '';
  const qos = k8s ? b.aux.weighted(QOS_WEIGHTS) : 'burstable';
  const appCg = k8s ? podCg(qos, pod, b.aux.hex(64)) : dockerCg(id);
  const shim = addShim(
    b,
    ctx.init,
    { namespace: k8s ? 'k8s.io' : 'moby', id, start: 'any', fdKind: 'server' },
    k8s ? { qos, uid: pod } : undefined,
  );
  if (shim < 0) return;
  const kind: AppKind =
    app ??
    rng.weighted<AppKind>([
      ['node', 4],
      ['java', 3],
      ['go', 5],
      ['gunicorn', 3],
      ['nginx', 2],
      ['redis', 1],
      ['envoy', 1],
      ['puma', 1],
      ['postgres', 0.5],
    ]);
  addApp(b, shim, kind, { next: 1, cg: appCg });
}

/** Kubernetes QoS classes by how often a pod has them. */
export const QOS_WEIGHTS: readonly (readonly [Qos, number])[] = [
  ['burstable', 65],
  ['besteffort', 20],
  ['guaranteed', 15],
];

/** The systemd unit (without `.service`) of an app run on the host. */
const APP_UNITS: Record<Exclude<AppKind, 'nginx' | 'postgres'>, string> = {
  java: 'java-app',
  node: 'node-app',
  gunicorn: 'gunicorn',
  puma: 'puma',
  go: 'go-service',
  envoy: 'envoy',
  coredns: 'coredns',
  'kube-proxy': 'kube-proxy',
  redis: 'redis-server',
};

/** Processes whose names trip naive parsers. */
export function addOddNames(b: Builder, ctx: Ctx): void {
  const u = USERS[0];
  const ids = [u.uid, u.uid] as const;
  const parent = ctx.shells.length > 0 ? ctx.shells[0].idx : ctx.init;
  const tty = ctx.shells.length > 0 ? ctx.shells[0].tty : 0;
  const base = {
    ids,
    category: 'user' as const,
    cpu: 0.002,
    rssMb: 8,
    fds: [3, 8] as const,
    start: 'any' as const,
    leader: 1 as const,
    tty,
  };
  b.add(parent, {
    ...base,
    argv: ['/home/alice/bin/run) (me now', '--flag', 'x y'],
    exe: '/home/alice/bin/run) (me now',
    role: 'odd-name',
  });
  b.add(parent, { ...base, argv: ['/opt/fun/smile:)', '--verbose'], exe: '/opt/fun/smile:)', role: 'odd-name' });
  b.add(parent, {
    ...base,
    argv: ['/usr/local/bin/data-pipeline-ingest-worker', '--queue=events', '--name=café'],
    exe: '/usr/local/bin/data-pipeline-ingest-worker',
    role: 'long-name',
  });
}

/** A parent that has not reaped a child: the child is a zombie. */
export function addZombie(b: Builder, ctx: Ctx): void {
  const parent = ctx.shells.length > 0 ? b.rng.pick(ctx.shells).idx : ctx.init;
  b.add(parent, {
    argv: ['sh'],
    exe: '',
    comm: 'sh',
    ids: [1000, 1000],
    category: 'tool',
    role: 'zombie',
    cpu: 0,
    rssMb: 0,
    fds: [0, 0],
    start: 'recent',
    state: 'Z',
  });
}

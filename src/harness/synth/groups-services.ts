/**
 * Services: databases, web servers and message brokers.
 */
import type { Builder, Namespace, Spec } from './builder.js';
import { PG_BACKEND_STATES, UID } from './catalog.js';
import { svcCg } from './cgroup.js';
import type { Ctx } from './groups-system.js';
import type { Rng } from './prng.js';

const ROOT = UID.root;
export type Ids = readonly [number, number];

export function svc(
  argv: string[],
  exe: string,
  ids: Ids,
  category: Spec['category'],
  role: string,
  o: Partial<Spec> & Pick<Spec, 'rssMb'>,
): Spec {
  return {
    argv,
    exe,
    ids,
    category,
    role,
    cpu: 0.002,
    fds: [6, 16],
    fdKind: 'server',
    start: 'service',
    leader: 2,
    wake: 5,
    ...o,
  };
}

function ip(rng: Rng): string {
  return `10.${rng.int(0, 3)}.${rng.int(0, 255)}.${rng.int(2, 254)}`;
}

/** postgres postmaster, its auxiliary processes and client backends. */
export function addPostgres(
  b: Builder,
  parent: number,
  backends: number,
  ids: Ids = UID.postgres,
  ns?: Namespace,
): void {
  const rng = b.rng;
  const ver = rng.pick(['14', '15', '16']);
  const inContainer = ns !== undefined;
  const exe = inContainer ? '/usr/lib/postgresql/16/bin/postgres' : `/usr/lib/postgresql/${ver}/bin/postgres`;
  const cg = inContainer ? undefined : svcCg(b.unit(`postgresql@${ver}-main.service`));
  const pm = b.add(
    parent,
    svc(
      inContainer
        ? ['postgres']
        : [
            exe,
            '-D',
            `/var/lib/postgresql/${ver}/main`,
            '-c',
            `config_file=/etc/postgresql/${ver}/main/postgresql.conf`,
          ],
      exe,
      ids,
      'database',
      'postgres-postmaster',
      { rssMb: 30, fds: [8, 12], fdKind: 'db', ns, wake: 1, umask: '0077', cg, pool: 'postgres' },
    ),
  );
  if (pm < 0) return;
  const tag = inContainer ? '' : `${ver}/main: `;
  const aux: [string, number, number][] = [
    ['checkpointer', 0, 400],
    ['background writer', 0.0005, 150],
    ['walwriter', 0.0005, 120],
    ['autovacuum launcher', 0.0002, 0],
    ['logical replication launcher', 0.00005, 0],
  ];
  for (const [name, cpu, w] of aux) {
    b.add(pm, {
      argv: [`postgres: ${tag}${name} `],
      exe,
      comm: 'postgres',
      ids,
      category: 'database',
      role: 'postgres-aux',
      cpu,
      rssMb: 20,
      fds: [6, 10],
      fdKind: 'db',
      start: 'child',
      writeKBps: w || undefined,
      wake: 5,
      ns,
      umask: '0077',
      pool: 'postgres',
    });
  }
  for (let i = 0; i < backends && b.userRoom > 0; i++) {
    const st = rng.pick(PG_BACKEND_STATES);
    b.add(pm, {
      argv: [`postgres: ${tag}app appdb ${ip(rng)}(${rng.int(32768, 60999)}) ${st}`],
      exe,
      comm: 'postgres',
      ids,
      category: 'database',
      role: 'postgres-backend',
      cpu: 0.004,
      busy: 0.04,
      rssMb: 25,
      rssSigma: 0.7,
      fds: [5, 12],
      fdKind: 'db',
      start: rng.chance(0.7) ? 'any' : 'recent',
      readKBps: 30,
      writeKBps: 8,
      wake: 20,
      ns,
      umask: '0077',
      pool: 'postgres',
    });
  }
}

export function addDatabase(b: Builder, ctx: Ctx): void {
  const rng = b.rng;
  const kind = rng.weighted([
    ['mysql', 2],
    ['redis', 3],
    ['mongo', 1.5],
    ['postgres', 2.5],
  ] as const);
  if (kind === 'postgres') {
    addPostgres(b, ctx.init, rng.int(5, 60));
    return;
  }
  if (kind === 'mysql')
    b.add(
      ctx.init,
      svc(['/usr/sbin/mysqld'], '/usr/sbin/mysqld', UID.mysql, 'database', 'mysqld', {
        rssMb: 450,
        threads: rng.int(30, 90),
        cpu: 0.03,
        busy: 0.15,
        fds: [60, 400],
        fdKind: 'db',
        readKBps: 200,
        writeKBps: 300,
        wake: 200,
        cg: svcCg(b.unit('mysql.service')),
      }),
    );
  else if (kind === 'redis')
    b.add(
      ctx.init,
      svc(['/usr/bin/redis-server 127.0.0.1:6379'], '/usr/bin/redis-server', UID.redis, 'database', 'redis-server', {
        comm: 'redis-server',
        rssMb: 60,
        rssSigma: 1,
        threads: rng.int(4, 6),
        cpu: 0.01,
        busy: 0.1,
        fds: [20, 200],
        writeKBps: 20,
        wake: 100,
        cg: svcCg(b.unit('redis-server.service')),
      }),
    );
  else
    b.add(
      ctx.init,
      svc(['/usr/bin/mongod', '--config', '/etc/mongod.conf'], '/usr/bin/mongod', UID.mongod, 'database', 'mongod', {
        rssMb: 900,
        threads: rng.int(40, 400),
        cpu: 0.03,
        busy: 0.2,
        fds: [80, 600],
        fdKind: 'db',
        readKBps: 300,
        writeKBps: 500,
        wake: 150,
        vmMb: 2000,
        cg: svcCg(b.unit('mongod.service')),
      }),
    );
}

/** nginx master + workers, or httpd (prefork) parent + children. */
export function addWebServer(b: Builder, parent: number, kind: 'nginx' | 'httpd', ns?: Namespace): void {
  const rng = b.rng;
  if (kind === 'nginx') {
    const m = b.add(
      parent,
      svc(
        ['nginx: master process /usr/sbin/nginx -g daemon on; master_process on;'],
        '/usr/sbin/nginx',
        ROOT,
        'webserver',
        'nginx-master',
        {
          comm: 'nginx',
          rssMb: 6,
          fds: [10, 30],
          ns,
          wake: 0.2,
          cg: ns ? undefined : svcCg(b.unit('nginx.service')),
          pool: 'nginx',
        },
      ),
    );
    if (m < 0) return;
    const workers = Math.min(b.cpus, rng.int(2, 16));
    for (let i = 0; i < workers; i++) {
      const big = rng.chance(0.01);
      b.add(m, {
        argv: ['nginx: worker process'],
        exe: '/usr/sbin/nginx',
        comm: 'nginx',
        ids: UID.www,
        category: 'webserver',
        role: 'nginx-worker',
        cpu: 0.01,
        busy: 0.08,
        rssMb: 12,
        fds: big ? [150, 700] : [6, 20],
        fdKind: 'server',
        start: 'child',
        wake: 80,
        writeKBps: 5,
        ns,
        pool: 'nginx',
      });
    }
    return;
  }
  const m = b.add(
    parent,
    svc(['/usr/sbin/httpd', '-DFOREGROUND'], '/usr/sbin/httpd', ROOT, 'webserver', 'httpd-parent', {
      rssMb: 14,
      fds: [10, 20],
      ns,
      wake: 1,
      cg: ns ? undefined : svcCg(b.unit('httpd.service')),
      pool: 'httpd',
    }),
  );
  if (m < 0) return;
  const kids = rng.int(5, 12);
  for (let i = 0; i < kids; i++) {
    b.add(m, {
      argv: ['/usr/sbin/httpd', '-DFOREGROUND'],
      exe: '/usr/sbin/httpd',
      ids: UID.apache,
      category: 'webserver',
      role: 'httpd-child',
      cpu: 0.005,
      busy: 0.05,
      rssMb: 18,
      fds: [8, 16],
      fdKind: 'server',
      start: rng.chance(0.5) ? 'child' : 'any',
      wake: 20,
      ns,
      threads: rng.chance(0.5) ? rng.int(25, 66) : 1,
      pool: 'httpd',
    });
  }
}

export function addBroker(b: Builder, ctx: Ctx, kind: 'kafka' | 'rabbitmq'): void {
  const rng = b.rng;
  if (kind === 'kafka') {
    b.add(
      ctx.init,
      svc(
        [
          '/usr/lib/jvm/java-17-openjdk-amd64/bin/java',
          '-Xmx4G',
          '-Xms4G',
          '-server',
          '-XX:+UseG1GC',
          '-XX:MaxGCPauseMillis=20',
          '-Djava.awt.headless=true',
          '-Dkafka.logs.dir=/opt/kafka/logs',
          '-cp',
          '/opt/kafka/libs/*',
          'kafka.Kafka',
          '/opt/kafka/config/server.properties',
        ],
        '/usr/lib/jvm/java-17-openjdk-amd64/bin/java',
        UID.kafka,
        'broker',
        'kafka',
        {
          rssMb: 2200,
          rssSigma: 0.3,
          threads: rng.int(90, 450),
          cpu: 0.08,
          busy: 0.3,
          fds: [300, 900],
          fdKind: 'jvm',
          readKBps: 500,
          writeKBps: 3000,
          wake: 400,
          vmMb: 6000,
          cg: svcCg(b.unit('kafka.service')),
        },
      ),
    );
    return;
  }
  const erts = '/usr/lib/erlang/erts-13.2.2.5/bin';
  const beam = b.add(
    ctx.init,
    svc(
      [
        `${erts}/beam.smp`,
        '-W',
        'w',
        '-MBas',
        'ageffcbf',
        '-MHas',
        'ageffcbf',
        '-MBlmbcs',
        '512',
        '-MHlmbcs',
        '512',
        '-MMmcs',
        '30',
        '-P',
        '1048576',
        '-t',
        '5000000',
        '-stbt',
        'db',
        '-zdbbl',
        '128000',
        '-sbwt',
        'none',
        '-sbwtdcpu',
        'none',
        '-sbwtdio',
        'none',
        '-B',
        'i',
        '--',
        '-root',
        '/usr/lib/erlang',
        '-bindir',
        erts,
        '-progname',
        'erl',
        '--',
        '-home',
        '/var/lib/rabbitmq',
        '--',
        '-noshell',
        '-noinput',
        '-s',
        'rabbit',
        'boot',
        '-boot',
        'start_sasl',
      ],
      `${erts}/beam.smp`,
      UID.rabbitmq,
      'broker',
      'rabbitmq',
      {
        rssMb: 180,
        threads: rng.int(30, 160),
        cpu: 0.02,
        busy: 0.2,
        fds: [80, 300],
        writeKBps: 200,
        wake: 300,
        cg: svcCg(b.unit('rabbitmq-server.service')),
      },
    ),
  );
  if (beam < 0) return;
  b.add(beam, {
    argv: ['erl_child_setup', '32768'],
    exe: `${erts}/erl_child_setup`,
    ids: UID.rabbitmq,
    category: 'broker',
    role: 'erl_child_setup',
    cpu: 0.00001,
    rssMb: 1,
    fds: [4, 6],
    start: 'child',
  });
  b.add(
    ctx.init,
    svc([`${erts}/epmd`, '-daemon'], `${erts}/epmd`, UID.rabbitmq, 'broker', 'epmd', {
      rssMb: 1,
      fds: [4, 8],
      cpu: 0.00002,
      cg: svcCg(b.unit('epmd.service')),
    }),
  );
}

/**
 * `db`: a database host (counts for 6,000 processes, scaled): PostgreSQL
 * clusters (`postgresql@16-<name>.service`), each a postmaster with its
 * auxiliary processes and 80-400 client backends (plus autovacuum and
 * parallel workers, an archiver running `pgbackrest archive-push`,
 * walsenders), pgbouncer in front, a mysqld, exporters, cron-driven backup
 * jobs (`pg_dump | gzip`, `mysqldump | zstd`, `pg_basebackup`) and DBAs in
 * psql. Backends with short connections come and go in `synth advance`.
 */
import type { Builder, Spec } from './builder.js';
import { PG_BACKEND_STATES, UID } from './catalog.js';
import { svcCg } from './cgroup.js';
import { addLogin } from './groups-login.js';
import { addCronShell, type Ctx } from './groups-system.js';
import { addMany, addNoise, type ShapePlan, service, sized, userAt } from './shape-kit.js';

const PG = UID.postgres;
const CLUSTERS = [
  'main',
  'analytics',
  'billing',
  'events',
  'reporting',
  'auth',
  'ledger',
  'search',
  'metrics',
  'audit',
];

function ip(b: Builder): string {
  return `10.${b.rng.int(0, 3)}.${b.rng.int(0, 255)}.${b.rng.int(2, 254)}`;
}

/** One cluster: postmaster, aux processes, `backends` client backends, workers. Returns processes added. */
function addCluster(b: Builder, ctx: Ctx, k: number, backends: number): number {
  const rng = b.rng;
  const before = b.made;
  const ver = k === 0 ? '16' : rng.pick(['14', '15', '16']);
  const name = k < CLUSTERS.length ? CLUSTERS[k] : `c${k}`;
  const exe = `/usr/lib/postgresql/${ver}/bin/postgres`;
  const tag = `${ver}/${name}: `;
  const base = {
    exe,
    comm: 'postgres',
    ids: PG,
    category: 'database' as const,
    fdKind: 'db' as const,
    umask: '0077',
    pool: 'postgres',
  };
  const pm = b.add(ctx.init, {
    ...base,
    argv: [
      exe,
      '-D',
      `/var/lib/postgresql/${ver}/${name}`,
      '-c',
      `config_file=/etc/postgresql/${ver}/${name}/postgresql.conf`,
    ],
    role: 'postgres-postmaster',
    cpu: 0.001,
    rssMb: 200,
    fds: [8, 14],
    start: 'service',
    leader: 2,
    wake: 1,
    cg: svcCg(b.unit(`postgresql@${ver}-${name}.service`)),
  });
  if (pm < 0) return 0;
  const child = (o: Partial<Spec> & Pick<Spec, 'argv' | 'role'>): Spec => ({
    ...base,
    cpu: 0.0005,
    rssMb: 60,
    fds: [6, 12],
    start: 'child',
    wake: 5,
    ...o,
  });
  for (const [aux, cpu, w] of [
    ['checkpointer', 0.001, 800],
    ['background writer', 0.001, 300],
    ['walwriter', 0.001, 400],
    ['autovacuum launcher', 0.0003, 0],
    ['logical replication launcher', 0.00005, 0],
  ] as const) {
    b.add(pm, child({ argv: [`postgres: ${tag}${aux} `], role: 'postgres-aux', cpu, writeKBps: w || undefined }));
  }
  const archiver = b.add(
    pm,
    child({
      argv: [`postgres: ${tag}archiver last was 00000001000012A4000000${rng.hex(2).toUpperCase()}`],
      role: 'postgres-aux',
    }),
  );
  if (archiver >= 0 && rng.chance(0.5)) {
    b.add(archiver, {
      argv: [
        'pgbackrest',
        `--stanza=${name}`,
        'archive-push',
        `pg_wal/00000001000012A4000000${rng.hex(2).toUpperCase()}`,
      ],
      exe: '/usr/bin/pgbackrest',
      ids: PG,
      category: 'tool',
      role: 'pgbackrest',
      cpu: 0.3,
      rssMb: 15,
      fds: [6, 10],
      start: 'fresh',
      writeKBps: 8000,
      ephemeral: true,
    });
  }
  for (let i = rng.int(0, 2); i > 0; i--)
    b.add(
      pm,
      child({
        argv: [
          `postgres: ${tag}walsender replicator ${ip(b)}(${rng.int(32768, 60999)}) streaming 12A4/${rng.hex(8).toUpperCase()}`,
        ],
        role: 'postgres-walsender',
        cpu: 0.005,
        wake: 50,
      }),
    );
  addMany(b, pm, backends, () =>
    child({
      argv: [`postgres: ${tag}app appdb ${ip(b)}(${rng.int(32768, 60999)}) ${rng.pick(PG_BACKEND_STATES)}`],
      role: 'postgres-backend',
      cpu: 0.004,
      busy: 0.04,
      rssMb: 30,
      rssSigma: 0.7,
      fds: [5, 14],
      start: rng.chance(0.7) ? 'any' : 'recent',
      readKBps: 40,
      writeKBps: 10,
      wake: 20,
      // pooled connections live long, direct ones come and go
      ephemeral: rng.chance(0.35),
    }),
  );
  for (let i = rng.int(0, 3); i > 0; i--)
    b.add(
      pm,
      child({
        argv: [`postgres: ${tag}autovacuum worker appdb`],
        role: 'postgres-autovacuum',
        cpu: 0.2,
        readKBps: 5000,
        writeKBps: 1000,
        start: 'recent',
        ephemeral: true,
      }),
    );
  for (let i = rng.chance(0.4) ? rng.int(2, 6) : 0; i > 0; i--)
    b.add(
      pm,
      child({
        argv: [`postgres: ${tag}parallel worker for PID ${rng.int(3000, 90000)}`],
        role: 'postgres-parallel',
        cpu: 0.8,
        readKBps: 20000,
        start: 'fresh',
        ephemeral: true,
      }),
    );
  return b.made - before;
}

const BACKUPS = {
  pg_dump: 'pg_dump -Fc appdb | gzip > /backup/appdb.dump.gz',
  mysqldump: 'mysqldump --single-transaction shop | zstd -T4 > /backup/shop.sql.zst',
  pg_basebackup: 'pg_basebackup -D /backup/base -Ft -z -P',
} as const;

/**
 * A backup job started by cron: CRON -> sh -c '... | ...' -> the dump and
 * its compressor (the kind is drawn after the CRON child).
 */
function addBackup(b: Builder, ctx: Ctx): void {
  const rng = b.rng;
  const run = addCronShell(b, ctx, () => {
    const kind = rng.pick(['pg_dump', 'mysqldump', 'pg_basebackup'] as const);
    return { kind, cmd: BACKUPS[kind], ids: kind === 'mysqldump' ? UID.root : PG };
  });
  if (!run) return;
  const {
    sh,
    job: { kind, ids },
  } = run;
  const job = (argv: string[], exe: string, cpu: number, r: number, w: number): Spec => ({
    argv,
    exe,
    ids,
    category: 'tool',
    role: 'backup',
    cpu,
    busy: 0.3,
    rssMb: 40,
    fds: [4, 10],
    start: 'child',
    leader: 0,
    readKBps: r,
    writeKBps: w,
    ephemeral: true,
  });
  if (kind === 'pg_dump') {
    b.add(sh, job(['pg_dump', '-Fc', 'appdb'], '/usr/lib/postgresql/16/bin/pg_dump', 0.4, 30000, 0));
    b.add(sh, job(['gzip'], '/usr/bin/gzip', 0.9, 0, 8000));
  } else if (kind === 'mysqldump') {
    b.add(sh, job(['mysqldump', '--single-transaction', 'shop'], '/usr/bin/mysqldump', 0.5, 20000, 0));
    b.add(sh, job(['zstd', '-T4'], '/usr/bin/zstd', 1.2, 0, 6000));
  } else
    b.add(
      sh,
      job(
        ['pg_basebackup', '-D', '/backup/base', '-Ft', '-z', '-P'],
        '/usr/lib/postgresql/16/bin/pg_basebackup',
        0.6,
        40000,
        10000,
      ),
    );
}

function build(b: Builder, ctx: Ctx, s: number): void {
  const rng = b.rng;
  service(b, ctx, 'mysql.service', {
    argv: ['/usr/sbin/mysqld'],
    exe: '/usr/sbin/mysqld',
    ids: UID.mysql,
    category: 'database',
    role: 'mysqld',
    threads: rng.int(60, 200),
    cpu: 0.05,
    busy: 0.2,
    rssMb: 6000,
    rssSigma: 0.2,
    fds: [200, 2000],
    fdKind: 'db',
    readKBps: 2000,
    writeKBps: 1500,
    wake: 400,
    vmMb: 8000,
  });
  for (const exp of [
    ['prometheus-postgres-exporter.service', '/usr/bin/prometheus-postgres-exporter', 'postgres_exporter'],
    ['prometheus-mysqld-exporter.service', '/usr/bin/prometheus-mysqld-exporter', 'mysqld_exporter'],
  ] as const) {
    service(b, ctx, exp[0], {
      argv: [exp[1]],
      exe: exp[1],
      comm: exp[2],
      ids: UID.nobody,
      category: 'system',
      role: exp[2],
      threads: rng.int(6, 12),
      cpu: 0.003,
      rssMb: 20,
      fds: [8, 20],
    });
  }
  const dba = addLogin(b, ctx, userAt(0), { manager: true });
  if (dba >= 0)
    b.add(dba, {
      argv: ['psql', '-h', 'localhost', '-U', 'app', 'appdb'],
      exe: '/usr/lib/postgresql/16/bin/psql',
      ids: [1000, 1000],
      category: 'user',
      role: 'psql',
      cpu: 0.0002,
      rssMb: 9,
      fds: [4, 6],
      fdKind: 'tty',
      start: 'any',
      leader: 1,
      tty: ctx.shells[ctx.shells.length - 1]?.tty ?? 0,
    });
  addNoise(b, ctx, 2);
  // The first cluster at its reference size, then clusters, pgbouncers and backups by share.
  let k = 0;
  addCluster(b, ctx, k++, sized(rng, 240, s, 0.6, 80 * Math.min(1, s)));
  const reserve = Math.max(1, Math.round(b.capacity * 0.02));
  let bouncers = 0;
  let stale = 0;
  while (b.userRoom > reserve && stale < 20) {
    const before = b.made;
    const r = rng.next();
    if (r < 0.08) {
      service(b, ctx, 'pgbouncer.service', {
        argv: ['/usr/sbin/pgbouncer', `/etc/pgbouncer/pgbouncer${bouncers++ ? `-${bouncers}` : ''}.ini`],
        exe: '/usr/sbin/pgbouncer',
        ids: PG,
        category: 'database',
        role: 'pgbouncer',
        cpu: 0.02,
        busy: 0.1,
        rssMb: 15,
        fds: [200, 2000],
        wake: 500,
      });
    } else if (r < 0.2) addBackup(b, ctx);
    else if (r < 0.24) addLogin(b, ctx, userAt(rng.int(0, 5)), { manager: false });
    else addCluster(b, ctx, k++, Math.min(b.userRoom - reserve, sized(rng, 240, s, 0.65, 2)));
    stale = b.made === before ? stale + 1 : 0;
  }
}

export const DB: ShapePlan = {
  base: { containerd: false, dockerd: false, kubelet: false },
  cpuShare: 0.4,
  build,
  churn: { cohortShare: 0 },
};

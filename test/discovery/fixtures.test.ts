/**
 * Discovery over host roots the tests write (test/discovery/fixture.ts):
 * the cases no CI machine runs for real. Each is run through `discover()`
 * the way `nrdot discover --root` runs it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { discover } from '../../src/discovery/discover.js';
import type { DiscoveredService, DiscoveryResult } from '../../src/discovery/types.js';
import { HostFixture } from './fixture.js';

let fx: HostFixture | undefined;
afterEach(() => {
  fx?.remove();
  fx = undefined;
});

const byService = (r: DiscoveryResult, service: string): DiscoveredService[] =>
  r.services.filter((s) => s.service === service);
const one = (r: DiscoveryResult, service: string): DiscoveredService => {
  const list = byService(r, service);
  expect(list, `${service} in ${JSON.stringify(r.services.map((s) => s.id))}`).toHaveLength(1);
  return list[0]!;
};

describe('discovery on fixture roots', () => {
  it('finds MySQL that listens on a unix socket only, with the socket, config and error log from my.cnf', async () => {
    fx = new HostFixture();
    fx.file(
      '/etc/mysql/my.cnf',
      '[client-server]\n!includedir /etc/mysql/conf.d/\n!includedir /etc/mysql/mariadb.conf.d/\n',
    )
      .file(
        '/etc/mysql/mariadb.conf.d/50-server.cnf',
        '[mysqld]\nskip-networking\nsocket = /run/mysqld/mysqld.sock\nlog_error = /var/log/mysql/error.log\n',
      )
      .proc({
        pid: 700,
        comm: 'mariadbd',
        argv: ['/usr/sbin/mariadbd'],
        exe: '/usr/sbin/mariadbd',
        sockets: [9101, 9102],
        cgroup: '/system.slice/mariadb.service',
      })
      .unixSocket('/run/mysqld/mysqld.sock', 9101)
      .unixSocket('/run/systemd/notify', 9102, false)
      .dpkg([{ name: 'mariadb-server', version: '1:10.11.6-0+deb12u1' }])
      .unit('mariadb.service', '/usr/sbin/mariadbd $MYSQLD_OPTS');
    const r = await discover({ root: fx.root });
    const s = one(r, 'mysql');
    expect(s.state).toBe('running');
    expect(s.primary).toMatchObject({ transport: 'unix', path: '/run/mysqld/mysqld.sock', pid: 700 });
    expect(s.endpoints.filter((e) => e.transport !== 'unix')).toEqual([]);
    expect(s.configPath).toBe('/etc/mysql/my.cnf');
    expect(s.values.socket).toBe('/run/mysqld/mysqld.sock');
    expect(s.logPaths).toEqual(['/var/log/mysql/error.log']);
    expect(s.unit).toBe('mariadb.service');
    expect(s.version).toEqual({ value: '10.11.6', source: 'package mariadb-server 1:10.11.6-0+deb12u1' });
    expect(s.id).toBe('mysql/mysqld.sock');
    expect(s.confidence).toBeGreaterThan(0.75);
    expect(s.evidence.map((e) => e.kind)).toEqual(
      expect.arrayContaining(['process', 'listener', 'config', 'unit', 'package']),
    );
    expect(
      s.evidence.find((e) => e.kind === 'config' && /sets \/run\/mysqld\/mysqld.sock/.test(e.detail)),
    ).toBeDefined();
  });

  it('finds PostgreSQL with a non-standard data directory from -D, its config there, TCP and socket', async () => {
    fx = new HostFixture();
    fx.file(
      '/srv/pgdata/main/postgresql.conf',
      "port = 5433\nlisten_addresses = 'localhost'\nunix_socket_directories = '/srv/pgsock'\n",
    )
      .proc({
        pid: 900,
        comm: 'postgres',
        argv: ['/usr/lib/postgresql/15/bin/postgres', '-D', '/srv/pgdata/main'],
        exe: '/usr/lib/postgresql/15/bin/postgres',
        cwd: '/srv/pgdata/main',
        sockets: [7001, 7002, 7003],
      })
      .proc({
        pid: 901,
        ppid: 900,
        comm: 'postgres',
        argv: ['postgres: checkpointer '],
        exe: '/usr/lib/postgresql/15/bin/postgres',
      })
      .proc({
        pid: 902,
        ppid: 900,
        comm: 'postgres',
        argv: ['postgres: walwriter '],
        exe: '/usr/lib/postgresql/15/bin/postgres',
      })
      .listen({ transport: 'tcp', address: '127.0.0.1', port: 5433, inode: 7001 })
      .listen({ transport: 'tcp', address: '::1', port: 5433, inode: 7002 })
      .unixSocket('/srv/pgsock/.s.PGSQL.5433', 7003)
      .dpkg([
        { name: 'postgresql-15', version: '15.5-0+deb12u1' },
        { name: 'postgresql-common', version: '248' },
      ]);
    const r = await discover({ root: fx.root });
    const s = one(r, 'postgresql');
    expect(s.pid).toBe(900);
    expect(s.pids).toEqual([900, 901, 902]);
    expect(s.configPath).toBe('/srv/pgdata/main/postgresql.conf');
    expect(s.values).toMatchObject({ data_dir: '/srv/pgdata/main', port: '5433' });
    expect(s.primary).toMatchObject({ transport: 'tcp', address: '127.0.0.1', port: 5433 });
    expect(s.endpoints.map((e) => e.path ?? `${e.address}:${e.port}`).sort()).toEqual([
      '/srv/pgsock/.s.PGSQL.5433',
      '127.0.0.1:5433',
      '::1:5433',
    ]);
    expect(s.version?.value).toBe('15.5');
    expect(s.id).toBe('postgresql/5433');
  });

  it('reports a service whose package is installed but not running, with its config, and no endpoint to scrape', async () => {
    fx = new HostFixture();
    fx.file('/etc/redis/redis.conf', 'port 6380\nlogfile /var/log/redis/redis-server.log\n')
      .dpkg([{ name: 'redis-server', version: '5:7.0.15-1~deb12u1' }])
      .unit('redis-server.service', '/usr/bin/redis-server /etc/redis/redis.conf --supervised systemd', true)
      .proc({ pid: 50, comm: 'bash', argv: ['bash'], exe: '/usr/bin/bash' });
    const r = await discover({ root: fx.root });
    const s = one(r, 'redis');
    expect(s.state).toBe('installed');
    expect(s.id).toBe('redis/installed');
    expect(s.pid).toBeUndefined();
    expect(s.primary).toBeUndefined();
    expect(s.configPath).toBe('/etc/redis/redis.conf');
    expect(s.endpoints).toEqual([{ transport: 'tcp', port: 6380, source: 'config' }]);
    expect(s.version?.value).toBe('7.0.15');
    expect(s.notes.join(' ')).toMatch(/installed but not running/);
    expect(s.confidence).toBeLessThan(0.5);
  });

  it('lists a process named like a service that listens on nothing, with low confidence and no endpoint', async () => {
    fx = new HostFixture();
    fx.proc({
      pid: 321,
      comm: 'redis-server',
      argv: ['/opt/tools/redis-server', '--version-check'],
      exe: '/opt/tools/redis-server',
      sockets: [],
    })
      .listen({ transport: 'tcp', address: '0.0.0.0', port: 22, inode: 4000 })
      .proc({ pid: 20, comm: 'sshd', argv: ['sshd: /usr/sbin/sshd -D'], exe: '/usr/sbin/sshd', sockets: [4000] });
    const r = await discover({ root: fx.root });
    const s = one(r, 'redis');
    expect(s.state).toBe('running');
    expect(s.pid).toBe(321);
    expect(s.primary).toBeUndefined();
    expect(s.endpoints).toEqual([]);
    expect(s.confidence).toBeLessThan(0.5);
    expect(s.notes.join(' ')).toMatch(/no listening socket/);
    // sshd's port is not claimed by the redis look-alike; its owner is looked up only when asked
    expect(r.unmatchedListeners).toEqual([{ transport: 'tcp', address: '0.0.0.0', port: 22 }]);
    const all = await discover({ root: fx.root, ownersOfAll: true });
    expect(all.unmatchedListeners).toEqual([
      { transport: 'tcp', address: '0.0.0.0', port: 22, pid: 20, process: 'sshd' },
    ]);
    expect(all.stats.fdWalked).toBe(2);
    expect(r.stats.fdWalked).toBe(1);
  });

  it('finds a service that listens on IPv6 only and renders its address as [::1]', async () => {
    fx = new HostFixture();
    fx.proc({
      pid: 400,
      comm: 'memcached',
      argv: ['/usr/bin/memcached', '-p', '11311', '-l', '::1'],
      exe: '/usr/bin/memcached',
      sockets: [5100],
    }).listen({ transport: 'tcp', address: '::1', port: 11311, inode: 5100 });
    const r = await discover({ root: fx.root });
    const s = one(r, 'memcached');
    expect(s.primary).toMatchObject({ transport: 'tcp', address: '::1', port: 11311, pid: 400 });
    expect(s.values).toMatchObject({ port: '11311', listen: '::1' });
    const { renderCollector } = await import('../../src/discovery/collector.js');
    const { loadTemplates } = await import('../../src/discovery/templates/load.js');
    const { Problems } = await import('../../src/discovery/host.js');
    const out = renderCollector(r, loadTemplates({}, new Problems()));
    expect((out.config.receivers as Record<string, unknown>)['memcached/11311']).toEqual({
      endpoint: '[::1]:11311',
      collection_interval: '10s',
    });
  });

  it('ties a wildcard listener shared by a master and its workers to one instance', async () => {
    fx = new HostFixture();
    fx.file(
      '/etc/nginx/nginx.conf',
      'events {}\nhttp {\n  access_log /var/log/nginx/access.log;\n  server {\n    listen 8080;\n    location = /basic_status { stub_status; }\n  }\n}\n',
    )
      .proc({
        pid: 100,
        comm: 'nginx',
        argv: ['nginx: master process /usr/sbin/nginx -g daemon on; master_process on;'],
        exe: '/usr/sbin/nginx',
        sockets: [800, 801],
      })
      .proc({
        pid: 101,
        ppid: 100,
        comm: 'nginx',
        argv: ['nginx: worker process'],
        exe: '/usr/sbin/nginx',
        sockets: [800, 801],
      })
      .proc({
        pid: 102,
        ppid: 100,
        comm: 'nginx',
        argv: ['nginx: worker process'],
        exe: '/usr/sbin/nginx',
        sockets: [800, 801],
      })
      .listen({ transport: 'tcp', address: '0.0.0.0', port: 8080, inode: 800 })
      .listen({ transport: 'tcp', address: '::', port: 8080, inode: 801 });
    const r = await discover({ root: fx.root });
    const s = one(r, 'nginx');
    expect(s.pids).toEqual([100, 101, 102]);
    expect(s.primary).toMatchObject({ address: '0.0.0.0', port: 8080, pid: 100 });
    expect(s.values.status_path).toBe('/basic_status');
    expect(s.notes.join(' ')).not.toMatch(/stub_status/);
    expect(s.logPaths).toEqual(['/var/log/nginx/access.log']);
  });
});

describe('bad input: reported with file and line, discovery goes on', () => {
  it('skips a malformed /proc/net/tcp line and still uses the good ones', async () => {
    fx = new HostFixture();
    fx.proc({
      pid: 10,
      comm: 'redis-server',
      argv: ['redis-server 127.0.0.1:6379'],
      exe: '/usr/bin/redis-server',
      sockets: [61],
    });
    fx.rawNet(
      'tcp',
      [
        '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
        '   0: 0100007F:18EB 00000000:0000 0A 00000000:00000000 00:00000000 00000000   100        0 61 1 0 100 0 0 10 0',
        '   1: ZZZZ:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 62',
        '   2: 0100007F:0050',
        '',
      ].join('\n'),
    );
    const r = await discover({ root: fx.root });
    const file = `${fx.root}/proc/net/tcp`;
    expect(r.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'malformed',
          file,
          line: 3,
          message: expect.stringMatching(/local address 'ZZZZ:0050'/),
        }),
        expect.objectContaining({
          kind: 'malformed',
          file,
          line: 4,
          message: expect.stringMatching(/at least 10 fields/),
        }),
      ]),
    );
    expect(one(r, 'redis').primary).toMatchObject({ address: '127.0.0.1', port: 6379, pid: 10 });
  });

  it('reads a dpkg status file cut mid-stanza: the complete packages count, the cut one is named with its line', async () => {
    fx = new HostFixture();
    fx.dpkg(
      [
        { name: 'nginx', version: '1.22.1-9' },
        { name: 'redis-server', version: '5:7.0.15-1' },
      ],
      'Package: mariadb-server\nStatus: install ok installed\nPriority: optional\nVersi',
    );
    const r = await discover({ root: fx.root });
    expect(r.problems).toContainEqual({
      kind: 'malformed',
      file: '/var/lib/dpkg/status',
      line: 17,
      message: expect.stringMatching(
        /package 'mariadb-server' \(lines 17-20\) has no Version field \(the file ends in the middle of it\); ignored/,
      ),
    });
    expect(one(r, 'nginx').version?.value).toBe('1.22.1');
    expect(one(r, 'redis').version?.value).toBe('7.0.15');
    expect(byService(r, 'mysql')).toEqual([]);
  });

  it('says which config it could not read (a directory where a file should be) and uses the rest', async () => {
    fx = new HostFixture();
    fx.file('/srv/redis/redis.conf/placeholder', 'not a file')
      .file('/etc/redis/redis.conf', 'port 7001\n')
      .proc({
        pid: 10,
        comm: 'redis-server',
        argv: ['redis-server 127.0.0.1:7001'],
        exe: '/usr/bin/redis-server',
        cwd: '/srv/redis',
        sockets: [61],
      })
      .listen({ transport: 'tcp', address: '127.0.0.1', port: 7001, inode: 61 });
    const r = await discover({ root: fx.root });
    expect(r.problems).toContainEqual({
      kind: 'unreadable',
      file: '/srv/redis/redis.conf',
      message: 'cannot read: it is a directory',
    });
    expect(one(r, 'redis').configPath).toBe('/etc/redis/redis.conf');
  });
});

/**
 * A fixture host running every service of the embedded template library,
 * each with a listener, a config file and a log.
 */
import { HostFixture } from './fixture.js';

/** One host with every embedded service running, each with a config file and a log. */
export function fullHost(): HostFixture {
  const fx = new HostFixture();
  let pid = 1000;
  let inode = 50_000;
  const svc = (
    comm: string,
    argv: string[],
    exe: string,
    listen: Array<[string, number]>,
    unix: string[] = [],
    cwd?: string,
  ) => {
    const sockets: number[] = [];
    for (const [address, port] of listen) {
      fx.listen({ transport: 'tcp', address, port, inode: ++inode });
      sockets.push(inode);
    }
    for (const u of unix) {
      fx.unixSocket(u, ++inode);
      sockets.push(inode);
    }
    fx.proc({ pid: ++pid, comm, argv, exe, sockets, cwd });
  };
  fx.file('/etc/redis/redis.conf', 'port 6379\nlogfile /var/log/redis/redis-server.log\n');
  svc('redis-server', ['/usr/bin/redis-server 127.0.0.1:6379'], '/usr/bin/redis-server', [['127.0.0.1', 6379]]);
  fx.file(
    '/etc/nginx/nginx.conf',
    'http {\n access_log /var/log/nginx/access.log;\n server {\n  listen 80;\n  location = /status { stub_status; }\n }\n}\n',
  );
  svc('nginx', ['nginx: master process /usr/sbin/nginx'], '/usr/sbin/nginx', [['0.0.0.0', 80]]);
  fx.file('/etc/mysql/my.cnf', '[mysqld]\nport = 3306\nlog_error = /var/log/mysql/error.log\n');
  svc('mysqld', ['/usr/sbin/mysqld'], '/usr/sbin/mysqld', [['127.0.0.1', 3306]], ['/run/mysqld/mysqld.sock']);
  fx.file('/etc/postgresql/15/main/postgresql.conf', "port = 5432\nlog_directory = 'log'\n");
  svc(
    'postgres',
    [
      '/usr/lib/postgresql/15/bin/postgres',
      '-D',
      '/var/lib/postgresql/15/main',
      '-c',
      'config_file=/etc/postgresql/15/main/postgresql.conf',
    ],
    '/usr/lib/postgresql/15/bin/postgres',
    [['127.0.0.1', 5432]],
    ['/var/run/postgresql/.s.PGSQL.5432'],
  );
  fx.file('/var/log/postgresql/postgresql-15-main.log', '');
  fx.file(
    '/etc/apache2/apache2.conf',
    'Listen 8081\nErrorLog /var/log/apache2/error.log\n<Location "/server-status">\n  SetHandler server-status\n</Location>\n',
  );
  svc('apache2', ['/usr/sbin/apache2', '-k', 'start'], '/usr/sbin/apache2', [['0.0.0.0', 8081]]);
  svc('memcached', ['/usr/bin/memcached', '-m', '64', '-p', '11211', '-l', '127.0.0.1'], '/usr/bin/memcached', [
    ['127.0.0.1', 11211],
  ]);
  fx.file(
    '/etc/mongod.conf',
    'systemLog:\n  destination: file\n  path: /var/log/mongodb/mongod.log\nnet:\n  port: 27017\n  bindIp: 127.0.0.1\n',
  );
  svc('mongod', ['/usr/bin/mongod', '--config', '/etc/mongod.conf'], '/usr/bin/mongod', [['127.0.0.1', 27017]]);
  fx.file(
    '/etc/rabbitmq/rabbitmq.conf',
    'listeners.tcp.default = 5672\nmanagement.tcp.port = 15672\nlog.file = /var/log/rabbitmq/rabbit.log\n',
  );
  svc(
    'beam.smp',
    ['/usr/lib/erlang/erts-13.1.5/bin/beam.smp', '-W', 'w', '--', '-root', '/usr/lib/erlang', '-s', 'rabbit', 'boot'],
    '/usr/lib/erlang/erts-13.1.5/bin/beam.smp',
    [
      ['0.0.0.0', 5672],
      ['0.0.0.0', 15672],
      ['0.0.0.0', 25672],
    ],
  );
  fx.file(
    '/etc/haproxy/haproxy.cfg',
    'global\n  stats socket /run/haproxy/admin.sock mode 660 level admin\nfrontend web\n  bind *:8443\n',
  );
  svc(
    'haproxy',
    ['/usr/sbin/haproxy', '-Ws', '-f', '/etc/haproxy/haproxy.cfg'],
    '/usr/sbin/haproxy',
    [['0.0.0.0', 8443]],
    ['/run/haproxy/admin.sock'],
  );
  return fx;
}

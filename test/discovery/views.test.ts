/**
 * The agent-facing views of a discovery, on a fixture host: the pids
 * classification should raise, each service's resource attributes, the
 * status summary.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discover } from '../../src/discovery/discover.js';
import type { DiscoveryResult } from '../../src/discovery/types.js';
import { discoveryStatus, servicePids, serviceResourceAttributes } from '../../src/discovery/views.js';
import { HostFixture } from './fixture.js';

let fx: HostFixture;
let r: DiscoveryResult;

beforeAll(async () => {
  fx = new HostFixture();
  fx.file('/etc/mysql/my.cnf', '[mysqld]\nsocket = /run/mysqld/mysqld.sock\n')
    .proc({ pid: 10, comm: 'mysqld', argv: ['/usr/sbin/mysqld'], exe: '/usr/sbin/mysqld', sockets: [1] })
    .unixSocket('/run/mysqld/mysqld.sock', 1)
    .proc({
      pid: 20,
      comm: 'nginx',
      argv: ['nginx: master process /usr/sbin/nginx'],
      exe: '/usr/sbin/nginx',
      sockets: [2],
    })
    .proc({ pid: 21, ppid: 20, comm: 'nginx', argv: ['nginx: worker process'], exe: '/usr/sbin/nginx', sockets: [2] })
    .listen({ transport: 'tcp', address: '::1', port: 8080, inode: 2 })
    .proc({ pid: 30, comm: 'redis-server', argv: ['/opt/redis-server'], exe: '/opt/redis-server' })
    .dpkg([{ name: 'nginx', version: '1.22.1-9' }]);
  r = await discover({ root: fx.root, now: () => 1234 });
});
afterAll(() => fx.remove());

describe('views for the agent', () => {
  it('servicePids: the processes of running services above the threshold', () => {
    expect([...servicePids(r, 0.5)].sort((a, b) => a - b)).toEqual([10, 20, 21]);
    expect([...servicePids(r, 0)].sort((a, b) => a - b)).toEqual([10, 20, 21, 30]);
  });

  it('serviceResourceAttributes: semantic-convention attributes per service', () => {
    const nginx = r.services.find((s) => s.service === 'nginx')!;
    expect(serviceResourceAttributes(nginx)).toEqual({
      'service.name': 'nginx',
      'service.instance.id': 'nginx/8080',
      'service.version': '1.22.1',
      'server.address': '::1',
      'server.port': 8080,
      'process.pid': 20,
    });
    const mysql = r.services.find((s) => s.service === 'mysql')!;
    expect(serviceResourceAttributes(mysql)).toMatchObject({ 'server.address': '/run/mysqld/mysqld.sock' });
    expect(serviceResourceAttributes(mysql)).not.toHaveProperty('server.port');
  });

  it('discoveryStatus: one short line per service', () => {
    expect(discoveryStatus(r)).toEqual({
      at: 1234,
      services: [
        {
          id: 'mysql/mysqld.sock',
          service: 'mysql',
          state: 'running',
          confidence: expect.any(Number),
          endpoint: '/run/mysqld/mysqld.sock',
          pid: 10,
        },
        {
          id: 'nginx/8080',
          service: 'nginx',
          state: 'running',
          confidence: expect.any(Number),
          endpoint: '[::1]:8080',
          version: '1.22.1',
          pid: 20,
        },
        { id: 'redis/pid30', service: 'redis', state: 'running', confidence: 0.4, pid: 30 },
      ],
      problems: 0,
    });
  });
});

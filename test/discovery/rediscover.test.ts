/**
 * The Rediscoverer over a fixture host that changes between runs, on a
 * manual clock: a service that starts is reported at the next run (one
 * interval, not sooner), one that stops disappears, a restart is a change;
 * shutdown is safe twice and stops the runs.
 */

import { once } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { Rediscoverer } from '../../src/discovery/rediscover.js';
import type { DiscoveredService } from '../../src/discovery/types.js';
import { HostFixture } from './fixture.js';

let fx: HostFixture | undefined;
let rd: Rediscoverer | undefined;
afterEach(async () => {
  await rd?.shutdown();
  fx?.remove();
  fx = undefined;
  rd = undefined;
});

const INTERVAL = 30_000;

function recorder(r: Rediscoverer) {
  const log: string[] = [];
  r.on('appeared', (s: DiscoveredService) => log.push(`+${s.id}`));
  r.on('disappeared', (s: DiscoveredService) => log.push(`-${s.id}`));
  r.on('changed', (s: DiscoveredService, b: DiscoveredService) => log.push(`~${s.id} pid ${b.pid}->${s.pid}`));
  return log;
}

describe('Rediscoverer', () => {
  it('reports a service that starts within one interval, and one that stops or restarts', async () => {
    fx = new HostFixture();
    fx.proc({
      pid: 10,
      comm: 'redis-server',
      argv: ['redis-server 127.0.0.1:6379'],
      exe: '/usr/bin/redis-server',
      sockets: [1],
    }).listen({ transport: 'tcp', address: '127.0.0.1', port: 6379, inode: 1 });
    const clock = new ManualClock({ autoAdvance: false });
    rd = new Rediscoverer({ intervalMs: INTERVAL, discover: { root: fx.root }, clock });
    const log = recorder(rd);
    await rd.start();
    expect(log).toEqual(['+redis/6379']);
    expect(rd.latest()?.services.map((s) => s.id)).toEqual(['redis/6379']);

    // nginx starts; nothing runs before the interval is up
    fx.proc({
      pid: 20,
      comm: 'nginx',
      argv: ['nginx: master process /usr/sbin/nginx'],
      exe: '/usr/sbin/nginx',
      sockets: [2],
    }).listen({ transport: 'tcp', address: '0.0.0.0', port: 8080, inode: 2 });
    clock.advance(INTERVAL - 1);
    await new Promise((r) => setImmediate(r));
    expect(rd.completedRuns).toBe(1);
    const next = once(rd, 'result');
    clock.advance(1);
    await next;
    expect(rd.completedRuns).toBe(2);
    expect(log).toEqual(['+redis/6379', '+nginx/8080']);

    // redis stops, nginx restarts under another pid
    fs.rmSync(path.join(fx.root, 'proc/10'), { recursive: true });
    fx.unlisten(1);
    fs.rmSync(path.join(fx.root, 'proc/20'), { recursive: true });
    fx.proc({
      pid: 21,
      comm: 'nginx',
      argv: ['nginx: master process /usr/sbin/nginx'],
      exe: '/usr/sbin/nginx',
      sockets: [2],
    });
    const third = once(rd, 'result');
    clock.advance(INTERVAL);
    await third;
    expect(log.slice(2).sort()).toEqual(['-redis/6379', '~nginx/8080 pid 20->21']);
  });

  it('shuts down safely twice; no run after shutdown; runOnce serialises with the loop', async () => {
    fx = new HostFixture();
    const clock = new ManualClock({ autoAdvance: false });
    rd = new Rediscoverer({ intervalMs: INTERVAL, discover: { root: fx.root }, clock });
    await rd.start();
    await rd.start(); // a second start is a no-op
    const [a, b] = await Promise.all([rd.runOnce(), rd.runOnce()]);
    expect(a.services).toEqual([]);
    expect(b.services).toEqual([]);
    expect(rd.completedRuns).toBe(3);
    await rd.shutdown();
    await rd.shutdown();
    clock.advance(10 * INTERVAL);
    await new Promise((r) => setImmediate(r));
    expect(rd.completedRuns).toBe(3);
    expect(clock.pending).toBe(0);
  });

  it('repeats template problems in every result and keeps running when a run fails', async () => {
    fx = new HostFixture();
    const tdir = path.join(fx.root, 'templates');
    fs.mkdirSync(tdir);
    fs.writeFileSync(path.join(tdir, 'bad.yaml'), 'service: [\n');
    const clock = new ManualClock({ autoAdvance: false });
    rd = new Rediscoverer({ intervalMs: INTERVAL, discover: { root: fx.root, templateDir: tdir }, clock });
    const failures: Error[] = [];
    rd.on('failed', (e) => failures.push(e));
    await rd.start();
    expect(rd.latest()?.problems).toContainEqual(
      expect.objectContaining({ kind: 'template', file: path.join(tdir, 'bad.yaml') }),
    );
    // the proc tree vanishes: that run fails, the next one runs again
    fs.renameSync(path.join(fx.root, 'proc'), path.join(fx.root, 'proc.away'));
    const failed = once(rd, 'failed');
    clock.advance(INTERVAL);
    await failed;
    fs.renameSync(path.join(fx.root, 'proc.away'), path.join(fx.root, 'proc'));
    const ok = once(rd, 'result');
    clock.advance(INTERVAL);
    await ok;
    expect(failures).toHaveLength(1);
    expect(rd.latest()?.problems).toContainEqual(expect.objectContaining({ kind: 'template' }));
  });

  it('refuses an interval that is not positive', () => {
    expect(() => new Rediscoverer({ intervalMs: 0 })).toThrow(/discovery interval must be positive/);
  });
});

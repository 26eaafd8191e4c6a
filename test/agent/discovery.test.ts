/**
 * Discovery as the agent runs it (AgentDiscovery over a fixture host, on a
 * manual clock): start does not wait for the first run; the views (pids for
 * classification, OTLP resources, status, /metrics families) follow each
 * result; a failing run is counted and logged once per window, keeps the
 * previous result, and the next working run is said to work again.
 */
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentDiscovery, discoveryDecision } from '../../src/agent/discovery.js';
import { ManualClock } from '../../src/core/clock.js';
import type { DiscoverOptions } from '../../src/discovery/discover.js';
import { discover } from '../../src/discovery/discover.js';
import { HostFixture } from '../discovery/fixture.js';
import { attr, pointValue } from '../helpers/otlp-file.js';

interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}
function capture() {
  const lines: LogLine[] = [];
  return { logger: pino({ level: 'debug' }, { write: (s: string) => lines.push(JSON.parse(s) as LogLine) }), lines };
}

let fx: HostFixture | undefined;
let ad: AgentDiscovery | undefined;
afterEach(async () => {
  await ad?.shutdown();
  fx?.remove();
  fx = undefined;
  ad = undefined;
});

const INTERVAL = 30_000;

function redisHost(): HostFixture {
  const h = new HostFixture();
  h.file('/etc/redis/redis.conf', 'port 6379\nbind 127.0.0.1\n')
    .proc({
      pid: 10,
      comm: 'redis-server',
      argv: ['/usr/bin/redis-server 127.0.0.1:6379'],
      exe: '/usr/bin/redis-server',
      sockets: [1],
    })
    .listen({ transport: 'tcp', address: '127.0.0.1', port: 6379, inode: 1 });
  return h;
}

function make(
  h: HostFixture,
  o: { run?: (x: DiscoverOptions) => ReturnType<typeof discover>; clock?: ManualClock } = {},
) {
  const { logger, lines } = capture();
  const clock = o.clock ?? new ManualClock({ autoAdvance: false });
  const d = new AgentDiscovery({
    settings: { root: h.root, intervalMs: INTERVAL, minConfidence: 0.5 },
    procRoot: path.join(h.root, 'proc'),
    logger,
    clock,
    run: o.run,
    failureLogMs: 10 * INTERVAL,
  });
  return { d, lines, clock };
}

const family = (d: AgentDiscovery, name: string) => d.families().find((f) => f.name === name)!;
const sample = (d: AgentDiscovery, name: string, labels?: Record<string, string>) =>
  (family(d, name).samples as { labels?: Record<string, string>; value: number }[]).find(
    (s) => JSON.stringify(s.labels ?? {}) === JSON.stringify(labels ?? {}),
  )?.value;

describe('discoveryDecision', () => {
  const live = { procRoot: '/proc', scanning: true, flagOff: false };
  it.each([
    [{ enabled: 'auto', root: '/' }, live, true, 'auto: scanning /proc'],
    [{ enabled: 'auto', root: '/' }, { ...live, flagOff: true }, false, '--no-discovery'],
    [{ enabled: true, root: '/' }, { ...live, flagOff: true }, false, '--no-discovery'],
    [{ enabled: false, root: '/' }, live, false, 'discovery.enabled is false'],
    [{ enabled: 'auto', root: '/' }, { ...live, scanning: false }, false, 'auto: --no-scan'],
    [
      { enabled: 'auto', root: '/' },
      { ...live, procRoot: '/tmp/synth' },
      false,
      'auto: --proc-root /tmp/synth is not /proc',
    ],
    [{ enabled: 'auto', root: '/host' }, { ...live, procRoot: '/host/proc' }, true, 'auto: scanning /host/proc'],
    [{ enabled: true, root: '/' }, { ...live, procRoot: '/tmp/synth' }, true, 'discovery.enabled is true'],
  ] as const)('%j %j → %s', (s, agent, on, why) => {
    const d = discoveryDecision(s, agent);
    expect(d.on).toBe(on);
    expect(d.why.startsWith(why)).toBe(true);
  });
});

describe('AgentDiscovery', () => {
  it('starts without waiting for the first run, then serves what it found', async () => {
    fx = redisHost();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const { d, lines } = make(fx, {
      run: async (o) => {
        await gate; // the first run is slow
        return discover(o);
      },
    });
    ad = d;
    d.start(); // returns at once
    expect(d.status()).toMatchObject({ enabled: true, runs: 0, at: null, services: [] });
    expect(d.importantPids().size).toBe(0);
    expect(d.resources({ nowMs: 1, hostName: 'h' })).toEqual([]);
    expect(sample(d, 'nrdot.discovery.services', { state: 'running' })).toBe(0);

    const first = once(d.rediscoverer, 'result');
    release();
    await first;
    const st = d.status();
    expect(st).toMatchObject({ enabled: true, runs: 1, failedRuns: 0, intervalSec: 30, minConfidence: 0.5 });
    if (!st.enabled || st.at === null) throw new Error('no result');
    expect(st.services).toEqual([
      expect.objectContaining({
        id: 'redis/6379',
        service: 'redis',
        state: 'running',
        endpoint: '127.0.0.1:6379',
        pid: 10,
      }),
    ]);
    expect([...d.importantPids()]).toEqual([10]);
    const [rm, ...more] = d.resources({ nowMs: 1_790_000_000_000, hostName: 'node-1' });
    expect(more).toEqual([]);
    expect(attr(rm!, 'service.name')).toBe('redis');
    expect(attr(rm!, 'server.port')).toBe(6379);
    expect(attr(rm!, 'host.name')).toBe('node-1');
    expect(pointValue(rm!, 'nrdot.discovery.service.up')).toBe(1);
    expect(sample(d, 'nrdot.discovery.services', { state: 'running' })).toBe(1);
    expect(sample(d, 'nrdot.discovery.changes', { change: 'appeared' })).toBe(1);
    expect(sample(d, 'nrdot.discovery.runs', { result: 'ok' })).toBe(1);
    expect(sample(d, 'nrdot.discovery.pids')).toBe(1);
    expect(lines.filter((l) => l.msg === 'service appeared').map((l) => l.id)).toEqual(['redis/6379']);
  });

  it('a failing run is counted, logged once per window, keeps the last result; recovery is logged', async () => {
    fx = redisHost();
    let fail = false;
    const { d, lines, clock } = make(fx, {
      run: (o) => (fail ? Promise.reject(new Error('proc vanished under us')) : discover(o)),
    });
    ad = d;
    d.start();
    await once(d.rediscoverer, 'result');
    fail = true;
    for (let i = 0; i < 3; i++) {
      const failed = once(d.rediscoverer, 'failed');
      clock.advance(INTERVAL);
      await failed;
    }
    expect(d.rediscoverer.failedRuns).toBe(3);
    expect(sample(d, 'nrdot.discovery.runs', { result: 'failed' })).toBe(3);
    expect(d.status()).toMatchObject({ runs: 1, failedRuns: 3, lastError: 'proc vanished under us' });
    // the last result stands: classification and resources go on
    expect([...d.importantPids()]).toEqual([10]);
    expect(d.resources({ nowMs: 1, hostName: 'h' })).toHaveLength(1);
    const errors = lines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1); // three failures, one line in the window
    expect(errors[0]!.msg).toMatch(/service discovery failed/);

    // ten intervals later, still failing: one more line, saying how many were not logged
    for (let i = 0; i < 10; i++) {
      const failed = once(d.rediscoverer, 'failed');
      clock.advance(INTERVAL);
      await failed;
    }
    const again = lines.filter((l) => l.level === 50);
    expect(again).toHaveLength(2);
    expect(again[1]!.msg).toMatch(/\d+ more failures since the last one logged/);

    fail = false;
    const ok = once(d.rediscoverer, 'result');
    clock.advance(INTERVAL);
    await ok;
    expect(lines.some((l) => l.msg === 'service discovery works again')).toBe(true);
    expect(d.status()).not.toHaveProperty('lastError');
    expect(sample(d, 'nrdot.discovery.runs', { result: 'ok' })).toBe(2);
  });

  it('counts services that disappear and change; a malformed /proc/net line is a problem, not a failure', async () => {
    fx = redisHost();
    const { d, clock } = make(fx);
    ad = d;
    d.start();
    await once(d.rediscoverer, 'result');
    // redis restarts under another pid: a change, and the new pid is the one classified
    fs.rmSync(path.join(fx.root, 'proc/10'), { recursive: true });
    fx.proc({
      pid: 11,
      comm: 'redis-server',
      argv: ['/usr/bin/redis-server 127.0.0.1:6379'],
      exe: '/usr/bin/redis-server',
      sockets: [1],
    });
    const restarted = once(d.rediscoverer, 'result');
    clock.advance(INTERVAL);
    await restarted;
    expect(sample(d, 'nrdot.discovery.changes', { change: 'changed' })).toBe(1);
    expect([...d.importantPids()]).toEqual([11]);
    // redis stops; a garbled tcp table appears
    fs.rmSync(path.join(fx.root, 'proc/11'), { recursive: true });
    fx.unlisten(1);
    fx.rawNet('tcp', `${fs.readFileSync(path.join(fx.root, 'proc/net/tcp'), 'utf8')}   7: garbage line\n`);
    const next = once(d.rediscoverer, 'result');
    clock.advance(INTERVAL);
    await next;
    expect(sample(d, 'nrdot.discovery.changes', { change: 'disappeared' })).toBe(1);
    expect(d.importantPids().size).toBe(0);
    expect(d.resources({ nowMs: 1, hostName: 'h' })).toEqual([]);
    const st = d.status();
    expect(st).toMatchObject({ runs: 3, failedRuns: 0, services: [] });
    expect(st.enabled && st.problems).toBeGreaterThan(0);
    expect(d.latest()?.problems).toContainEqual(
      expect.objectContaining({ kind: 'malformed', file: path.join(fx.root, 'proc/net/tcp'), line: 2 }),
    );
  });

  it('shutdown during the first run waits for it and is safe twice', async () => {
    fx = redisHost();
    const { d } = make(fx);
    d.start();
    await d.shutdown();
    await d.shutdown();
    expect(d.rediscoverer.completedRuns).toBe(1);
  });
});

/**
 * The host shapes: each is exactly N processes that the TypeScript reader
 * reads back as the truth says, every process has a cgroup file in the
 * kernel's format that agrees with the truth, and each shape has the
 * structure it claims.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateHost,
  type ProcessTruth,
  readState,
  readTruth,
  type Shape,
  type SynthTruth,
} from '../../../src/harness/synth/index.js';
import { ProcfsReader } from '../../../src/sources/procfs/reader.js';
import { parseCgroupFile, SYSTEMD_PATH } from '../../helpers/cgroup-format.js';
import { expectBatchMatchesTruth, mkTmp, rmTmp } from '../../helpers/synth.js';

const N = 3000;
const SHAPED: Exclude<Shape, 'mixed'>[] = ['web', 'k8s', 'ci', 'db', 'idle'];
const UNREADABLE = 0.01;

let tmp: string;
const hosts = new Map<Shape, { dir: string; truth: SynthTruth }>();

beforeAll(async () => {
  tmp = mkTmp();
  for (const [i, shape] of SHAPED.entries()) {
    const dir = path.join(tmp, shape);
    const truth = await generateHost({ out: dir, processes: N, seed: 40 + i, shape, cgroupUnreadable: UNREADABLE });
    hosts.set(shape, { dir, truth });
  }
}, 300_000);
afterAll(() => rmTmp(tmp));

const host = (s: Shape) => hosts.get(s) as { dir: string; truth: SynthTruth };
const byPidOf = (t: SynthTruth) => new Map(t.processes.map((p) => [p.pid, p]));

// Names the default classification puts in each tier (configs/default.yaml).
const CRITICAL = /^(postgres|mysqld|redis-server|memcached|nginx|httpd|containerd|dockerd|kubelet|kube-proxy|envoy)$/;
const IMPORTANT =
  /^(systemd|systemd-journal|sshd|cron|rsyslogd|chronyd|php-fpm.*|celery|gunicorn|uwsgi|node|java|containerd-shim|node_exporter)$/;
const NOISE = /^(bash|sh|zsh|dash|sleep|grep|awk|sed|cat|ps|find|tail|less|top|htop|watch|du|tmux.*|screen|agetty)$/;

describe.each(SHAPED)('%s host', (shape) => {
  it('has exactly N processes, read back by ProcfsReader field by field', () => {
    const { dir, truth } = host(shape);
    expect(truth.shape).toBe(shape);
    expect(truth.processes.length).toBe(N);
    const b = new ProcfsReader({ procRoot: dir }).scan();
    expect(b.count).toBe(N);
    expectBatchMatchesTruth(b, truth);
  });

  it('returns the truth readTruth reads back', async () => {
    const { dir, truth } = host(shape);
    expect(await readTruth(dir)).toEqual(truth);
  });

  it('writes every cgroup file in the v2 format, with the truth lines; the unreadable share is a directory', () => {
    const { dir, truth } = host(shape);
    let unreadable = 0;
    for (const p of truth.processes) {
      const file = path.join(dir, String(p.pid), 'cgroup');
      if (!p.cgroupReadable) {
        unreadable++;
        expect(fs.statSync(file).isDirectory(), `pid ${p.pid}`).toBe(true);
        expect(() => fs.readFileSync(file), `pid ${p.pid}`).toThrow(expect.objectContaining({ code: 'EISDIR' }));
        continue;
      }
      const text = fs.readFileSync(file, 'utf8');
      const entries = parseCgroupFile(text, 2);
      expect(text, `pid ${p.pid}`).toBe(`${p.cgroup.join('\n')}\n`);
      expect(entries[0].path).toBe(p.cgroupPath);
      expect(p.cgroupPath, `pid ${p.pid} (${p.comm})`).toMatch(SYSTEMD_PATH);
    }
    // about 1% (a binomial draw over 3000 processes)
    expect(unreadable).toBeGreaterThan(N * UNREADABLE * 0.4);
    expect(unreadable).toBeLessThan(N * UNREADABLE * 2);
  });

  it('is a consistent host: systemd in /init.scope, kernel threads in /, parents started first', () => {
    const { truth } = host(shape);
    const byPid = byPidOf(truth);
    expect(byPid.get(1)).toMatchObject({ comm: 'systemd', ppid: 0, cgroupPath: '/init.scope', unit: 'init.scope' });
    expect(byPid.get(2)).toMatchObject({ comm: 'kthreadd', kernel: true, cgroupPath: '/' });
    const kernel = truth.processes.filter((p) => p.kernel);
    expect(kernel.length / N).toBeGreaterThan(0.02);
    expect(kernel.length / N).toBeLessThan(0.25);
    for (const p of truth.processes) {
      if (p.pid <= 2) continue;
      const parent = byPid.get(p.ppid);
      expect(parent, `parent of ${p.pid}`).toBeDefined();
      expect(p.starttimeTicks).toBeGreaterThanOrEqual(parent?.starttimeTicks ?? 0);
      expect(p.kernel).toBe(p.ppid === 2);
      if (p.kernel) expect([p.cgroupPath, p.unit, p.pool]).toEqual(['/', null, null]);
      // a process sits in its parent's cgroup, or in one of its own: a unit, a session, a container
      if (!p.kernel && p.ppid !== 1 && p.cgroupPath !== parent?.cgroupPath)
        expect(p.containerId !== null || /\.(service|scope)$/.test(p.cgroupPath), `pid ${p.pid}`).toBe(true);
      if (!p.kernel && p.state !== 'Z') expect(p.rssBytes).toBeGreaterThan(0);
    }
  });

  it('has processes of every tier for classification to sort', () => {
    const { truth } = host(shape);
    const comms = truth.processes.filter((p) => !p.kernel).map((p) => p.comm);
    expect(comms.filter((c) => CRITICAL.test(c)).length, 'critical').toBeGreaterThan(0);
    expect(comms.filter((c) => IMPORTANT.test(c)).length, 'important').toBeGreaterThan(0);
    expect(comms.filter((c) => NOISE.test(c)).length, 'noise').toBeGreaterThan(0);
    expect(
      comms.filter((c) => !CRITICAL.test(c) && !IMPORTANT.test(c) && !NOISE.test(c)).length,
      'standard',
    ).toBeGreaterThan(0);
    for (const c of ['systemd-journal', 'sshd', 'cron']) expect(comms, c).toContain(c);
  });

  it('gives unit, container id, pod uid and pool that agree with the cgroup path', () => {
    const { truth } = host(shape);
    const pools = new Map<string, ProcessTruth[]>();
    for (const p of truth.processes) {
      const cp = p.cgroupPath;
      if (p.containerId) expect(cp).toContain(p.containerId);
      if (p.podUid) expect(cp).toContain(`pod${p.podUid.replace(/-/g, '_')}`);
      else expect(cp).not.toContain('kubepods');
      if (p.unit)
        expect(cp.endsWith(`/${p.unit}`) || cp.endsWith(`/${p.unit}/init.scope`), `${p.pid} ${cp}`).toBe(true);
      expect(p.cgroup).toEqual([`0::${cp}`]);
      if (p.pool) {
        const list = pools.get(p.pool) ?? [];
        list.push(p);
        pools.set(p.pool, list);
        expect(p.pool.endsWith(`@${p.containerId ?? p.unit}`), p.pool).toBe(true);
      }
    }
    // A pool is one executable in one cgroup.
    for (const [name, members] of pools) {
      expect(new Set(members.map((m) => m.cgroupPath)).size, name).toBe(1);
      expect(new Set(members.map((m) => m.exe)).size, name).toBe(1);
    }
    if (shape !== 'idle' && shape !== 'ci') expect(pools.size).toBeGreaterThan(2);
  });
});

describe('the structure each shape claims', () => {
  it('web: worker pools dominate; flat pools of >= 50 workers under pid 1 or supervisord, and pools under their master', () => {
    const { truth } = host('web');
    const byPid = byPidOf(truth);
    const pools = new Map<string, ProcessTruth[]>();
    for (const p of truth.processes) if (p.pool) pools.set(p.pool, [...(pools.get(p.pool) ?? []), p]);
    const inPools = [...pools.values()].reduce((a, m) => a + m.length, 0);
    expect(inPools / N).toBeGreaterThan(0.6);
    const workersOf = (m: ProcessTruth[]) => m.filter((p) => p.role.endsWith('-worker'));
    const flat = [...pools.entries()].filter(([, m]) => {
      const w = workersOf(m);
      return w.length >= 50 && w.every((p) => p.ppid === 1 || byPid.get(p.ppid)?.comm === 'supervisord');
    });
    expect(flat.map(([k]) => k.split('@')[0]).sort()).toEqual(expect.arrayContaining(['celery', 'uwsgi']));
    expect(flat.some(([, m]) => workersOf(m).every((p) => p.ppid === 1))).toBe(true);
    const underMaster = [...pools.values()].filter((m) => {
      const w = workersOf(m);
      return w.length >= 20 && w.every((p) => byPid.get(p.ppid)?.role.endsWith('-master'));
    });
    expect(underMaster.length).toBeGreaterThan(0);
    const fpm = [...pools.keys()].filter((k) => k.startsWith('php-fpm@'));
    expect(fpm.length).toBeGreaterThan(0);
    // php-fpm: about 200 workers per master at 6,000 processes, 100 at 3,000
    const biggest = Math.max(...fpm.map((k) => workersOf(pools.get(k) ?? []).length));
    expect(biggest).toBeGreaterThanOrEqual(60);
  });

  it('k8s: one shim per pod, a pause per pod, 1-4 app containers, every container process names its pod', () => {
    const { truth } = host('k8s');
    const byPid = byPidOf(truth);
    const pods = new Map<string, ProcessTruth[]>();
    for (const p of truth.processes) {
      if (p.containerId) {
        expect(p.podUid, `pid ${p.pid} is in a container but not in a pod`).not.toBeNull();
        expect(p.cgroupPath).toContain(
          `-pod${p.podUid?.replace(/-/g, '_')}.slice/cri-containerd-${p.containerId}.scope`,
        );
      }
      if (p.podUid) pods.set(p.podUid, [...(pods.get(p.podUid) ?? []), p]);
    }
    expect(pods.size).toBeGreaterThanOrEqual(50);
    const shims = truth.processes.filter((p) => p.role === 'containerd-shim');
    expect(shims.length).toBe(pods.size);
    const sandboxOf = new Map(shims.map((s) => [s.argv[s.argv.indexOf('-id') + 1], s]));
    for (const s of shims) {
      expect(s.ppid).toBe(1);
      expect(s.cgroupPath).toBe('/system.slice/containerd.service');
    }
    for (const [uid, members] of pods) {
      const pauses = members.filter((p) => p.role === 'pause');
      expect(pauses.length, uid).toBe(1);
      const shim = sandboxOf.get(pauses[0].containerId ?? '');
      expect(shim, `the shim of pod ${uid}`).toBeDefined();
      // every container's first process is a child of the pod's shim
      const containers = new Set(members.map((p) => p.containerId));
      expect(containers.size - 1, uid).toBeGreaterThanOrEqual(1);
      expect(containers.size - 1, uid).toBeLessThanOrEqual(4);
      for (const p of members) {
        const parent = byPid.get(p.ppid);
        if (parent?.containerId !== p.containerId) expect(p.ppid, `pid ${p.pid}`).toBe(shim?.pid);
      }
    }
    expect(truth.processes.some((p) => p.comm === 'kubelet' && p.unit === 'kubelet.service')).toBe(true);
    expect(truth.processes.some((p) => p.pool?.startsWith('gunicorn@'))).toBe(true);
  });

  it('ci: mostly short-lived compilers and test workers inside running jobs', () => {
    const { dir, truth } = host('ci');
    const st = readState(dir);
    const shortLived = st.procs.filter((p) => p.m.ephemeral).length;
    expect(shortLived / N).toBeGreaterThan(0.5);
    const jobs = truth.processes.filter((p) => p.role === 'job-shell');
    expect(jobs.length).toBeGreaterThanOrEqual(30);
    expect(jobs.some((j) => j.containerId !== null && j.unit?.startsWith('docker-'))).toBe(true);
    expect(jobs.some((j) => j.unit === 'gitlab-runner.service')).toBe(true);
    for (const r of ['cc1plus', 'jest-worker', 'go-compile', 'rustc', 'pytest-worker'])
      expect(
        truth.processes.some((p) => p.role === r),
        r,
      ).toBe(true);
    expect(truth.processes.some((p) => p.comm === 'dockerd')).toBe(true);
  });

  it('db: hundreds of backends under their postmaster, pgbouncer, a mysqld and backups', () => {
    const { truth } = host('db');
    const byPid = byPidOf(truth);
    const backends = truth.processes.filter(
      (p) => p.role === 'postgres-backend' && byPid.get(p.ppid)?.role === 'postgres-postmaster',
    );
    expect(backends.length).toBeGreaterThanOrEqual(80);
    const perCluster = new Map<number, number>();
    for (const b of backends) perCluster.set(b.ppid, (perCluster.get(b.ppid) ?? 0) + 1);
    expect(Math.max(...perCluster.values())).toBeGreaterThanOrEqual(40);
    for (const b of backends) expect(b.pool).toBe(byPid.get(b.ppid)?.pool);
    expect(backends[0].pool).toMatch(/^postgres@postgresql@1[456]-[a-z0-9]+\.service$/);
    for (const c of ['pgbouncer', 'mysqld'])
      expect(
        truth.processes.some((p) => p.comm === c),
        c,
      ).toBe(true);
  });

  it('idle: thousands of shells and sleepers at scale, little CPU', () => {
    const { truth } = host('idle');
    const shells = truth.processes.filter((p) => p.category === 'shell').length;
    const sleepers = truth.processes.filter((p) => p.role === 'sleep').length;
    expect(shells / N).toBeGreaterThan(0.18);
    expect(sleepers / N).toBeGreaterThan(0.3);
    // sleepers left behind by closed logins: children of pid 1, still in their session scope
    expect(
      truth.processes.some((p) => p.role === 'sleep' && p.ppid === 1 && /session-\d+\.scope$/.test(p.cgroupPath)),
    ).toBe(true);
    const sessions = new Set(truth.processes.map((p) => p.unit).filter((u) => u?.startsWith('session-')));
    expect(sessions.size).toBeGreaterThan(100);
  });
});

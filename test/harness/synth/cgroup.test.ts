/**
 * cgroup files in legacy (v1) form, the mixed host's cgroups, hosts of any
 * size for every shape, and bad options.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  advanceHost,
  generateHost,
  readTruth,
  SHAPES,
  type Shape,
  STATE_FILE,
  type SynthTruth,
} from '../../../src/harness/synth/index.js';
import { ProcfsReader } from '../../../src/sources/procfs/reader.js';
import { CGROUPFS_PATH, parseCgroupFile, SYSTEMD_PATH } from '../../helpers/cgroup-format.js';
import { expectBatchMatchesTruth, mkTmp, rmTmp } from '../../helpers/synth.js';

let tmp: string;
const v1 = new Map<Shape, { dir: string; truth: SynthTruth }>();

beforeAll(async () => {
  tmp = mkTmp();
  for (const shape of ['k8s', 'ci', 'mixed'] as const) {
    const dir = path.join(tmp, `v1-${shape}`);
    v1.set(shape, { dir, truth: await generateHost({ out: dir, processes: 700, seed: 3, shape, cgroupVersion: 1 }) });
  }
}, 120_000);
afterAll(() => rmTmp(tmp));

const hierarchy = (lines: string[], controller: string) =>
  lines.map((l) => l.split(':')).find(([, c]) => c.split(',').includes(controller))?.[2];

describe('cgroup v1 (legacy hierarchies)', () => {
  it.each(['k8s', 'ci', 'mixed'] as const)('%s: every file has the twelve hierarchies, as the truth says', (shape) => {
    const { dir, truth } = v1.get(shape) as { dir: string; truth: SynthTruth };
    expect(truth.cgroupVersion).toBe(1);
    for (const p of truth.processes) {
      const text = fs.readFileSync(path.join(dir, String(p.pid), 'cgroup'), 'utf8');
      const entries = parseCgroupFile(text, 1);
      expect(entries.map((e) => e.id)).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
      expect(text).toBe(`${p.cgroup.join('\n')}\n`);
      const named = entries.find((e) => e.controllers[0] === 'name=systemd')?.path;
      expect(named).toBe(p.cgroupPath);
      expect(hierarchy(p.cgroup, 'pids')).toBe(p.cgroupPath);
      expect(hierarchy(p.cgroup, 'memory')).toBe(p.cgroupPath);
      expect(hierarchy(p.cgroup, 'rdma')).toBe('/');
      if (p.kernel) {
        expect(entries.every((e) => e.path === '/')).toBe(true);
      } else if (p.containerId) {
        // the cgroupfs driver: the container's path in every hierarchy it manages
        expect(p.cgroupPath).toMatch(CGROUPFS_PATH);
        expect(hierarchy(p.cgroup, 'cpuset')).toBe(p.cgroupPath);
        expect(hierarchy(p.cgroup, 'cpu')).toBe(p.cgroupPath);
        expect(p.unit).toBeNull();
        if (p.podUid) expect(p.cgroupPath).toContain(`/pod${p.podUid}/${p.containerId}`);
        else expect(p.cgroupPath).toBe(`/docker/${p.containerId}`);
      } else {
        // systemd: the unit in pids/memory/devices/name=systemd, the slice in cpu and blkio, `/` elsewhere
        expect(p.cgroupPath).toMatch(SYSTEMD_PATH);
        expect(hierarchy(p.cgroup, 'cpuset')).toBe('/');
        expect(hierarchy(p.cgroup, 'cpu')).toBe(p.pid === 1 ? '/' : `/${p.cgroupPath.split('/')[1]}`);
      }
    }
  });

  it('k8s v1: pod processes sit under /kubepods/<qos>/pod<uid>/<container id>', () => {
    const { truth } = v1.get('k8s') as { dir: string; truth: SynthTruth };
    const pods = truth.processes.filter((p) => p.podUid !== null);
    expect(pods.length).toBeGreaterThan(50);
    expect(pods.some((p) => p.cgroupPath.startsWith('/kubepods/burstable/pod'))).toBe(true);
    expect(truth.processes.find((p) => p.comm === 'kubelet')?.cgroup).toContain(
      '12:pids:/system.slice/kubelet.service',
    );
  });

  it('reads back through ProcfsReader like v2', () => {
    const { dir, truth } = v1.get('ci') as { dir: string; truth: SynthTruth };
    expectBatchMatchesTruth(new ProcfsReader({ procRoot: dir }).scan(), truth);
  });

  it('advance writes v1 files for new processes', async () => {
    const { dir } = v1.get('ci') as { dir: string; truth: SynthTruth };
    const r = await advanceHost({ dir, seconds: 5 });
    expect(r.spawned.length).toBeGreaterThan(0);
    for (const pid of r.spawned) parseCgroupFile(fs.readFileSync(path.join(dir, String(pid), 'cgroup'), 'utf8'), 1);
  });
});

describe('the mixed host', () => {
  it('gets cgroups too: services in their units, logins in session scopes, containers in their scopes', async () => {
    const dir = path.join(tmp, 'mixed-v2');
    const truth = await generateHost({ out: dir, processes: 500, seed: 7 });
    expect(truth.shape).toBe('mixed');
    expect(truth.cgroupVersion).toBe(2);
    for (const p of truth.processes) {
      expect(p.cgroupPath, `${p.pid} ${p.comm}`).toMatch(SYSTEMD_PATH);
      expect(p.cgroupReadable).toBe(true);
      expect(fs.readFileSync(path.join(dir, String(p.pid), 'cgroup'), 'utf8')).toBe(`0::${p.cgroupPath}\n`);
    }
    const unitOf = (comm: string) => truth.processes.find((p) => p.comm === comm)?.unit;
    expect(unitOf('systemd-journal')).toBe('systemd-journald.service');
    expect(unitOf('sshd')).toBe('ssh.service');
    expect(unitOf('containerd')).toBe('containerd.service');
    expect(truth.processes.find((p) => p.role === 'postgres-backend')?.pool).toMatch(
      /^postgres@postgresql@1[456]-main/,
    );
    expect(truth.processes.some((p) => p.role === 'login-shell' && /^session-\d+\.scope$/.test(p.unit ?? ''))).toBe(
      true,
    );
    expect(truth.processes.some((p) => p.role === 'pause' && p.podUid !== null)).toBe(true);
    expect(truth.processes.find((p) => p.comm === 'agetty' && p.cgroupPath.includes('serial'))?.cgroupPath).toBe(
      '/system.slice/system-serial\\x2dgetty.slice/serial-getty@ttyS0.service',
    );
    rmTmp(dir);
  });
});

describe('every shape, any size', () => {
  it.each(SHAPES)('%s fills exactly N processes for small and odd N', async (shape) => {
    const dir = path.join(tmp, `small-${shape}`);
    for (const n of [1, 2, 3, 7, 40, 157]) {
      const t = await generateHost({ out: dir, processes: n, seed: n, shape });
      expect(t.processes.length, `${shape} ${n}`).toBe(n);
      expect(fs.readdirSync(dir).filter((e) => /^\d+$/.test(e)).length).toBe(n);
      expect(t.processes.find((p) => p.pid === 1)?.comm).toBe('systemd');
      for (const p of t.processes) expect(fs.existsSync(path.join(dir, String(p.pid), 'cgroup'))).toBe(true);
    }
    rmTmp(dir);
  });

  it('is deterministic for a seed and a shape', async () => {
    const a = await generateHost({ out: path.join(tmp, 'det-a'), processes: 300, seed: 11, shape: 'k8s' });
    const b = await generateHost({ out: path.join(tmp, 'det-b'), processes: 300, seed: 11, shape: 'k8s' });
    const c = await generateHost({ out: path.join(tmp, 'det-c'), processes: 300, seed: 11, shape: 'web' });
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    for (const d of ['det-a', 'det-b', 'det-c']) rmTmp(path.join(tmp, d));
  });
});

describe('bad input', () => {
  it('refuses an unknown shape, a cgroup version other than 1 or 2, and an unreadable share outside [0, 1]', async () => {
    const dir = path.join(tmp, 'bad');
    await expect(generateHost({ out: dir, processes: 10, shape: 'cloud' as Shape })).rejects.toThrow(
      /unknown shape cloud \(one of mixed, web, k8s, ci, db, idle\)/,
    );
    await expect(generateHost({ out: dir, processes: 10, cgroupVersion: 3 as 1 })).rejects.toThrow(/cgroup version/);
    await expect(generateHost({ out: dir, processes: 10, cgroupUnreadable: 1.5 })).rejects.toThrow(/unreadable/);
    await expect(generateHost({ out: dir, processes: 10, cgroupUnreadable: Number.NaN })).rejects.toThrow(/unreadable/);
  });

  it('says to regenerate a tree whose state file predates shapes', async () => {
    const dir = path.join(tmp, 'old');
    await generateHost({ out: dir, processes: 20, seed: 1 });
    const file = path.join(dir, STATE_FILE);
    const st = JSON.parse(fs.readFileSync(file, 'utf8'));
    delete st.shape;
    delete st.cgroup;
    fs.writeFileSync(file, JSON.stringify(st));
    await expect(readTruth(dir)).rejects.toThrow(/\(written by an older nrdot\): generate the tree again/);
    await expect(advanceHost({ dir, seconds: 1 })).rejects.toThrow(file);
  });
});

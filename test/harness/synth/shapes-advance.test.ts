/**
 * `advance` on every shape: the clock moves, processes come and go the way
 * the shape says (CI: heavy; k8s: whole pods; web: recycled workers; idle:
 * little), new processes get cgroup files, pids are reused, and the tree
 * still reads back as the truth says.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AdvanceResult,
  advanceHost,
  DEFAULT_CHURN,
  generateHost,
  type ProcessTruth,
  readState,
  type Shape,
  type SynthTruth,
} from '../../../src/harness/synth/index.js';
import { FLAG_NEW_IDENTITY } from '../../../src/sources/batch.js';
import { ProcfsReader } from '../../../src/sources/procfs/reader.js';
import { parseCgroupFile } from '../../helpers/cgroup-format.js';
import { expectBatchMatchesTruth, mkTmp, rmTmp } from '../../helpers/synth.js';

const N = 1500;
const SHAPED: Exclude<Shape, 'mixed'>[] = ['web', 'k8s', 'ci', 'db', 'idle'];

interface Run {
  dir: string;
  gen: SynthTruth;
  shortLived: Set<string>;
  steps: AdvanceResult[];
  reader: ProcfsReader;
}

let tmp: string;
const runs = new Map<Shape, Run>();
const key = (p: { pid: number; starttimeTicks: number }) => `${p.pid}@${p.starttimeTicks}`;

beforeAll(async () => {
  tmp = mkTmp();
  for (const [i, shape] of SHAPED.entries()) {
    const dir = path.join(tmp, shape);
    const gen = await generateHost({ out: dir, processes: N, seed: 70 + i, shape, cgroupUnreadable: 0.02 });
    const shortLived = new Set(
      readState(dir)
        .procs.filter((p) => p.m.ephemeral)
        .map(key),
    );
    const reader = new ProcfsReader({ procRoot: dir });
    reader.scan();
    runs.set(shape, { dir, gen, shortLived, steps: [await advanceHost({ dir, seconds: 10, anomalies: 3 })], reader });
  }
}, 300_000);
afterAll(() => rmTmp(tmp));

const run = (s: Shape) => runs.get(s) as Run;

describe.each(SHAPED)('advance on a %s host', (shape) => {
  it('moves the clock, churns at the shape default and reads back as the truth says', () => {
    const { gen, steps, reader } = run(shape);
    const r = steps[0];
    expect(r.host.uptime).toBeCloseTo(gen.host.uptime + 10, 2);
    const target = Math.round(DEFAULT_CHURN[shape] * N);
    expect(r.exited.length).toBeGreaterThanOrEqual(Math.max(1, target));
    // cohorts exit whole, so a step may overshoot by part of one
    expect(r.exited.length).toBeLessThanOrEqual(target + 130);
    expect(r.spawned.length).toBeGreaterThan(0);
    // the host keeps about its size
    expect(Math.abs(r.processes.length - N)).toBeLessThanOrEqual(Math.max(10, N * 0.05));
    const b = reader.scan();
    expectBatchMatchesTruth(b, r);
    const spawned = new Set(r.spawned);
    for (let i = 0; i < b.count; i++)
      expect((b.flags[i] & FLAG_NEW_IDENTITY) !== 0, `pid ${b.pid[i]}`).toBe(spawned.has(b.pid[i]));
  });

  it('reuses an exited pid with a later start time', () => {
    const { gen, steps } = run(shape);
    const r = steps[0];
    const live = new Map(r.processes.map((p) => [p.pid, p]));
    const old = new Map(gen.processes.map((p) => [p.pid, p]));
    const reused = r.exited.filter((pid) => live.has(pid));
    expect(reused.length).toBe(1);
    for (const pid of reused)
      expect(live.get(pid)?.starttimeTicks).toBeGreaterThan(old.get(pid)?.starttimeTicks ?? Number.POSITIVE_INFINITY);
  });

  it('writes cgroup files for new processes, in their parent cgroup or a new one of their own', () => {
    const { dir, steps } = run(shape);
    const r = steps[0];
    const byPid = new Map(r.processes.map((p) => [p.pid, p]));
    for (const pid of r.spawned) {
      const p = byPid.get(pid) as ProcessTruth;
      const file = path.join(dir, String(pid), 'cgroup');
      if (!p.cgroupReadable) {
        expect(fs.statSync(file).isDirectory()).toBe(true);
        continue;
      }
      expect(parseCgroupFile(fs.readFileSync(file, 'utf8'), 2)[0].path).toBe(p.cgroupPath);
      const parent = byPid.get(p.ppid);
      if (parent && p.cgroupPath !== parent.cgroupPath) expect(p.containerId ?? p.unit, `pid ${pid}`).not.toBeNull();
    }
  });

  it('continues for a second step with anomalies visible', async () => {
    const { dir, steps, reader } = run(shape);
    const r2 = await advanceHost({ dir, seconds: 10, anomalies: 3 });
    steps.push(r2);
    expect(r2.anomalies.length).toBe(3);
    for (const a of r2.anomalies) expect(r2.processes.find((p) => p.pid === a.pid)?.anomaly).toBe(a.kind);
    expectBatchMatchesTruth(reader.scan(), r2);
  });
});

describe('churn the shapes claim', () => {
  it('ci: one step replaces at least 30% of the short-lived processes', () => {
    const { shortLived, steps, gen } = run('ci');
    const after = new Set(steps[0].processes.map(key));
    const gone = [...shortLived].filter((k) => !after.has(k)).length;
    expect(gone / shortLived.size).toBeGreaterThanOrEqual(0.3);
    // and starts as many: the host keeps its size and its jobs
    expect(steps[0].spawned.length).toBeGreaterThanOrEqual(0.25 * gen.processes.length);
    const jobs = steps[0].processes.filter((p) => p.role === 'job-shell').length;
    expect(jobs).toBeGreaterThan(gen.processes.filter((p) => p.role === 'job-shell').length * 0.8);
  });

  it('k8s: pods exit whole and new pods start with a new uid, sandbox and container ids', () => {
    const { gen, steps } = run('k8s');
    const r = steps[0];
    const podsBefore = new Set(gen.processes.map((p) => p.podUid).filter((u) => u !== null));
    const podsAfter = new Set(r.processes.map((p) => p.podUid).filter((u) => u !== null));
    const gonePods = [...podsBefore].filter((u) => !podsAfter.has(u));
    const newPods = [...podsAfter].filter((u) => !podsBefore.has(u));
    expect(gonePods.length).toBeGreaterThan(0);
    expect(newPods.length).toBeGreaterThan(0);
    const exited = new Set(r.exited);
    const reused = new Set(r.spawned.filter((pid) => exited.has(pid)));
    for (const uid of gonePods) {
      // every process of the pod and its shim are gone
      const members = gen.processes.filter((p) => p.podUid === uid);
      for (const m of members) if (!reused.has(m.pid)) expect(exited.has(m.pid), `pid ${m.pid} of ${uid}`).toBe(true);
      const sandbox = members.find((m) => m.role === 'pause')?.containerId;
      const shim = gen.processes.find((p) => p.role === 'containerd-shim' && p.argv.includes(sandbox ?? '?'));
      expect(shim && exited.has(shim.pid), `shim of ${uid}`).toBe(true);
    }
    const oldContainers = new Set(gen.processes.map((p) => p.containerId));
    for (const uid of newPods) {
      const members = r.processes.filter((p) => p.podUid === uid);
      expect(members.filter((m) => m.role === 'pause').length).toBe(1);
      for (const m of members) {
        expect(r.spawned).toContain(m.pid);
        expect(oldContainers.has(m.containerId)).toBe(false);
      }
      const sandbox = members.find((m) => m.role === 'pause')?.containerId ?? '?';
      expect(r.processes.filter((p) => p.role === 'containerd-shim' && p.argv.includes(sandbox)).length).toBe(1);
    }
    // still one shim per pod
    expect(r.processes.filter((p) => p.role === 'containerd-shim').length).toBe(podsAfter.size);
  });

  it('web: recycled workers come back in the same pool, under the same parent', () => {
    const { gen, steps } = run('web');
    const r = steps[0];
    const exited = new Set(r.exited);
    const goneWorkers = gen.processes.filter((p) => exited.has(p.pid) && p.pool !== null);
    expect(goneWorkers.length).toBeGreaterThan(0);
    const newByPool = new Map<string, ProcessTruth[]>();
    const byPid = new Map(r.processes.map((p) => [p.pid, p]));
    for (const pid of r.spawned) {
      const p = byPid.get(pid) as ProcessTruth;
      if (p.pool) newByPool.set(p.pool, [...(newByPool.get(p.pool) ?? []), p]);
    }
    for (const w of goneWorkers) {
      const fresh = newByPool.get(w.pool ?? '') ?? [];
      expect(fresh.length, w.pool ?? '').toBeGreaterThan(0);
      expect(fresh.some((f) => f.ppid === w.ppid && f.cgroupPath === w.cgroupPath && f.role === w.role)).toBe(true);
    }
  });

  it('idle: little changes', () => {
    const { steps } = run('idle');
    expect(steps[0].exited.length).toBeLessThanOrEqual(Math.ceil(N * 0.005));
  });
});

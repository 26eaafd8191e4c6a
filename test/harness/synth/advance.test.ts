import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AdvanceResult,
  advanceHost,
  generateHost,
  type ProcessTruth,
  readTruth,
  type SynthTruth,
} from '../../../src/harness/synth/index.js';
import { FLAG_NEW_IDENTITY, type ProcessBatch } from '../../../src/sources/batch.js';
import { ProcfsReader } from '../../../src/sources/procfs/reader.js';
import { expectBatchMatchesTruth, mkTmp, rmTmp } from '../../helpers/synth.js';

const N = 400;
const S = 30;
let tmp: string;
let tree: string;
let before: SynthTruth;
let after: AdvanceResult;
let reader: ProcfsReader;
let scan1: ProcessBatch;
let scan2: ProcessBatch;

const key = (p: { pid: number; starttimeTicks: number }) => `${p.pid}@${p.starttimeTicks}`;

function hostCpu(dir: string): number[] {
  const first = fs.readFileSync(path.join(dir, 'stat'), 'latin1').split('\n')[0];
  return first.split(/ +/).slice(1).map(Number);
}

let cpuBefore: number[];

beforeAll(async () => {
  tmp = mkTmp();
  tree = path.join(tmp, 'tree');
  before = await generateHost({ out: tree, processes: N, seed: 11 });
  reader = new ProcfsReader({ procRoot: tree });
  scan1 = reader.scan();
  cpuBefore = hostCpu(tree);
  after = await advanceHost({ dir: tree, seconds: S, anomalies: 4, churn: 0.02 });
  scan2 = reader.scan();
});
afterAll(() => rmTmp(tmp));

describe('advanceHost', () => {
  it('moves the clock by the given seconds', () => {
    expect(after.host.uptime).toBeCloseTo(before.host.uptime + S, 2);
    expect(scan2.host.uptimeSec - scan1.host.uptimeSec).toBeCloseTo(S, 2);
    expect(after.host.btime).toBe(before.host.btime);
    const cpuAfter = hostCpu(tree);
    for (let i = 0; i < cpuAfter.length; i++) expect(cpuAfter[i]).toBeGreaterThanOrEqual(cpuBefore[i]);
  });

  it('still reads back field by field (cmdline/exe of fresh rows included)', () => {
    expect(scan2.count).toBe(after.processes.length);
    expectBatchMatchesTruth(scan2, after);
  });

  it('keeps CPU and other counters non-decreasing for surviving identities', () => {
    const prev = new Map(before.processes.map((p) => [key(p), p]));
    let survivors = 0;
    let moved = 0;
    for (const p of after.processes) {
      const q = prev.get(key(p));
      if (!q) continue;
      survivors++;
      for (const f of [
        'utimeTicks',
        'stimeTicks',
        'volCtx',
        'involCtx',
        'readBytes',
        'writeBytes',
        'minflt',
        'majflt',
        'blkioTicks',
      ] as const) {
        expect(p[f], `${f} of ${p.pid}`).toBeGreaterThanOrEqual(q[f]);
      }
      if (p.utimeTicks + p.stimeTicks > q.utimeTicks + q.stimeTicks) moved++;
      expect([p.comm, p.cmdline, p.exe, p.ppid]).toEqual([q.comm, q.cmdline, q.exe, q.ppid]);
    }
    expect(survivors).toBe(N - after.exited.length);
    expect(moved).toBeGreaterThan(0);
  });

  it('churns: exited dirs are gone, spawned ones exist, one pid is reused with a new start time', () => {
    expect(after.exited.length).toBeGreaterThanOrEqual(Math.round(N * 0.02) - 1);
    expect(after.spawned.length).toBeGreaterThan(0);
    expect(after.processes.length).toBe(N - after.exited.length + after.spawned.length);
    const live = new Set(after.processes.map((p) => p.pid));
    const reused = after.exited.filter((pid) => live.has(pid));
    expect(reused.length).toBeGreaterThanOrEqual(1);
    for (const pid of after.exited) if (!live.has(pid)) expect(fs.existsSync(path.join(tree, String(pid)))).toBe(false);
    for (const pid of after.spawned) expect(fs.existsSync(path.join(tree, String(pid), 'stat'))).toBe(true);
    const old = new Map(before.processes.map((p) => [p.pid, p]));
    for (const pid of reused) {
      const now = after.processes.find((p) => p.pid === pid)!;
      expect(now.starttimeTicks).toBeGreaterThan(old.get(pid)!.starttimeTicks);
      expect(now.starttimeTicks / after.clkTck).toBeGreaterThan(before.host.uptime - 1e-9);
      // The same reader sees a new identity on the old pid.
      const row = Array.from(scan2.pid.subarray(0, scan2.count)).indexOf(pid);
      expect(scan2.flags[row] & FLAG_NEW_IDENTITY).toBe(FLAG_NEW_IDENTITY);
      expect(scan2.startTicks[row]).toBe(now.starttimeTicks);
    }
    // Every row that is not spawned keeps its identity.
    const spawned = new Set(after.spawned);
    for (let i = 0; i < scan2.count; i++) {
      const isNew = (scan2.flags[i] & FLAG_NEW_IDENTITY) !== 0;
      expect(isNew, `pid ${scan2.pid[i]}`).toBe(spawned.has(scan2.pid[i]));
    }
  });

  it('records anomalies and they are visible in the files', () => {
    expect(after.anomalies.length).toBe(4);
    const kinds = new Set(after.anomalies.map((a) => a.kind));
    expect(kinds).toEqual(new Set(['cpu', 'memory', 'new']));
    const prev = new Map(before.processes.map((p) => [p.pid, p]));
    const now = new Map(after.processes.map((p) => [p.pid, p]));
    const clk = after.clkTck;
    for (const a of after.anomalies) {
      const p = now.get(a.pid) as ProcessTruth;
      expect(p.anomaly).toBe(a.kind);
      expect(p.kernel).toBe(false);
      const stat = fs.readFileSync(path.join(tree, String(a.pid), 'stat'), 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(f[11]) + Number(f[12]);
      const rssPages = Number(f[21]);
      if (a.kind === 'cpu') {
        const q = prev.get(a.pid)!;
        const delta = ticks - (q.utimeTicks + q.stimeTicks);
        expect(delta).toBeGreaterThan(0.4 * S * clk);
      } else if (a.kind === 'memory') {
        const q = prev.get(a.pid)!;
        expect(rssPages * after.pageSize).toBe(p.rssBytes);
        expect(p.rssBytes).toBeGreaterThanOrEqual(4 * q.rssBytes);
      } else {
        expect(after.spawned).toContain(a.pid);
        const age = after.host.uptime - p.starttimeTicks / clk;
        expect(ticks / clk).toBeGreaterThan(0.4 * age);
      }
    }
  });

  it('persists the new state: readTruth matches and a second advance continues from it', async () => {
    const t = await readTruth(tree);
    const { anomalies: _a, exited: _e, spawned: _s, ...plain } = after;
    expect(t).toEqual(plain);
    const again = await advanceHost({ dir: tree, seconds: 5, churn: 0 });
    expect(again.host.uptime).toBeCloseTo(after.host.uptime + 5, 2);
    expect(again.exited).toEqual([]);
    expect(again.spawned).toEqual([]);
    expect(again.anomalies).toEqual([]);
    // Anomalies persist in the truth.
    for (const a of after.anomalies) expect(again.processes.find((p) => p.pid === a.pid)?.anomaly).toBe(a.kind);
    const scan3 = reader.scan();
    expectBatchMatchesTruth(scan3, again);
    for (let i = 0; i < scan3.count; i++) expect(scan3.flags[i] & FLAG_NEW_IDENTITY).toBe(0);
  });

  it('is deterministic for a seed', async () => {
    const a = path.join(tmp, 'det-a');
    const b = path.join(tmp, 'det-b');
    for (const d of [a, b]) await generateHost({ out: d, processes: 80, seed: 5 });
    const ra = await advanceHost({ dir: a, seconds: 10, anomalies: 2 });
    const rb = await advanceHost({ dir: b, seconds: 10, anomalies: 2 });
    expect(rb).toEqual(ra);
  });

  it('rejects bad arguments and directories that are not synthetic trees', async () => {
    await expect(advanceHost({ dir: tree, seconds: 0 })).rejects.toThrow(/seconds/);
    await expect(advanceHost({ dir: tree, seconds: 1, anomalies: -1 })).rejects.toThrow(/anomalies/);
    const empty = path.join(tmp, 'empty');
    fs.mkdirSync(empty);
    await expect(advanceHost({ dir: empty, seconds: 1 })).rejects.toThrow(empty);
  });
});

/**
 * Helpers for tests that use synthetic procfs trees: temp directories and a
 * field-by-field comparison of a reader's batch with the generator's truth.
 */
import * as fs from 'node:fs';
import { expect } from 'vitest';
import type { ProcessTruth, SynthTruth } from '../../src/harness/synth/index.js';
import { FLAG_KERNEL_THREAD, type ProcessBatch } from '../../src/sources/batch.js';
import { fastTmpDir } from '../../src/util/tmp.js';

/** A fresh scratch directory (tmpfs when available); remove it with `rmTmp`. */
export function mkTmp(prefix = 'nrdot-synth-'): string {
  return fastTmpDir(prefix);
}

export function rmTmp(dir: string | undefined): void {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

export interface RowView {
  row: number;
  name?: string;
  cmdline?: string;
  exe?: string;
}

/** Index a batch by pid; names/cmdlines/exes only for fresh rows. */
export function rowsByPid(b: ProcessBatch): Map<number, RowView> {
  const out = new Map<number, RowView>();
  for (let i = 0; i < b.count; i++) out.set(b.pid[i], { row: i });
  for (let k = 0; k < b.freshRows.length; k++) {
    const v = out.get(b.pid[b.freshRows[k]])!;
    v.name = b.freshName[k];
    v.cmdline = b.freshCmdline[k];
    v.exe = b.freshExe[k];
  }
  return out;
}

/** The reader's view of one row, in the truth's units. */
export function rowAsTruth(b: ProcessBatch, v: RowView): Partial<ProcessTruth> {
  const i = v.row;
  const { clkTck } = b.host;
  return {
    pid: b.pid[i],
    ppid: b.ppid[i],
    state: String.fromCharCode(b.state[i]),
    utimeTicks: Math.round(b.utimeSec[i] * clkTck),
    stimeTicks: Math.round(b.stimeSec[i] * clkTck),
    starttimeTicks: b.startTicks[i],
    vsizeBytes: b.vsizeBytes[i],
    rssBytes: b.rssBytes[i],
    threads: b.threads[i],
    fds: b.fds[i],
    uid: b.uid[i],
    volCtx: b.volCtx[i],
    involCtx: b.involCtx[i],
    readBytes: b.readBytes[i],
    writeBytes: b.writeBytes[i],
    minflt: b.minFaults[i],
    majflt: b.majFaults[i],
    blkioTicks: Math.round(b.iowaitSec[i] * clkTck),
    kernel: (b.flags[i] & FLAG_KERNEL_THREAD) !== 0,
  };
}

/**
 * Every process of the truth is in the batch with exactly the truth's
 * values (and nothing else is); names, cmdlines and exes are checked for
 * rows that are fresh in this batch.
 */
export function expectBatchMatchesTruth(b: ProcessBatch, truth: SynthTruth): void {
  expect(b.host.hostname).toBe(truth.host.hostname);
  expect(b.host.bootTimeSec).toBe(truth.host.btime);
  expect(b.host.uptimeSec).toBeCloseTo(truth.host.uptime, 2);
  expect(b.host.cpuCount).toBe(truth.host.cpus);
  expect(b.host.memTotalBytes).toBe(truth.host.memTotalBytes);
  expect(b.host.clkTck).toBe(truth.clkTck);
  expect(b.host.pageSize).toBe(truth.pageSize);
  // A fresh row whose cgroup file is missing or unreadable has '' (a
  // synthetic cgroup file is never empty), and is counted.
  const noCgroup = b.freshCgroup.filter((c) => c === '').length;
  expect(b.counters).toEqual({ vanished: 0, denied: 0, malformed: 0, cgroupUnreadable: noCgroup });
  const rows = rowsByPid(b);
  expect(rows.size).toBe(truth.processes.length);
  for (const t of truth.processes) {
    const v = rows.get(t.pid);
    expect(v, `pid ${t.pid} (${t.comm}) missing from the scan`).toBeDefined();
    if (!v) continue;
    const want: Partial<ProcessTruth> = {
      pid: t.pid,
      ppid: t.ppid,
      state: t.state,
      utimeTicks: t.utimeTicks,
      stimeTicks: t.stimeTicks,
      starttimeTicks: t.starttimeTicks,
      vsizeBytes: t.vsizeBytes,
      rssBytes: t.rssBytes,
      threads: t.threads,
      fds: t.fds,
      uid: t.uid,
      volCtx: t.volCtx,
      involCtx: t.involCtx,
      readBytes: t.readBytes,
      writeBytes: t.writeBytes,
      minflt: t.minflt,
      majflt: t.majflt,
      blkioTicks: t.blkioTicks,
      kernel: t.kernel,
    };
    expect(rowAsTruth(b, v), `pid ${t.pid} (${t.comm})`).toEqual(want);
    if (v.name !== undefined) {
      expect({ pid: t.pid, name: v.name, cmdline: v.cmdline, exe: v.exe }).toEqual({
        pid: t.pid,
        name: t.comm,
        cmdline: t.cmdline,
        exe: t.exe,
      });
    }
  }
}

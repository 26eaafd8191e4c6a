/**
 * The native backend on the real /proc: the same processes and identities as
 * the TypeScript reader (counters may only grow between the two scans), kept
 * fds released on close(), and a reused pid read as a new identity.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FLAG_KERNEL_THREAD, FLAG_NEW_IDENTITY } from '../../src/sources/batch.js';
import { ProcfsReader } from '../../src/sources/procfs/reader.js';
import { REPO } from '../helpers/cli.js';
import { batchJson, hasNative, openNative, requireNativeAddon } from './native-helpers.js';

requireNativeAddon();

const COUNTERS = ['utimeSec', 'stimeSec', 'iowaitSec', 'minFaults', 'majFaults', 'volCtx', 'involCtx'] as const;
const GAUGES = ['rssBytes', 'vsizeBytes', 'threads', 'fds', 'state'] as const;

function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

describe.skipIf(!hasNative)('native backend on the real /proc', () => {
  // The real /proc moves between the two scans (other test files spawn,
  // exec and rename processes concurrently), so a rare mismatch is the host
  // changing, not a backend disagreeing: retry on a fresh pair of scans.
  it('sees the processes the TypeScript reader sees, with the same identities, names and owners', {
    retry: 2,
  }, async () => {
    const nat = openNative('/proc');
    try {
      const a = batchJson(new ProcfsReader().scan());
      const b = batchJson(await nat.scan());
      const native = new Map(b.rows.map((r) => [r.pid, r]));
      let compared = 0;
      let quiet = 0;
      for (const r of a.rows) {
        const n = native.get(r.pid);
        // a process that started or ended between the two scans
        if (!n || n.values.startTicks !== r.values.startTicks) continue;
        compared++;
        // kworker threads rename themselves after the workqueue they serve
        const kernel = (r.values.flags! & FLAG_KERNEL_THREAD) !== 0;
        expect(kernel ? { ...n.fresh, name: '' } : n.fresh, `pid ${r.pid}`).toEqual(
          kernel ? { ...r.fresh, name: '' } : r.fresh,
        );
        expect(n.values.ppid, `pid ${r.pid} ppid`).toBe(r.values.ppid);
        expect(n.values.uid, `pid ${r.pid} uid`).toBe(r.values.uid);
        expect(n.values.flags, `pid ${r.pid} flags`).toBe(r.values.flags);
        for (const f of COUNTERS) expect(n.values[f]!, `pid ${r.pid} ${f}`).toBeGreaterThanOrEqual(r.values[f]!);
        // A process that did not run in between (no counter moved) has the same gauges.
        if (COUNTERS.every((f) => n.values[f] === r.values[f])) {
          quiet++;
          for (const f of GAUGES) expect(n.values[f], `pid ${r.pid} ${f}`).toBe(r.values[f]);
        }
      }
      expect(compared).toBeGreaterThan(a.rows.length * 0.8);
      expect(quiet).toBeGreaterThan(0);
      expect({ ...b.host, uptimeSec: 0 }).toEqual({ ...a.host, uptimeSec: 0 });
      expect(b.host.uptimeSec).toBeGreaterThanOrEqual(a.host.uptimeSec);
    } finally {
      nat.close();
    }
  });

  it('finds this process with the right pid, ppid, name, command line and owner', async () => {
    const nat = openNative('/proc');
    try {
      const b = await nat.scan();
      const i = Array.from(b.pid.subarray(0, b.count)).indexOf(process.pid);
      expect(i).toBeGreaterThanOrEqual(0);
      expect(b.ppid[i]).toBe(process.ppid);
      const k = Array.from(b.freshRows).indexOf(i);
      expect(b.freshName[k]).toBe(fs.readFileSync(`/proc/${process.pid}/comm`, 'utf8').trim());
      const raw = fs.readFileSync(`/proc/${process.pid}/cmdline`, 'utf8').replace(/\0+$/, '').split('\0').join(' ');
      expect(b.freshCmdline[k]).toBe(raw);
      expect(b.freshExe[k]).toBe(fs.readlinkSync('/proc/self/exe'));
      expect(b.freshCgroup[k]).toBe(fs.readFileSync('/proc/self/cgroup', 'utf8').replace(/\n$/, ''));
      expect(b.freshCgroup[k]).toMatch(/^\d+:[^\n]*:\//);
      expect(b.uid[i]).toBe(process.getuid!());
      expect(b.fds[i]).toBeGreaterThan(2);
      const kthreadd = Array.from(b.pid.subarray(0, b.count)).indexOf(2);
      if (kthreadd >= 0) expect(b.flags[kthreadd]! & FLAG_KERNEL_THREAD).toBe(FLAG_KERNEL_THREAD);
    } finally {
      nat.close();
    }
  });

  it('keeps one stat fd per process between scans and releases them on close()', async () => {
    const before = openFds();
    const nat = openNative('/proc');
    const b = await nat.scan();
    expect(nat.isProcfs).toBe(true);
    expect(nat.lastScan!.keptFds).toBeGreaterThanOrEqual(b.count);
    expect(openFds() - before).toBeGreaterThanOrEqual(b.count - 5);
    nat.close();
    expect(openFds()).toBeLessThanOrEqual(before + 2);
  });

  it('turning status, io and fd/ off closes their kept fds; a new identity still reads its owner', {
    retry: 2,
  }, async () => {
    const nat = openNative('/proc');
    try {
      const first = await nat.scan();
      const all = nat.lastScan!.keptFds;
      // stat, status, io and fd/ of (nearly) every process
      expect(all).toBeGreaterThanOrEqual(4 * first.count - 10);
      const open = openFds();
      const b = await nat.scan({ files: { status: false, io: false, fds: false } });
      expect(nat.lastScan!.keptFds).toBeLessThanOrEqual(b.count + 5);
      expect(open - openFds()).toBeGreaterThanOrEqual(all - b.count - 10);
      const i = Array.from(b.pid.subarray(0, b.count)).indexOf(process.pid);
      expect([b.uid[i], b.fds[i], b.readBytes[i], b.volCtx[i]]).toEqual([-1, -1, -1, -1]);
      // identities new in this scan still carry their owner
      for (const r of b.freshRows) expect(b.uid[r], `pid ${b.pid[r]}`).toBeGreaterThanOrEqual(0);
    } finally {
      nat.close();
    }
  });

  // The real /proc is shared with everything else running (other test files
  // start processes too), so the kept-fd count can grow between the scans
  // for reasons of its own: retried rather than weakened.
  it('closes the fd of a process that exited, and does not list it', { retry: 2 }, async () => {
    const child = spawn('sleep', ['600'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 100));
    const nat = openNative('/proc');
    try {
      const first = await nat.scan();
      expect(Array.from(first.pid.subarray(0, first.count))).toContain(child.pid);
      const kept = nat.lastScan!.keptFds;
      child.kill('SIGKILL');
      await new Promise((r) => child.once('close', r));
      const second = await nat.scan();
      expect(Array.from(second.pid.subarray(0, second.count))).not.toContain(child.pid);
      expect(nat.lastScan!.keptFds).toBeLessThanOrEqual(kept);
    } finally {
      child.kill('SIGKILL');
      nat.close();
    }
  });

  const canUnshare =
    process.getuid?.() === 0 && spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']).status === 0;
  it.runIf(canUnshare)('a reused pid is a new identity: the kept fd answers ESRCH and is reopened', async () => {
    // In a new pid namespace, ns_last_pid makes the next child take the pid
    // of the one that just exited.
    const script = path.join(REPO, 'test', 'sources', 'pid-reuse-child.mjs');
    const r = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', process.execPath, script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      pid: number;
      reusedPid: number;
      first: { start: number; flags: number };
      second: { start: number; flags: number; name: string };
      reopened: number;
    };
    expect(out.reusedPid).toBe(out.pid);
    expect(out.second.start).not.toBe(out.first.start);
    expect(out.second.flags & FLAG_NEW_IDENTITY).toBe(FLAG_NEW_IDENTITY);
    expect(out.second.name).toBe('cat');
    expect(out.reopened).toBeGreaterThanOrEqual(1);
  });
});

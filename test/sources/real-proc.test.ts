import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FLAG_KERNEL_THREAD, FLAG_NEW_IDENTITY } from '../../src/sources/batch.js';
import { ProcfsReader } from '../../src/sources/procfs/reader.js';

describe('TypeScript reader on the real /proc', () => {
  it('finds this test process with the right pid, ppid, name, command line and RSS', () => {
    const r = new ProcfsReader();
    r.validateRoot();
    const b = r.scan();
    expect(b.count).toBeGreaterThan(1);
    const i = Array.from(b.pid.subarray(0, b.count)).indexOf(process.pid);
    expect(i).toBeGreaterThanOrEqual(0);
    expect(b.ppid[i]).toBe(process.ppid);
    const k = Array.from(b.freshRows).indexOf(i);
    expect(k).toBeGreaterThanOrEqual(0);
    const comm = fs.readFileSync(`/proc/${process.pid}/comm`, 'utf8').trim();
    expect(b.freshName[k]).toBe(comm);
    // vitest rewrites its process title, so compare with the kernel's own view
    const raw = fs.readFileSync(`/proc/${process.pid}/cmdline`, 'utf8').replace(/\0+$/, '').split('\0').join(' ');
    expect(b.freshCmdline[k]).toBe(raw);
    expect(b.freshExe[k]).toBe(fs.readlinkSync('/proc/self/exe'));
    expect(b.freshCgroup[k]).toBe(fs.readFileSync('/proc/self/cgroup', 'utf8').replace(/\n$/, ''));
    expect(b.freshCgroup[k]).toMatch(/^\d+:[^\n]*:\//);
    const rss = process.memoryUsage().rss;
    expect(Math.abs(b.rssBytes[i]! - rss) / rss).toBeLessThan(0.2);
    expect(b.threads[i]).toBeGreaterThanOrEqual(1);
    expect(b.fds[i]).toBeGreaterThan(2);
    expect(b.uid[i]).toBe(process.getuid!());
    expect(b.utimeSec[i]! + b.stimeSec[i]!).toBeGreaterThan(0);
    expect(b.host.cpuCount).toBeGreaterThanOrEqual(1);
    expect(b.host.uptimeSec).toBeGreaterThan(0);
    expect(b.host.memTotalBytes).toBeGreaterThan(0);
  });

  it('reads the cgroup of every process that has one, with the file mask off', () => {
    const b = new ProcfsReader().scan({ files: { status: false, io: false, fds: false } });
    // kernel threads and user processes alike have a cgroup file on Linux
    expect(b.counters.cgroupUnreadable).toBe(0);
    expect(b.freshCgroup).toHaveLength(b.freshRows.length);
    expect(b.freshCgroup.filter((c) => c === '')).toEqual([]);
    const i = Array.from(b.pid.subarray(0, b.count)).indexOf(process.pid);
    // a new identity reads status whatever the mask (its owner), but io and fd/ not
    expect(b.uid[i]).toBe(process.getuid!());
    expect([b.fds[i], b.readBytes[i]]).toEqual([-1, -1]);
  });

  it('sees a child process with its exact command line and parent', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'nrdot-marker-arg'], {
      stdio: 'ignore',
    });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const b = new ProcfsReader().scan();
      const i = Array.from(b.pid.subarray(0, b.count)).indexOf(child.pid!);
      expect(i).toBeGreaterThanOrEqual(0);
      expect(b.ppid[i]).toBe(process.pid);
      const k = Array.from(b.freshRows).indexOf(i);
      expect(b.freshName[k]).toBe('node');
      expect(b.freshCmdline[k]).toBe(`${process.execPath} -e setInterval(() => {}, 1000) nrdot-marker-arg`);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('reads command lines once per identity: a second scan has no fresh rows for the same processes', () => {
    const r = new ProcfsReader();
    r.scan();
    const b = r.scan();
    const i = Array.from(b.pid.subarray(0, b.count)).indexOf(process.pid);
    expect(b.flags[i]! & FLAG_NEW_IDENTITY).toBe(0);
    expect(b.freshRows.length).toBeLessThan(b.count);
  });

  it('recognises kernel threads when the host has them', () => {
    const r = new ProcfsReader();
    const b = r.scan();
    const kthreadd = Array.from(b.pid.subarray(0, b.count)).indexOf(2);
    if (kthreadd < 0) {
      console.warn('no kthreadd visible in this pid namespace: kernel-thread check covered by synthetic trees only');
      return;
    }
    expect(b.flags[kthreadd]! & FLAG_KERNEL_THREAD).toBe(FLAG_KERNEL_THREAD);
  });

  it('refuses a directory that is not a procfs tree, naming the missing file', () => {
    const r = new ProcfsReader({ procRoot: '/etc' });
    expect(() => r.validateRoot()).toThrow(/--proc-root \/etc is not a procfs tree: \/etc\/uptime is missing/);
  });
});

/**
 * One process from its spec: its parameters (makeProc), its parent links
 * (linkProc) and its counters at an age (bornAt).
 */
import type { Spec } from './builder.js';
import { commOf, kernelComm } from './catalog.js';
import { accrue, pickState, setRss } from './model.js';
import type { Rng } from './prng.js';
import type { SynthProc } from './types.js';

const MiB = 1024 * 1024;

/** A process from its spec: everything but the pid, parent links and start time. */
export function makeProc(rng: Rng, s: Spec, cpus: number): SynthProc {
  const kernel = s.kernel === true;
  const threads = s.threads ?? 1;
  let cpuRate = kernel ? rng.logNormal(s.cpu, 1.0) : rng.logNormal(s.cpu, s.cpuSigma ?? 1.2);
  if (s.busy && rng.chance(s.busy))
    cpuRate = rng.range(0.1, 0.95) * (threads > 1 ? rng.range(1, Math.min(threads, 4)) : 1);
  cpuRate = Math.min(cpuRate, threads, cpus);
  const rss = kernel || s.state === 'Z' ? 0 : rng.logNormal(s.rssMb, s.rssSigma ?? 0.5) * MiB;
  const vm =
    kernel || s.state === 'Z'
      ? 0
      : rss * rng.range(1.2, 3) + (s.vmMb ?? 20) * MiB * rng.jitter(0.3) + threads * 8 * MiB;
  const nice = s.nice ?? 0;
  const rtPrio = s.rtPrio ?? 0;
  const wake = s.wake ?? (kernel ? 0.5 : 2);
  const p: SynthProc = {
    pid: 0,
    ppid: 0,
    comm: s.comm ?? (kernel ? kernelComm(s.argv[0]) : commOf(s.argv[0])),
    argv: kernel || s.state === 'Z' ? [] : s.argv,
    cmdline: kernel || s.state === 'Z' ? '' : s.argv.join(' '),
    exe: kernel || s.state === 'Z' ? '' : s.exe,
    state: s.state ?? 'S',
    utimeTicks: 0,
    stimeTicks: 0,
    starttimeTicks: 0,
    vsizeBytes: Math.round(vm),
    rssBytes: 0,
    threads: s.state === 'Z' ? 1 : threads,
    fds: kernel || s.state === 'Z' ? 0 : rng.int(s.fds[0], s.fds[1]),
    uid: s.ids[0],
    volCtx: 0,
    involCtx: 0,
    readBytes: 0,
    writeBytes: 0,
    minflt: 0,
    majflt: 0,
    blkioTicks: 0,
    kernel,
    category: s.category,
    role: s.role,
    m: {
      gid: s.ids[1],
      pgrp: 0,
      session: 0,
      ttyNr: s.tty ?? 0,
      tpgid: -1,
      flags: kernel
        ? s.argv[0].startsWith('kworker/')
          ? 0x04208060
          : 0x00208040
        : s.ids[0] === 0
          ? 0x00400100
          : 0x00400000,
      nice,
      policy: rtPrio > 0 ? 1 : 0,
      rtPrio,
      processor: rng.int(0, cpus - 1),
      umask: s.umask ?? (kernel ? '0000' : '0022'),
      nsPid: 0,
      cpuRate: s.state === 'Z' ? 0 : cpuRate,
      userShare: kernel ? 0 : rng.range(0.55, 0.95),
      tickCarry: 0,
      wakeRate: s.state === 'Z' ? 0 : rng.logNormal(wake, 0.7),
      preemptPerCpuSec: rng.logNormal(kernel ? 5 : 25, 0.6),
      faultsPerCpuSec: kernel ? 0 : rng.logNormal(400, 0.8),
      readRate: s.readKBps ? rng.logNormal(s.readKBps * 1024, 1) : 0,
      writeRate: s.writeKBps ? rng.logNormal(s.writeKBps * 1024, 1) : 0,
      rchar: 0,
      wchar: 0,
      syscr: 0,
      syscw: 0,
      cancelledWriteBytes: 0,
      cutime: 0,
      cstime: 0,
      cminflt: 0,
      cmajflt: 0,
      hwmBytes: 0,
      peakVsizeBytes: 0,
      ephemeral: s.ephemeral === true,
      fdKind: kernel ? 'kernel' : (s.fdKind ?? 'std'),
      pool: s.pool,
    },
  };
  p.rssBytes = rss; // rounded to pages in bornAt
  return p;
}

/** Derive pgrp/session/tpgid from the parent (leader: 0 inherit, 1 group leader, 2 session leader). */
export function linkProc(p: SynthProc, parent: SynthProc | undefined, leader: 0 | 1 | 2): void {
  const m = p.m;
  p.ppid = parent ? parent.pid : 0;
  if (leader === 2 || !parent) {
    m.pgrp = p.pid;
    m.session = p.pid;
  } else if (leader === 1) {
    m.pgrp = p.pid;
    m.session = parent.m.session;
  } else {
    m.pgrp = parent.m.pgrp;
    m.session = parent.m.session;
  }
  if (p.kernel) {
    m.pgrp = 0;
    m.session = 0;
  }
  m.tpgid = m.ttyNr ? m.pgrp : -1;
}

/**
 * Give a process (with `starttimeTicks` set) its memory in whole pages, its
 * start-up counters and the counters of its life until `uptime`.
 */
export function bornAt(p: SynthProc, uptime: number, rng: Rng, clkTck: number, pageSize: number): void {
  const m = p.m;
  setRss(p, p.rssBytes, pageSize);
  p.vsizeBytes = p.kernel || p.state === 'Z' ? 0 : Math.ceil(p.vsizeBytes / pageSize) * pageSize;
  m.peakVsizeBytes = Math.round((p.vsizeBytes * rng.range(1, 1.15)) / pageSize) * pageSize;
  m.hwmBytes = Math.round((p.rssBytes * rng.range(1, 1.3)) / pageSize) * pageSize;
  if (!p.kernel && p.state !== 'Z') {
    p.minflt = Math.round((p.rssBytes / pageSize) * rng.range(1.2, 3)) + rng.int(80, 400);
    p.majflt = rng.chance(0.3) ? rng.int(0, 40) : 0;
    m.rchar = rng.int(2000, 400_000);
    m.syscr = rng.int(10, 400);
    m.syscw = rng.int(1, 50);
    m.wchar = rng.int(0, 20_000);
  }
  accrue(p, uptime - p.starttimeTicks / clkTck, rng, clkTck);
  if (p.state === 'Z') {
    // A zombie keeps what it used before exiting.
    p.utimeTicks = rng.int(0, 30);
    p.stimeTicks = rng.int(0, 10);
    p.volCtx = rng.int(1, 50);
    p.involCtx = rng.int(0, 5);
    p.minflt = rng.int(100, 2000);
  }
  p.state = pickState(p, rng);
}

/**
 * Per-process files in the text formats of proc(5): stat, status, io,
 * cmdline and the fd link targets.
 */
import { mixSeed, Rng } from './prng.js';
import type { SynthProc } from './types.js';

export interface FormatCtx {
  cpus: number;
  pageSize: number;
  /** RLIMIT_SIGPENDING, shown in SigQ */
  sigqMax: number;
  cpusAllowed: string;
  cpusAllowedList: string;
}

export function formatCtx(cpus: number, pageSize: number, memTotalBytes: number): FormatCtx {
  // Hex mask of cpus, comma separated every 32 bits, like the kernel.
  let words: string[] = [];
  for (let left = cpus; left > 0; left -= 32) {
    const bits = Math.min(32, left);
    words.unshift(
      (bits === 32 ? 0xffffffff : ((1 << bits) - 1) >>> 0).toString(16).padStart(bits === 32 || left > 32 ? 8 : 1, '0'),
    );
  }
  if (words.length > 1) words = words.map((w, i) => (i === 0 ? w : w.padStart(8, '0')));
  return {
    cpus,
    pageSize,
    sigqMax: Math.max(1024, Math.floor(memTotalBytes / (1 << 20) / 4) * 4 - 4),
    cpusAllowed: words.join(','),
    cpusAllowedList: cpus === 1 ? '0' : `0-${cpus - 1}`,
  };
}

const STATE_NAMES: Record<string, string> = {
  R: 'R (running)',
  S: 'S (sleeping)',
  D: 'D (disk sleep)',
  T: 'T (stopped)',
  t: 't (tracing stop)',
  X: 'X (dead)',
  Z: 'Z (zombie)',
  P: 'P (parked)',
  I: 'I (idle)',
};

const RLIM_INFINITY = '18446744073709551615';

/** Address-space layout values for stat fields 26-30 and 45-51 (ASLR-like, stable per identity). */
function layout(p: SynthProc): number[] {
  const h = mixSeed(p.pid, p.starttimeTicks);
  const code = 0x5500_0000_0000 + (h & 0xffffff) * 0x1000 * 16;
  const codeLen = 0x1000 * (16 + (h >>> 24) * 8);
  const stack = 0x7ff0_0000_0000 + ((h * 2654435761) >>> 8) * 0x1000;
  const args = stack + 0x1f00 + (h & 0xff) * 8;
  const argLen = p.argv.reduce((a, s) => a + Buffer.byteLength(s) + 1, 0);
  return [
    code,
    code + codeLen,
    stack,
    code + codeLen + 0x2d50,
    code + codeLen + 0x3fd0,
    code + codeLen + 0x24000,
    args,
    args + argLen,
    args + argLen,
    args + argLen + 0xfb0,
  ];
}

export function statLine(p: SynthProc, pageSize: number): string {
  const m = p.m;
  const priority = m.policy === 0 ? 20 + m.nice : -1 - m.rtPrio;
  const rss = p.rssBytes / pageSize;
  if (p.kernel || p.state === 'Z') {
    const sigign = p.kernel ? 2147483647 : 0;
    return (
      `${p.pid} (${p.comm}) ${p.state} ${p.ppid} ${m.pgrp} ${m.session} ${m.ttyNr} ${m.tpgid} ${m.flags} ` +
      `${p.minflt} ${m.cminflt} ${p.majflt} ${m.cmajflt} ${p.utimeTicks} ${p.stimeTicks} ${m.cutime} ${m.cstime} ` +
      `${priority} ${m.nice} ${p.threads} 0 ${p.starttimeTicks} 0 0 ${RLIM_INFINITY} 0 0 0 0 0 0 0 ${sigign} 0 0 0 0 17 ` +
      `${m.processor} ${m.rtPrio} ${m.policy} ${p.blkioTicks} 0 0 0 0 0 0 0 0 0 0\n`
    );
  }
  const l = layout(p);
  return (
    `${p.pid} (${p.comm}) ${p.state} ${p.ppid} ${m.pgrp} ${m.session} ${m.ttyNr} ${m.tpgid} ${m.flags} ` +
    `${p.minflt} ${m.cminflt} ${p.majflt} ${m.cmajflt} ${p.utimeTicks} ${p.stimeTicks} ${m.cutime} ${m.cstime} ` +
    `${priority} ${m.nice} ${p.threads} 0 ${p.starttimeTicks} ${p.vsizeBytes} ${rss} ${RLIM_INFINITY} ` +
    `${l[0]} ${l[1]} ${l[2]} 0 0 0 0 4096 ${p.uid === 0 ? 1260 : 16386} 0 0 0 17 ` +
    `${m.processor} ${m.rtPrio} ${m.policy} ${p.blkioTicks} 0 0 ${l[3]} ${l[4]} ${l[5]} ${l[6]} ${l[7]} ${l[8]} ${l[9]} 0\n`
  );
}

function kbPad(bytes: number): string {
  return String(Math.round(bytes / 1024)).padStart(8);
}

function fdSize(fds: number): number {
  let s = 64;
  while (s < fds) s *= 2;
  return s;
}

function groupsOf(p: SynthProc): string {
  if (p.uid >= 1000 && p.uid < 60000) return `4 24 27 ${p.m.gid} `;
  if (p.uid === 0) return ' ';
  return `${p.m.gid} `;
}

export function statusText(p: SynthProc, c: FormatCtx): string {
  const m = p.m;
  const ids = (v: number) => `${v}\t${v}\t${v}\t${v}`;
  const ns = (host: number, inner: number) => (m.nsPid ? `${host}\t${inner}` : `${host}`);
  const innerLead = (v: number) => (v === p.pid ? m.nsPid : 1);
  let vm = '';
  if (!p.kernel && p.state !== 'Z') {
    const rssKb = p.rssBytes;
    const shmem = p.category === 'database' ? 0.45 : 0.02;
    const file = 0.25;
    const anon = Math.max(0, 1 - shmem - file);
    const exe = Math.min(p.vsizeBytes * 0.01, 40 * 1024 * 1024) + 8192;
    vm =
      `VmPeak:\t${kbPad(m.peakVsizeBytes)} kB\nVmSize:\t${kbPad(p.vsizeBytes)} kB\nVmLck:\t       0 kB\nVmPin:\t       0 kB\n` +
      `VmHWM:\t${kbPad(Math.max(m.hwmBytes, p.rssBytes))} kB\nVmRSS:\t${kbPad(rssKb)} kB\n` +
      `RssAnon:\t${kbPad(Math.round((rssKb * anon) / 4096) * 4096)} kB\nRssFile:\t${kbPad(Math.round((rssKb * file) / 4096) * 4096)} kB\n` +
      `RssShmem:\t${kbPad(Math.round((rssKb * shmem) / 4096) * 4096)} kB\nVmData:\t${kbPad(p.vsizeBytes * 0.6)} kB\n` +
      `VmStk:\t     132 kB\nVmExe:\t${kbPad(exe)} kB\nVmLib:\t${kbPad(Math.min(p.vsizeBytes * 0.05, 120 * 1024 * 1024))} kB\n` +
      `VmPTE:\t${kbPad(Math.max(40 * 1024, p.rssBytes / 500))} kB\nVmSwap:\t       0 kB\nHugetlbPages:\t       0 kB\n` +
      `CoreDumping:\t0\nTHP_enabled:\t1\n`;
  }
  const caps = p.uid === 0 ? '000001ffffffffff' : '0000000000000000';
  return (
    `Name:\t${p.comm}\nUmask:\t${m.umask}\nState:\t${STATE_NAMES[p.state] ?? p.state}\nTgid:\t${p.pid}\nNgid:\t0\n` +
    `Pid:\t${p.pid}\nPPid:\t${p.ppid}\nTracerPid:\t0\nUid:\t${ids(p.uid)}\nGid:\t${ids(m.gid)}\n` +
    `FDSize:\t${fdSize(p.fds)}\nGroups:\t${groupsOf(p)}\n` +
    `NStgid:\t${ns(p.pid, m.nsPid)}\nNSpid:\t${ns(p.pid, m.nsPid)}\nNSpgid:\t${ns(m.pgrp, innerLead(m.pgrp))}\nNSsid:\t${ns(m.session, innerLead(m.session))}\n` +
    `Kthread:\t${p.kernel ? 1 : 0}\n${vm}Threads:\t${p.threads}\nSigQ:\t0/${c.sigqMax}\n` +
    `SigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\nSigBlk:\t0000000000000000\n` +
    `SigIgn:\t${p.kernel ? 'ffffffffffffffff' : '0000000000001000'}\nSigCgt:\t${p.kernel ? '0000000000000000' : p.uid === 0 ? '00000001800004ec' : '0000000180004002'}\n` +
    `CapInh:\t0000000000000000\nCapPrm:\t${caps}\nCapEff:\t${caps}\nCapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\n` +
    `NoNewPrivs:\t0\nSeccomp:\t${m.nsPid ? 2 : 0}\nSeccomp_filters:\t${m.nsPid ? 1 : 0}\n` +
    `Speculation_Store_Bypass:\tthread vulnerable\nSpeculationIndirectBranch:\tconditional enabled\n` +
    `Cpus_allowed:\t${c.cpusAllowed}\nCpus_allowed_list:\t${c.cpusAllowedList}\n` +
    `Mems_allowed:\t00000000,00000001\nMems_allowed_list:\t0\n` +
    `voluntary_ctxt_switches:\t${p.volCtx}\nnonvoluntary_ctxt_switches:\t${p.involCtx}\n`
  );
}

export function ioText(p: SynthProc): string {
  const m = p.m;
  return (
    `rchar: ${m.rchar}\nwchar: ${m.wchar}\nsyscr: ${m.syscr}\nsyscw: ${m.syscw}\n` +
    `read_bytes: ${p.readBytes}\nwrite_bytes: ${p.writeBytes}\ncancelled_write_bytes: ${m.cancelledWriteBytes}\n`
  );
}

/** NUL-separated argv with a trailing NUL; empty for kernel threads and zombies. */
export function cmdlineText(p: SynthProc): string {
  return p.argv.length === 0 ? '' : `${p.argv.join('\0')}\0`;
}

/** Link targets for fd/0 .. fd/(fds-1), stable per identity. */
export function fdTargets(p: SynthProc): string[] {
  const n = p.fds;
  const out: string[] = new Array(n);
  if (n === 0) return out;
  const rng = new Rng(mixSeed(p.pid ^ 0x5f0d, p.starttimeTicks));
  const kind = p.m.fdKind;
  // tty_nr: major 136 (pts) in bits 8-15, minor in bits 0-7 and 20-31.
  const major = (p.m.ttyNr >> 8) & 0xfff;
  const minor = (p.m.ttyNr & 0xff) | ((p.m.ttyNr >>> 12) & 0xfff00);
  const pts = major === 136 ? `/dev/pts/${minor}` : p.m.ttyNr === 1025 ? '/dev/tty1' : '/dev/ttyS0';
  const std = kind === 'tty' ? pts : '/dev/null';
  let inode = (10000 + rng.next() * 9_000_000) | 0;
  for (let i = 0; i < n; i++) {
    if (i < 3) {
      out[i] = i === 0 ? std : kind === 'tty' ? pts : rng.chance(0.5) ? 'socket:[' + (inode + 1) + ']' : '/dev/null';
      continue;
    }
    inode += 1 + ((rng.next() * 40) | 0);
    const r = rng.next();
    if (kind === 'db' && r < 0.6) out[i] = `/var/lib/postgresql/data/base/16384/${16000 + ((rng.next() * 9000) | 0)}`;
    else if (kind === 'jvm' && r < 0.4) out[i] = `/opt/app/lib/lib-${(rng.next() * 400) | 0}.jar`;
    else if (r < 0.75) out[i] = `socket:[${inode}]`;
    else if (r < 0.85) out[i] = `pipe:[${inode}]`;
    else if (r < 0.93)
      out[i] = rng.pick([
        'anon_inode:[eventpoll]',
        'anon_inode:[eventfd]',
        'anon_inode:[timerfd]',
        'anon_inode:inotify',
      ]);
    else out[i] = rng.pick(['/dev/urandom', '/var/log/app/app.log', '/dev/null', '/etc/localtime']);
  }
  return out;
}

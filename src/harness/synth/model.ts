/**
 * Counter dynamics shared by generation and advance: how a process's CPU,
 * fault, context-switch and I/O counters grow over `dt` seconds.
 */
import type { Rng } from './prng.js';
import type { SynthProc } from './types.js';

const PAGE_IO = 4096;

/** Accrue `dt` seconds of activity at the process's current rates. */
export function accrue(p: SynthProc, dt: number, rng: Rng, clkTck: number): void {
  const m = p.m;
  if (p.state === 'Z' || dt <= 0) return;
  // CPU: rate x seconds x ticks, with noise; keep the fraction for next time.
  const noise = dt > 3600 ? rng.jitter(0.08) : rng.jitter(0.25);
  const ticksF = m.cpuRate * dt * clkTck * noise + m.tickCarry;
  const whole = Math.max(0, Math.floor(ticksF));
  m.tickCarry = Math.min(ticksF - whole, 1);
  let user = Math.floor(whole * m.userShare + rng.next());
  if (user > whole) user = whole;
  p.utimeTicks += user;
  p.stimeTicks += whole - user;
  const cpuSec = whole / clkTck;

  // Context switches: wakeups over time, preemptions per CPU second.
  p.volCtx += Math.round(m.wakeRate * dt * rng.jitter(0.2));
  p.involCtx += Math.round(m.preemptPerCpuSec * cpuSec * rng.jitter(0.3));

  // Storage I/O, in whole pages.
  const rd = Math.floor((m.readRate * dt * rng.jitter(0.4)) / PAGE_IO) * PAGE_IO;
  const wr = Math.floor((m.writeRate * dt * rng.jitter(0.4)) / PAGE_IO) * PAGE_IO;
  p.readBytes += rd;
  p.writeBytes += wr;
  // rchar/wchar also count cached reads, pipes and sockets.
  const sockBytes = Math.round(m.wakeRate * dt * 180 * rng.jitter(0.3));
  const rchar = rd * 2 + sockBytes + Math.round(cpuSec * 20_000);
  const wchar = wr + Math.round(sockBytes * 0.6);
  m.rchar += rchar;
  m.wchar += wchar;
  m.syscr += Math.round(rchar / 2048) + Math.round(m.wakeRate * dt * 0.5);
  m.syscw += Math.round(wchar / 4096) + Math.round(m.wakeRate * dt * 0.2);
  if (wr > 0 && rng.chance(0.05)) m.cancelledWriteBytes += PAGE_IO * rng.int(1, 8);
  if (rd > 0) p.blkioTicks += Math.round((rd / 150e6) * clkTck * 0.3 * rng.jitter(0.3));

  // Faults: kernel threads have no user memory to fault.
  if (!p.kernel) {
    p.minflt += Math.round(m.faultsPerCpuSec * cpuSec * rng.jitter(0.3) + dt * 0.002);
    const majP = Math.min(1, dt / 7200 + rd / 1e9);
    if (rng.chance(majP)) p.majflt += rng.int(1, 4 + Math.floor(rd / 50e6));
  }
}

/** Set RSS (rounded to pages) and keep vsize and the high-water marks consistent. */
export function setRss(p: SynthProc, bytes: number, pageSize: number): void {
  if (p.kernel || p.state === 'Z') {
    p.rssBytes = 0;
    return;
  }
  const pages = Math.max(1, Math.round(bytes / pageSize));
  p.rssBytes = pages * pageSize;
  if (p.vsizeBytes < p.rssBytes + 4 * 1024 * 1024) {
    p.vsizeBytes = Math.ceil((p.rssBytes * 1.3 + 8 * 1024 * 1024) / pageSize) * pageSize;
  }
  if (p.rssBytes > p.m.hwmBytes) p.m.hwmBytes = p.rssBytes;
  if (p.vsizeBytes > p.m.peakVsizeBytes) p.m.peakVsizeBytes = p.vsizeBytes;
}

/** A plausible state letter for the process at this instant. */
export function pickState(p: SynthProc, rng: Rng): string {
  if (p.state === 'Z' || p.state === 'T') return p.state;
  if (p.kernel) {
    if (p.comm.startsWith('kworker/')) return rng.chance(0.02) ? 'R' : 'I';
    if (p.m.nice === -20 && p.ppid === 2) return 'I';
    return rng.chance(0.01) ? 'R' : 'S';
  }
  const perThread = p.m.cpuRate / Math.max(1, p.threads);
  if (rng.chance(Math.min(0.9, perThread))) return 'R';
  if (p.m.readRate > 1e6 && rng.chance(0.1)) return 'D';
  return 'S';
}

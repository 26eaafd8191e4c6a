/**
 * Host-wide files: uptime, stat, meminfo, loadavg, sys/kernel/hostname.
 */
import { mixSeed, Rng } from './prng.js';
import type { HostModel, SynthProc, SynthState } from './types.js';

const GiB = 1024 * 1024 * 1024;

/** A host size that fits the process count when the caller does not say. */
export function defaultCpus(processes: number): number {
  if (processes <= 300) return 4;
  if (processes <= 1000) return 8;
  if (processes <= 3000) return 16;
  if (processes <= 10000) return 32;
  if (processes <= 40000) return 64;
  return 128;
}

export function makeHost(
  rng: Rng,
  seed: number,
  cpus: number,
  uptime: number,
  procs: SynthProc[],
  clkTck: number,
  pageSize: number,
): HostModel {
  let rss = 0;
  let user = 0;
  let sys = 0;
  let ctx = 0;
  for (const p of procs) {
    rss += p.rssBytes;
    user += p.utimeTicks;
    sys += p.stimeTicks;
    ctx += p.volCtx + p.involCtx;
  }
  // Memory: a power-of-two machine (~4 GiB per core) big enough for the resident sets.
  let gib = 8;
  while (gib < cpus * 4 || gib * GiB < rss * 1.6) gib *= 2;
  gib = Math.min(gib, 8192);
  const memTotalKb = Math.floor((gib * GiB * rng.range(0.955, 0.975)) / 1024);
  const usedKb = Math.min(memTotalKb * 0.85, rss / 1024 / 1.25);
  const cachedKb = Math.floor((memTotalKb - usedKb) * rng.range(0.2, 0.5));
  const buffersKb = Math.floor(memTotalKb * rng.range(0.005, 0.02));
  const memFreeKb = Math.max(1024, Math.floor(memTotalKb - usedKb - cachedKb - buffersKb));
  // CPU: what live processes used plus the history of the ones that exited.
  const hist = rng.range(1.1, 1.4);
  const userTicks = Math.round(user * hist);
  const systemTicks = Math.round(sys * hist * 1.2);
  const irqTicks = Math.round(uptime * clkTck * cpus * 0.0005);
  const softirqTicks = Math.round(uptime * clkTck * cpus * 0.003);
  const iowaitTicks = Math.round(uptime * clkTck * cpus * rng.range(0.0005, 0.01));
  const niceTicks = Math.round(userTicks * 0.01);
  const busy = userTicks + systemTicks + irqTicks + softirqTicks + iowaitTicks + niceTicks;
  const idleTicks = Math.max(0, Math.round(uptime * clkTck * cpus) - busy);
  const btime = 1_750_000_000 - Math.floor(uptime) - rng.int(0, 86400 * 60);
  void pageSize;
  return {
    hostname: `synth-${seed}`,
    btime,
    uptime,
    cpus,
    memTotalBytes: memTotalKb * 1024,
    userTicks,
    niceTicks,
    idleTicks,
    systemTicks,
    iowaitTicks,
    irqTicks,
    softirqTicks,
    ctxt: Math.round(ctx * hist * 1.3),
    intr: Math.round(ctx * hist * 0.9 + uptime * cpus * 300),
    forks: 0,
    memFreeKb,
    buffersKb,
    cachedKb,
  };
}

/** Add `dt` seconds to the host clock given the process CPU ticks spent in it. */
export function advanceHostClock(
  h: HostModel,
  dt: number,
  userDelta: number,
  sysDelta: number,
  ctxDelta: number,
  clkTck: number,
): void {
  h.uptime = Math.round((h.uptime + dt) * 100) / 100;
  const irq = Math.round(dt * clkTck * h.cpus * 0.0005);
  const soft = Math.round(dt * clkTck * h.cpus * 0.003);
  const io = Math.round(dt * clkTck * h.cpus * 0.002);
  h.userTicks += userDelta;
  h.systemTicks += sysDelta;
  h.irqTicks += irq;
  h.softirqTicks += soft;
  h.iowaitTicks += io;
  h.idleTicks += Math.max(0, Math.round(dt * clkTck * h.cpus) - userDelta - sysDelta - irq - soft - io);
  h.ctxt += Math.round(ctxDelta * 1.2);
  h.intr += Math.round(ctxDelta * 0.8 + dt * h.cpus * 300);
}

function split(total: number, w: number[]): number[] {
  return w.map((x) => Math.floor(total * x));
}

/** The text of every host file, keyed by path relative to the root. */
export function hostFiles(st: SynthState): [string, string][] {
  const h = st.host;
  const cpus = h.cpus;
  // Fixed per-CPU shares so per-CPU counters never go backwards.
  const wr = new Rng(mixSeed(st.seed, 0xc0ffee));
  const w = Array.from({ length: cpus }, () => wr.range(0.8, 1.2));
  const ws = w.reduce((a, b) => a + b, 0);
  for (let i = 0; i < cpus; i++) w[i] /= ws;
  const cols = [
    h.userTicks,
    h.niceTicks,
    h.systemTicks,
    h.idleTicks,
    h.iowaitTicks,
    h.irqTicks,
    h.softirqTicks,
    0,
    0,
    0,
  ];
  const per = cols.map((c) => split(c, w));
  const agg = per.map((col) => col.reduce((a, b) => a + b, 0));
  const lines = [`cpu  ${agg.join(' ')}`];
  for (let i = 0; i < cpus; i++) lines.push(`cpu${i} ${per.map((col) => col[i]).join(' ')}`);
  const irqs = split(h.intr, [0.31, 0.22, 0.12, 0.09, 0.08, 0.06, 0.05, 0.04, 0.03]);
  lines.push(`intr ${h.intr} 0 ${irqs.join(' ')} ${new Array(24).fill(0).join(' ')}`);
  lines.push(`ctxt ${h.ctxt}`);
  lines.push(`btime ${h.btime}`);
  let running = 0;
  let blocked = 0;
  let threads = 0;
  let load = 0;
  for (const p of st.procs) {
    if (p.state === 'R') running++;
    else if (p.state === 'D') blocked++;
    threads += p.threads;
    load += p.m.cpuRate;
  }
  lines.push(`processes ${h.forks}`);
  lines.push(`procs_running ${Math.max(1, running)}`);
  lines.push(`procs_blocked ${blocked}`);
  const soft = split(h.softirqTicks * 40, [0.001, 0.35, 0.05, 0.2, 0.05, 0, 0.02, 0.18, 0.04, 0.109]);
  lines.push(`softirq ${soft.reduce((a, b) => a + b, 0)} ${soft.join(' ')}`);
  const idleSec = h.idleTicks / st.clkTck;
  const l1 = load * 1.05;
  const memTotalKb = h.memTotalBytes / 1024;
  const availKb = h.memFreeKb + h.cachedKb + h.buffersKb;
  const kb = (k: string, v: number) => `${`${k}:`.padEnd(16)}${String(Math.max(0, Math.round(v))).padStart(8)} kB`;
  const meminfo = [
    kb('MemTotal', memTotalKb),
    kb('MemFree', h.memFreeKb),
    kb('MemAvailable', availKb * 0.95),
    kb('Buffers', h.buffersKb),
    kb('Cached', h.cachedKb),
    kb('SwapCached', 0),
    kb('Active', (memTotalKb - h.memFreeKb) * 0.6),
    kb('Inactive', (memTotalKb - h.memFreeKb) * 0.3),
    kb('Active(anon)', (memTotalKb - h.memFreeKb - h.cachedKb) * 0.55),
    kb('Inactive(anon)', (memTotalKb - h.memFreeKb - h.cachedKb) * 0.05),
    kb('Active(file)', h.cachedKb * 0.5),
    kb('Inactive(file)', h.cachedKb * 0.45),
    kb('Unevictable', 32768),
    kb('Mlocked', 32768),
    kb('SwapTotal', 0),
    kb('SwapFree', 0),
    kb('Dirty', 1240),
    kb('Writeback', 0),
    kb('AnonPages', (memTotalKb - h.memFreeKb - h.cachedKb) * 0.6),
    kb('Mapped', h.cachedKb * 0.1),
    kb('Shmem', h.cachedKb * 0.05),
    kb('KReclaimable', memTotalKb * 0.02),
    kb('Slab', memTotalKb * 0.03),
    kb('SReclaimable', memTotalKb * 0.02),
    kb('SUnreclaim', memTotalKb * 0.01),
    kb('KernelStack', threads * 16),
    kb('PageTables', memTotalKb * 0.004),
    kb('CommitLimit', memTotalKb / 2),
    kb('Committed_AS', memTotalKb * 0.9),
    kb('VmallocTotal', 34359738367),
    kb('VmallocUsed', 65536),
    kb('VmallocChunk', 0),
    kb('HugePages_Total', 0).replace(' kB', ''),
    kb('HugePages_Free', 0).replace(' kB', ''),
    kb('Hugepagesize', 2048),
    kb('DirectMap4k', 401408),
    kb('DirectMap2M', memTotalKb * 0.6),
  ];
  return [
    ['uptime', `${h.uptime.toFixed(2)} ${idleSec.toFixed(2)}\n`],
    ['stat', `${lines.join('\n')}\n`],
    ['meminfo', `${meminfo.join('\n')}\n`],
    [
      'loadavg',
      `${l1.toFixed(2)} ${(load * 0.98).toFixed(2)} ${(load * 0.95).toFixed(2)} ${Math.max(1, running)}/${threads} ${st.nextPid - 1}\n`,
    ],
    ['sys/kernel/hostname', `${h.hostname}\n`],
  ];
}

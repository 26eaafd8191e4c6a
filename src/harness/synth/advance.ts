/**
 * advanceHost: move a synthetic tree's clock forward, accrue every live
 * process's counters, churn short-lived processes (with a pid reuse) and
 * inject anomalies.
 */
import { ErrorCodes, NrdotError } from '../../core/errors.js';
import { sysconf } from '../../sources/procfs/sysconf.js';
import { anomalyKinds, applyExisting, NEW_HOGS } from './anomalies.js';
import type { Spec } from './builder.js';
import { SHELL_TOOLS, UID } from './catalog.js';
import { resolvePlacement } from './cgroup.js';
import { DEFAULT_CHURN, pickExits, respawn } from './churn.js';
import { formatCtx } from './format.js';
import { CHUNK, yieldToLoop } from './generate.js';
import { sleepSpec, toolSpec } from './groups-system.js';
import { advanceHostClock, hostFiles } from './host.js';
import { accrue, pickState, setRss } from './model.js';
import { mixSeed, Rng } from './prng.js';
import { bornAt, linkProc, makeProc } from './proc.js';
import { PLANS } from './shapes.js';
import { cgroupCtx, readState, truthOf, writeState } from './state.js';
import { removeProcDir, rewriteProcCounters, writeHostFiles, writeProcDir } from './tree.js';
import type { AdvanceOptions, AdvanceResult, AnomalyKind, SynthProc, SynthState } from './types.js';

const MiB = 1024 * 1024;

export async function advanceHost(opts: AdvanceOptions): Promise<AdvanceResult> {
  const dt = opts.seconds;
  if (!Number.isFinite(dt) || dt <= 0)
    throw new NrdotError(ErrorCodes.SYNTH, `synth advance: seconds must be > 0, got ${dt}`);
  const k = opts.anomalies ?? 0;
  if (!Number.isInteger(k) || k < 0)
    throw new NrdotError(ErrorCodes.SYNTH, `synth advance: anomalies must be an integer >= 0, got ${k}`);
  if (opts.churn !== undefined && !(opts.churn >= 0 && opts.churn <= 1))
    throw new NrdotError(ErrorCodes.SYNTH, `synth advance: churn must be in [0, 1], got ${opts.churn}`);
  const dir = opts.dir;
  const st = readState(dir);
  const { clkTck, pageSize } = sysconf();
  if (st.clkTck !== clkTck || st.pageSize !== pageSize) {
    throw new NrdotError(
      ErrorCodes.SYNTH,
      `synth advance: ${dir} was written with CLK_TCK=${st.clkTck} PAGESIZE=${st.pageSize}, this machine has ${clkTck}/${pageSize}`,
    );
  }
  const { anomalies, exited, spawned } = stepState(st, opts, clkTck, pageSize);
  const live = st.procs;

  const fc = formatCtx(st.host.cpus, pageSize, st.host.memTotalBytes);
  const cg = cgroupCtx(st);
  for (const pid of exited) removeProcDir(dir, pid);
  const fresh = new Set(spawned);
  const total = live.length;
  for (let i = 0; i < total; i++) {
    const p = live[i];
    if (fresh.has(p.pid)) writeProcDir(dir, p, fc, cg);
    else rewriteProcCounters(dir, p, fc, false);
    if ((i + 1) % CHUNK === 0 && i + 1 < total) {
      opts.onProgress?.(i + 1, total);
      await yieldToLoop();
    }
  }
  writeHostFiles(dir, hostFiles(st), true);
  writeState(dir, st);
  opts.onProgress?.(total, total);
  return { ...truthOf(st), anomalies, exited, spawned };
}

/**
 * Move the model `opts.seconds` forward in memory: churn, anomalies, every
 * live process's counters, spawns, the host clock. advanceHost writes the
 * result as a tree; the simulator (src/harness/synth/memory.ts) reads it
 * directly. `cpuScale` multiplies every process's CPU rate for this step (a
 * load cycle); absent, the step is exactly what `synth advance` does.
 */
export function stepState(
  st: SynthState,
  opts: Pick<AdvanceOptions, 'seconds' | 'anomalies' | 'churn'> & { cpuScale?: number },
  clkTck: number,
  pageSize: number,
): { anomalies: { pid: number; kind: AnomalyKind }[]; exited: number[]; spawned: number[] } {
  const dt = opts.seconds;
  const k = opts.anomalies ?? 0;
  const churn = opts.churn ?? DEFAULT_CHURN[st.shape];
  const plan = st.shape === 'mixed' ? undefined : PLANS[st.shape];
  const cpuScale = opts.cpuScale;
  st.step++;
  const rng = new Rng(mixSeed(st.seed, st.step));
  const U0 = st.host.uptime;
  const U1 = Math.round((U0 + dt) * 100) / 100;
  const byPid = new Map<number, SynthProc>();
  for (const p of st.procs) byPid.set(p.pid, p);
  const cpus = st.host.cpus;

  // 1. Churn: short-lived processes (and, on shaped hosts, whole pods or jobs) exit in the interval.
  let exiting: SynthProc[];
  if (plan) exiting = pickExits(rng, st.procs, churn, plan.churn);
  else {
    // The mixed host's churn, unchanged: short-lived leaves only.
    const kids = new Map<number, number>();
    for (const p of st.procs) kids.set(p.ppid, (kids.get(p.ppid) ?? 0) + 1);
    const candidates = rng.shuffle(
      st.procs.filter((p) => p.m.ephemeral && !p.kernel && p.state !== 'Z' && !kids.has(p.pid)),
    );
    const n =
      churn > 0 && candidates.length > 0
        ? Math.min(candidates.length, Math.max(1, Math.round(churn * st.procs.length)))
        : 0;
    exiting = candidates.slice(0, n);
  }
  const nExit = exiting.length;
  const exited: number[] = [];
  let userDelta = 0;
  let sysDelta = 0;
  let ctxDelta = 0;
  const accrueCounted = (p: SynthProc, sec: number) => {
    const u = p.utimeTicks;
    const s = p.stimeTicks;
    const c = p.volCtx + p.involCtx;
    if (cpuScale !== undefined && cpuScale !== 1) {
      const rate = p.m.cpuRate;
      p.m.cpuRate = rate * cpuScale;
      accrue(p, sec, rng, clkTck);
      p.m.cpuRate = rate;
    } else accrue(p, sec, rng, clkTck);
    userDelta += p.utimeTicks - u;
    sysDelta += p.stimeTicks - s;
    ctxDelta += p.volCtx + p.involCtx - c;
  };
  for (const p of exiting) {
    accrueCounted(p, dt * rng.next());
    const parent = byPid.get(p.ppid);
    if (parent) {
      parent.m.cutime += p.utimeTicks + p.m.cutime;
      parent.m.cstime += p.stimeTicks + p.m.cstime;
      parent.m.cminflt += p.minflt + p.m.cminflt;
      parent.m.cmajflt += p.majflt + p.m.cmajflt;
    }
    byPid.delete(p.pid);
    exited.push(p.pid);
  }
  const exitSet = new Set(exited);
  const before = st.procs;
  let live = st.procs.filter((p) => !exitSet.has(p.pid));

  // 2. Anomalies on existing processes apply from the start of the interval.
  const kinds = anomalyKinds(rng, k);
  const anomalies: { pid: number; kind: AnomalyKind }[] = [];
  // Prefer long-lived services; fall back to any other user-space process.
  const balloon = applyExisting(rng, kinds, live, cpus, anomalies);

  // 3. Every live process accrues the interval; memory drifts.
  for (const p of live) {
    accrueCounted(p, dt);
    if (!p.kernel && p.state !== 'Z') {
      let rss = p.rssBytes * rng.jitter(0.01);
      if (balloon.has(p.pid)) {
        rss = Math.min(p.rssBytes * rng.range(5, 20), st.host.memTotalBytes * 0.4);
      }
      setRss(p, rss, pageSize);
    }
    p.state = pickState(p, rng);
  }

  // 4. Spawns: replacements for the exited (the first one reuses a freed pid) and 'new' anomalies.
  const spawnedProcs: SynthProc[] = [];
  const shells = live.filter((p) => p.category === 'shell' && p.m.ttyNr !== 0 && p.state !== 'Z');
  const nSpawn = plan ? 0 : nExit > 0 ? Math.max(1, nExit + rng.int(-1, 1)) : 0;
  let reuse = exited.length > 0 ? exited[exited.length - 1] : 0;
  const reusedStart = reuse ? (exiting[exiting.length - 1]?.starttimeTicks ?? 0) : 0;
  const allocPid = (): number => {
    if (reuse) {
      const pid = reuse;
      reuse = 0;
      return pid;
    }
    st.nextPid += 1 + Math.floor(rng.exp(3));
    return st.nextPid - 1;
  };
  const spawn = (spec: Spec, parent: SynthProc | undefined, leader: 0 | 1 | 2): SynthProc => {
    const p = makeProc(rng, spec, cpus);
    p.pid = allocPid();
    linkProc(p, parent, leader);
    p.m.cg = resolvePlacement(p, undefined, undefined, parent);
    let ticks = Math.floor((U0 + rng.range(0.05, 0.95) * dt) * clkTck);
    if (p.pid === exited[exited.length - 1] && ticks <= reusedStart) ticks = reusedStart + 1;
    p.starttimeTicks = Math.min(ticks, Math.floor(U1 * clkTck));
    if (parent && p.starttimeTicks < parent.starttimeTicks) p.starttimeTicks = parent.starttimeTicks;
    bornAt(p, U1, rng, clkTck, pageSize);
    userDelta += p.utimeTicks;
    sysDelta += p.stimeTicks;
    ctxDelta += p.volCtx + p.involCtx;
    spawnedProcs.push(p);
    return p;
  };
  if (plan && nExit > 0) {
    const made = respawn({
      rng,
      aux: new Rng(mixSeed(st.seed ^ 0xa11c5, st.step)),
      spec: plan.churn,
      before,
      live,
      exiting,
      cpus,
      from: U0,
      to: U1,
      clkTck,
      pageSize,
      alloc: allocPid,
      minTicks: (pid) => (pid === exited[exited.length - 1] ? reusedStart + 1 : 0),
    });
    for (const p of made) {
      userDelta += p.utimeTicks;
      sysDelta += p.stimeTicks;
      ctxDelta += p.volCtx + p.involCtx;
      spawnedProcs.push(p);
    }
  }
  for (let i = 0; i < nSpawn; i++) {
    const sh = shells.length > 0 ? rng.pick(shells) : undefined;
    const ids = sh ? ([sh.uid, sh.m.gid] as const) : UID.root;
    const tty = sh ? sh.m.ttyNr : 0;
    const spec = rng.chance(0.25) ? sleepSpec('fresh', ids, tty) : toolSpec(rng.pick(SHELL_TOOLS), ids, tty, 'fresh');
    spawn(spec, sh ?? byPid.get(1), 1);
  }
  for (const kind of kinds) {
    if (kind !== 'new') continue;
    const hog = rng.pick(NEW_HOGS);
    const sh = shells.length > 0 && rng.chance(0.5) ? rng.pick(shells) : undefined;
    const ids = sh ? ([sh.uid, sh.m.gid] as const) : hog.role === 'miner' ? UID.nobody : UID.root;
    const p = spawn(
      { ...hog, ids, start: 'fresh', fdKind: hog.fdKind ?? 'std', tty: sh ? sh.m.ttyNr : 0, cpuSigma: 0.05 },
      sh ?? byPid.get(1),
      sh ? 1 : 2,
    );
    p.m.cpuRate = Math.min(Math.max(p.m.cpuRate, 0.8), p.threads, cpus);
    setRss(p, Math.max(p.rssBytes, 200 * MiB), pageSize);
    p.anomaly = 'new';
    anomalies.push({ pid: p.pid, kind: 'new' });
  }
  st.host.forks += spawnedProcs.length + rng.int(0, Math.ceil(dt));

  // 5. Host clock and files.
  advanceHostClock(st.host, dt, userDelta, sysDelta, ctxDelta, clkTck);
  st.host.uptime = U1;
  live = live.concat(spawnedProcs).sort((a, b) => a.pid - b.pid);
  st.procs = live;
  const spawned = spawnedProcs.map((p) => p.pid);
  st.lastAdvance = { anomalies, exited, spawned };
  return { anomalies, exited, spawned };
}

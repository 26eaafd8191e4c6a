/**
 * The simulator: the real engine (the stage list) over a simulated clock,
 * scanning a source (source.ts): a synthetic host held in memory with a
 * daily load cycle (CPU rates swing `swing`x between 02:00 and 14:00 UTC),
 * the shape's churn and injected anomalies, or a recording replayed on its
 * own clock. Optionally the control loop (a budget) steers the profile and
 * knob, or a fixed knob scale is held. Each cycle stands for
 * `config.interval` of a real agent's exports (cost per hour uses it); for a
 * synthetic host the clock moves `stepMs` between cycles, so a week needs
 * far fewer cycles than a real agent runs.
 */
import type { Config } from '../../config/schema.js';
import { durationMs } from '../../config/schema.js';
import { silentLogger } from '../../core/log.js';
import { Engine, type ExportSink } from '../../pipeline/engine.js';
import type { CycleReport } from '../../pipeline/types.js';
import { ReplayScanner } from '../../sources/recording/replay.js';
import { KnobCache } from '../loop/knobs.js';
import { ControlPlane, type ControlStatus } from '../loop/plane.js';
import type { Budget } from '../schedule/config.js';
import { SIM_START_MS, type SimSource, type SourceInfo, type SyntheticSpec, syntheticSource } from './source.js';

export interface SimulateOptions {
  config: Config;
  /** what the report calls this run */
  label: string;
  profile: string;
  /** steer with the control loop toward this budget */
  budget?: Budget;
  /** hold the knob at this scale in (0, 1] for the whole run (without a budget) */
  scale?: number;
  /** cycles run: durationMs / stepMs */
  durationMs: number;
  /** simulated time between cycles (a recording moves by its own recorded interval) */
  stepMs: number;
  /** what to scan: a synthetic host (built here) or a source (a recording: source.ts) */
  source: SyntheticSpec | (() => SimSource);
  /** simulated start of a synthetic host (default Monday 2025-01-06 00:00 UTC) */
  startMs?: number;
  /** peak / trough of the daily CPU load of a synthetic host (default 4) */
  swing?: number;
  anomaliesPerDay?: number;
  onProgress?: (done: number, total: number) => void;
  /** every cycle's report and the control plane's status after it (benchmarks) */
  onCycle?: (r: CycleReport, control: ControlStatus, nowMs: number) => void;
}

export interface SimulateResult {
  label: string;
  profile: string;
  budget: Budget | null;
  /** the knob scale held (1 unless `scale` was given) */
  scale: number;
  source: SourceInfo;
  /** processes scanned per cycle, mean */
  processes: number;
  cycles: number;
  simulatedHours: number;
  /** per hour and per day of a real agent at config.interval */
  points: { perHour: number; perDay: number };
  bytes: { perHour: number; perDay: number };
  usd: { perHour: number; perDay: number; maxHour: number };
  baseline: { pointsPerHour: number; bytesPerHour: number; usdPerHour: number };
  reduction: { points: number; bytes: number };
  coverage: { criticalMin: number; anomalyMin: number };
  visibility: { min: number; mean: number };
  /** injected: null for a recording (nothing is injected; promoted counts what scoring found) */
  anomalies: { injected: number | null; promoted: number };
  /** changes of profile seen between cycles, and control decisions (profile or knob) */
  profileSwitches: number;
  controlDecisions: number;
  /** the profile of the most cycles */
  profiles: Record<string, number>;
  budgetUnmetCycles: number;
  /**
   * A recording that did not read every process in detail (an agent's
   * history under scan.detail: exported): rows asked for in detail, and how
   * many of them the recording lacks (their status, io and fd values are
   * UNKNOWN, so their points are not counted). null for a synthetic host.
   */
  detail: { asked: number; missing: number } | null;
  wallMs: number;
  /** process-cycles per second of wall time */
  throughput: number;
}

const NULL_SINK: ExportSink = {
  start: async () => {},
  export: async () => [],
  shutdown: async () => {},
};

/** The load multiplier at `ms`: 1 at 14:00 UTC, 1/swing at 02:00. */
export function loadAt(ms: number, swing: number): number {
  const h = (ms / 3_600_000) % 24;
  const lo = 1 / swing;
  return lo + (1 - lo) * (0.5 + 0.5 * Math.cos((2 * Math.PI * (h - 14)) / 24));
}

export async function simulate(o: SimulateOptions): Promise<SimulateResult> {
  const config: Config = structuredClone(o.config);
  config.control.budget = o.budget ?? null;
  if (!o.budget) config.control.schedules = [];
  const intervalMs = durationMs(config.interval);
  const src = typeof o.source === 'function' ? o.source() : syntheticSource(o.source, o.startMs ?? SIM_START_MS);
  const synthetic = src.describe.kind === 'synthetic';
  const engine = new Engine({
    config,
    profile: o.profile,
    scanner: src.scanner,
    sink: NULL_SINK,
    intervalMs,
    logger: silentLogger,
    now: src.now,
    workers: 0,
  });
  const plane = new ControlPlane({
    config,
    engine,
    logger: silentLogger,
    now: src.now,
    intervalMs,
    baseProfile: o.profile,
  });
  const scale = o.budget ? 1 : (o.scale ?? 1);
  if (scale < 1) {
    const knobs = new KnobCache();
    engine.setProfileOverride((name, p) => knobs.get(name, p, scale));
  }
  await engine.start();
  const stepMs = src.describe.kind === 'recording' ? src.describe.intervalMs : o.stepMs;
  const total = Math.max(1, Math.floor(o.durationMs / stepMs));
  const swing = o.swing ?? 4;
  const perStep = synthetic ? ((o.anomaliesPerDay ?? 24) * stepMs) / 86_400_000 : 0;
  let owed = 0;
  const acc = { points: 0, bytes: 0, usd: 0, maxUsd: 0, bPoints: 0, bBytes: 0, bUsd: 0, vis: 0 };
  let critMin = 1;
  let anomMin = 1;
  let visMin = 1;
  let injected = 0;
  let promoted = 0;
  let switches = 0;
  let unmet = 0;
  let last: string | undefined;
  const profiles: Record<string, number> = {};
  let processCycles = 0;
  const t0 = performance.now();
  for (let k = 0; k < total; k++) {
    if (k > 0) {
      owed += perStep;
      const n = Math.floor(owed);
      owed -= n;
      injected += src.advance(stepMs, n, loadAt(src.now(), swing));
    }
    const r = await engine.cycle();
    processCycles += r.processes;
    if (!(scale < 1)) plane.afterCycle(r);
    o.onCycle?.(r, plane.status(), src.now());
    if (k === 0) continue; // the first cycle has no rates
    acc.points += r.datapoints.exported;
    acc.bytes += r.bytes.exported;
    acc.usd += r.cost.hourlyUsd;
    acc.maxUsd = Math.max(acc.maxUsd, r.cost.hourlyUsd);
    acc.bPoints += r.baselines.hostmetrics.points;
    acc.bBytes += r.bytes.baseline;
    acc.bUsd += r.cost.baselineHourlyUsd;
    const v = Math.min(r.visibility.cpu, r.visibility.memory);
    acc.vis += v;
    visMin = Math.min(visMin, v);
    critMin = Math.min(critMin, r.coverageCritical);
    anomMin = Math.min(anomMin, r.coverageAnomaly);
    promoted += r.anomalies.promoted.cpu + r.anomalies.promoted.memory + r.anomalies.promoted.new;
    if (last !== undefined && r.profile !== last) switches++;
    last = r.profile;
    profiles[r.profile] = (profiles[r.profile] ?? 0) + 1;
    if (plane.status().unmet) unmet++;
    o.onProgress?.(k + 1, total);
  }
  o.onProgress?.(total, total);
  await engine.shutdown();
  const replay = src.scanner instanceof ReplayScanner ? src.scanner : undefined;
  const detail = replay ? { asked: replay.detailAsked, missing: replay.detailMissing } : null;
  src.close?.();
  const wallMs = performance.now() - t0;
  const m = Math.max(1, total - 1);
  const perHour = 3_600_000 / intervalMs;
  const ptsH = (acc.points / m) * perHour;
  const bytesH = (acc.bytes / m) * perHour;
  const usdH = acc.usd / m;
  return {
    label: o.label,
    profile: o.profile,
    budget: o.budget ?? null,
    scale,
    source: src.describe,
    processes: processCycles / total,
    cycles: total,
    simulatedHours: (total * stepMs) / 3_600_000,
    points: { perHour: ptsH, perDay: ptsH * 24 },
    bytes: { perHour: bytesH, perDay: bytesH * 24 },
    usd: { perHour: usdH, perDay: usdH * 24, maxHour: acc.maxUsd },
    baseline: {
      pointsPerHour: (acc.bPoints / m) * perHour,
      bytesPerHour: (acc.bBytes / m) * perHour,
      usdPerHour: acc.bUsd / m,
    },
    reduction: {
      points: acc.bPoints > 0 ? 1 - acc.points / acc.bPoints : 0,
      bytes: acc.bBytes > 0 ? 1 - acc.bytes / acc.bBytes : 0,
    },
    coverage: { criticalMin: critMin, anomalyMin: anomMin },
    visibility: { min: visMin, mean: acc.vis / m },
    anomalies: { injected: synthetic ? injected : null, promoted },
    profileSwitches: switches,
    controlDecisions: plane.decisions.budget + plane.decisions.schedule,
    profiles,
    budgetUnmetCycles: unmet,
    detail,
    wallMs,
    throughput: processCycles / (wallMs / 1000),
  };
}

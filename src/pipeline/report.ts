/**
 * The cycle report: what one cycle did, from the frame's facts, the cost
 * stage's output and the exporters' outcomes (pure), and the cycle's result
 * for whoever watches the engine.
 */
import type { Frame } from '../core/frame.js';
import type { Logger } from '../core/log.js';
import type { CycleOutput } from '../stages/cost/index.js';
import type { CycleReport, CycleResult, ExportOutcome, MemoryView } from './types.js';

export interface ReportInput {
  frame: Frame;
  out: CycleOutput;
  profile: string;
  backend: string;
  memory?: MemoryView;
  scanMs: number;
  cycleMs: number;
  exports: ExportOutcome[];
  exportErrors: number;
}

export function cycleReport(r: ReportInput): CycleReport {
  const { frame: f, out } = r;
  const facts = f.facts;
  const exportedBytes = out.encoded.length;
  const exportedPoints = out.points.exported;
  const { hostmetrics: hm, sameSet } = facts.baseline;
  const saved = (x: number, of: number) => (of > 0 ? 1 - x / of : 0);
  const requests = out.requests();
  return {
    cycle: f.cycle,
    profile: r.profile,
    backend: r.backend,
    processes: f.n,
    exported: facts.kept,
    rolledUp: f.n - facts.kept,
    rollupGroups: facts.rollupGroups,
    critical: { present: facts.criticalPresent, exported: facts.criticalExported },
    datapoints: { exported: exportedPoints, processes: out.points.processes, baseline: hm.points },
    extra: { ...out.extra },
    bytes: { exported: exportedBytes, baseline: hm.bytes },
    reduction: {
      bytes: saved(exportedBytes, hm.bytes),
      datapoints: saved(exportedPoints, hm.points),
      sameSet: { bytes: saved(exportedBytes, sameSet.bytes), datapoints: saved(exportedPoints, sameSet.points) },
    },
    baselines: { hostmetrics: { ...hm }, sameSet: { ...sameSet } },
    coverageCritical: out.self.coverageCritical,
    anomalies: { present: facts.anomaliesPresent, exported: facts.anomaliesExported, promoted: facts.promoted },
    coverageAnomaly: out.self.coverageAnomaly,
    visibility: { ...out.self.visibility },
    cost: { hourlyUsd: out.hourly(exportedBytes), baselineHourlyUsd: out.hourly(hm.bytes) },
    droppedBy: { ...facts.droppedBy },
    paths: {
      critical: { points: out.pathPoints.critical, requests: requests.critical },
      standard: { points: out.pathPoints.standard, requests: requests.standard },
      sampled: { points: out.pathPoints.sampled, requests: requests.sampled },
      heartbeatSkipped: facts.heartbeatSkipped,
      sampleRate: facts.sampleRate,
    },
    exportErrors: r.exportErrors,
    queued: {
      records: out.health.reduce((a, h) => a + h.queue.records, 0),
      bytes: out.health.reduce((a, h) => a + h.queue.bytes, 0),
    },
    memory: { tier: r.memory?.tier ?? 0, tierName: r.memory?.tierName ?? 'normal', usage: r.memory?.usage ?? 0 },
    scan: { ...f.batch.counters, ms: r.scanMs },
    cycleMs: r.cycleMs,
    exports: r.exports,
  };
}

/** Critical processes and anomalies are always exported: coverage below 100% is a bug, and the log says so. */
export function checkCoverage(r: CycleReport, logger: Logger): void {
  if (r.coverageCritical < 1) logger.error({ critical: r.critical }, 'critical coverage below 100%: this is a bug');
  if (r.coverageAnomaly < 1) logger.error({ anomalies: r.anomalies }, 'anomaly coverage below 100%: this is a bug');
}

/** What the engine's listeners get after a cycle. */
export function cycleResult(report: CycleReport, out: CycleOutput, f: Frame): CycleResult {
  return {
    report,
    self: out.self,
    request: out.request,
    exportedPids: f.built?.exportedPids,
    heldPids: f.built?.heldPids ?? [],
  };
}

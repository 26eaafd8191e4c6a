/**
 * cost: what this cycle's export costs against the baseline (every process
 * exported), and nrdot's own telemetry, which travels on the critical path
 * and is part of what it costs. Every self-telemetry value is a double, so
 * its encoded size is measured first with placeholder values and the cost
 * then reported includes the self-telemetry itself. The request is the
 * build's encoding, then the extra resources (discovered services: one
 * resource each, on the critical path, counted in the cost), then the
 * self-telemetry's; per-path requests under the size limits are cut from it
 * only if an exporter asks for them.
 */
import type { Frame } from '../../core/frame.js';
import type { LaneBatch } from '../../core/lanes.js';
import type { Logger } from '../../core/log.js';
import { EncodedRequest } from '../../exporters/exporter.js';
import type { ExportHealth } from '../../exporters/otlp/queued.js';
import { countDataPoints, type ResourceMetrics } from '../../otlp/model.js';
import { decodeRequest, encodeRequest } from '../../otlp/proto.js';
import { reportSplit, splitByLane } from '../../otlp/split.js';
import type { CycleContext, Stage } from '../../pipeline/stage.js';
import type { PipelineTotals } from '../../pipeline/telemetry.js';
import { type SelfValues, selfResource } from '../../telemetry/self.js';
import { visibility } from './visibility.js';

export interface CostOptions {
  intervalMs: number;
  pricePerGb: number;
  /** add nrdot's own telemetry to the export (off for received data) */
  selfTelemetry: boolean;
  agentStartMs: number;
  criticalMaxRequestBytes: number;
  maxRequestBytes: number;
  /** the exporters' queues and breakers, at this moment */
  health: () => ExportHealth[];
  totals: PipelineTotals;
  /** the scan's duration this cycle, ms */
  scanMs: () => number;
  logger: Logger;
  /** resources appended to every export on the critical path (must not throw) */
  extraResources?: (at: { nowMs: number; hostName: string }) => readonly ResourceMetrics[];
}

/** What goes to the exporters, and the figures of the report. */
export interface CycleOutput {
  /** the whole request, protobuf */
  encoded: Buffer;
  /** the same, for the exporters (its model is decoded only if one asks for it) */
  request: EncodedRequest;
  /** the same data split by path and size (computed on first use) */
  batches: () => readonly LaneBatch[];
  /** whether `batches` was computed, and its requests per path */
  requests: () => { critical: number; standard: number; sampled: number };
  self: SelfValues;
  points: { exported: number; processes: number };
  /** the extra resources of this cycle: how many, their data points and encoded bytes */
  extra: { resources: number; points: number; bytes: number };
  pathPoints: { critical: number; standard: number; sampled: number };
  hourly: (bytes: number) => number;
  health: ExportHealth[];
}

export class CostStage implements Stage {
  readonly name = 'cost';
  /** the output of the last cycle (read by the engine right after the stage list) */
  output?: CycleOutput;

  constructor(private readonly o: CostOptions) {}

  /** The figures that depend on the whole export: points, bytes, cost, data points saved against each baseline. */
  private settle(
    self: SelfValues,
    facts: Frame['facts'],
    exported: number,
    bytes: number,
    hourly: (bytes: number) => number,
    ctx: CycleContext,
  ): void {
    const { hostmetrics, sameSet } = facts.baseline;
    self.datapointsExported = exported;
    self.costBytes = bytes;
    self.costHourly = hourly(bytes);
    self.reductionRatio = hostmetrics.points > 0 ? 1 - exported / hostmetrics.points : 0;
    self.reductionRatioSameSet = sameSet.points > 0 ? 1 - exported / sameSet.points : 0;
    self.cycleSeconds = (performance.now() - ctx.cycleStart) / 1000;
  }

  process(f: Frame, ctx: CycleContext): void {
    const o = this.o;
    const built = f.built!;
    const b = f.batch;
    const facts = f.facts;
    let processPoints = 0;
    const pathPoints = { critical: 0, standard: 0, sampled: 0 };
    for (const [k, p] of built.points.entries()) {
      processPoints += p;
      pathPoints[built.lanes[k]!] += p;
    }
    const extras = o.extraResources?.({ nowMs: f.nowMs, hostName: b.host.hostname }) ?? [];
    const extraPb = extras.length > 0 ? encodeRequest({ resourceMetrics: [...extras] }) : undefined;
    const extraPoints = extras.map((rm) => countDataPoints({ resourceMetrics: [rm] }));
    const extra = {
      resources: extras.length,
      points: extraPoints.reduce((a, x) => a + x, 0),
      bytes: extraPb?.length ?? 0,
    };
    pathPoints.critical += extra.points;
    const intervalSec = o.intervalMs / 1000;
    const hourly = (bytes: number) => (bytes * (3600 / intervalSec) * o.pricePerGb) / 1e9;
    const health = o.health();
    const memory = ctx.memory;
    const totals = o.totals;
    totals.promotions(facts);
    const self: SelfValues = {
      processesSeen: f.n,
      processesExported: facts.kept,
      processesRolledUp: f.n - facts.kept,
      datapointsExported: 0,
      datapointsBaseline: facts.baseline.hostmetrics.points,
      datapointsBaselineSameSet: facts.baseline.sameSet.points,
      // data points, as the metric's name says (the report counts processes)
      droppedThreshold: facts.droppedPoints.threshold,
      droppedTopN: facts.droppedPoints.topN,
      droppedMaxSeries: facts.droppedPoints.maxSeries,
      costBytes: 0,
      costBaselineBytes: facts.baseline.hostmetrics.bytes,
      costBaselineBytesSameSet: facts.baseline.sameSet.bytes,
      costHourly: 0,
      reductionRatio: 0,
      reductionRatioSameSet: 0,
      coverageCritical: facts.criticalPresent === 0 ? 1 : facts.criticalExported / facts.criticalPresent,
      coverageAnomaly: facts.anomaliesPresent === 0 ? 1 : facts.anomaliesExported / facts.anomaliesPresent,
      visibility: visibility(f),
      anomaliesPromoted: { ...totals.promoted },
      anomaliesActive: facts.anomaliesPresent,
      scanSeconds: o.scanMs() / 1000,
      cycleSeconds: 0,
      scanVanished: totals.vanished,
      scanDenied: totals.denied,
      exportErrors: { ...totals.exportErrors },
      droppedMemory: facts.droppedPoints.memory,
      memoryTier: memory?.tier ?? 0,
      memoryUsage: memory?.usage ?? 0,
      pathPoints,
      samplingRate: facts.sampleRate,
      scanExcluded: { ...totals.excluded },
      exporters: health.map((h) => ({
        exporter: h.exporter,
        queueRecords: h.queue.records,
        queueBytes: h.queue.bytes,
        queueOldestAgeSec: h.queue.oldestAgeMs / 1000,
        breaker: h.breaker,
        retries: h.retries,
        dropped: h.dropped,
      })),
    };
    // the request's pieces, concatenated once below: the build's, the extras, the self-telemetry
    // (copies: the build's output stays as the build left it)
    const parts = [...built.parts];
    const lanes = [...built.lanes];
    const points = [...built.points];
    if (extraPb) {
      parts.push(extraPb);
      for (const p of extraPoints) {
        lanes.push('critical');
        points.push(p);
      }
    }
    let bodyBytes = 0;
    for (const p of parts) bodyBytes += p.length;
    let exportedPoints = processPoints + extra.points;
    if (o.selfTelemetry) {
      // size first (placeholder values, fixed width), then totals that include it
      const probe = selfResource(self, b.host.hostname, ctx.profileName, o.agentStartMs, f.nowMs);
      const selfBytes = encodeRequest({ resourceMetrics: [probe] }).length;
      const selfPoints = countDataPoints({ resourceMetrics: [probe] });
      exportedPoints += selfPoints;
      this.settle(self, facts, exportedPoints, bodyBytes + selfBytes, hourly, ctx);
      pathPoints.critical += selfPoints;
      parts.push(
        encodeRequest({
          resourceMetrics: [selfResource(self, b.host.hostname, ctx.profileName, o.agentStartMs, f.nowMs)],
        }),
      );
      lanes.push('critical');
      points.push(selfPoints);
    } else {
      this.settle(self, facts, exportedPoints, bodyBytes, hourly, ctx);
    }
    const encoded = Buffer.concat(parts);
    let split: LaneBatch[] | undefined;
    const batches = () => {
      if (!split) {
        const r = splitByLane({ protobuf: encoded, lanes, points }, (lane) =>
          lane === 'critical' ? Math.min(o.criticalMaxRequestBytes, o.maxRequestBytes) : o.maxRequestBytes,
        );
        reportSplit(r, o.logger, o.maxRequestBytes);
        split = r.batches;
      }
      return split;
    };
    const requests = () => {
      const n = { critical: 0, standard: 0, sampled: 0 };
      for (const bt of split ?? []) n[bt.lane]++;
      return n;
    };
    this.output = {
      encoded,
      request: new EncodedRequest(() => decodeRequest(encoded), encoded),
      batches,
      requests,
      self,
      points: { exported: exportedPoints, processes: processPoints },
      extra,
      pathPoints,
      hourly,
      health,
    };
  }
}

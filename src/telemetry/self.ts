/**
 * nrdot's own telemetry, exported beside the process data each cycle. Every
 * value is a double, so the encoded size does not depend on the values: the
 * engine can measure the size first and then report a cost that includes the
 * self-telemetry itself.
 */

import {
  type KeyValue,
  type Metric,
  nanosFromMs,
  type ResourceMetrics,
  str,
  TEMPORALITY_CUMULATIVE,
} from '../otlp/model.js';
import { SCOPE } from '../stages/build/scope.js';
import { ResourceAttr, SelfMetric } from './names.js';

export interface SelfValues {
  processesSeen: number;
  processesExported: number;
  processesRolledUp: number;
  datapointsExported: number;
  /** the hostmetrics scraper's default export of every process, and nrdot's enabled set for every process */
  datapointsBaseline: number;
  datapointsBaselineSameSet: number;
  droppedThreshold: number;
  droppedTopN: number;
  droppedMaxSeries: number;
  costBytes: number;
  costBaselineBytes: number;
  costBaselineBytesSameSet: number;
  costHourly: number;
  /** data points saved against each baseline, 0 to 1 */
  reductionRatio: number;
  reductionRatioSameSet: number;
  coverageCritical: number;
  /** anomalous processes exported / present */
  coverageAnomaly: number;
  /** share of the processes' CPU time and resident memory exported by name (not in `_other_`), 0 to 1 */
  visibility: { cpu: number; memory: number };
  /** cumulative promotions since agent start, by reason */
  anomaliesPromoted: { cpu: number; memory: number; new: number };
  /** processes held as anomalies this cycle */
  anomaliesActive: number;
  scanSeconds: number;
  cycleSeconds: number;
  /** cumulative since agent start */
  scanVanished: number;
  scanDenied: number;
  exportErrors: Record<string, number>;
  /** processes the memory governor rolled up this cycle */
  droppedMemory: number;
  memoryTier: number;
  /** the agent's memory as a fraction of memory.limit_mib (0 when no limit) */
  memoryUsage: number;
  /** data points per path this cycle */
  pathPoints: { critical: number; standard: number; sampled: number };
  samplingRate: number;
  /** cumulative processes left out by bounded discovery (config scan:), by reason */
  scanExcluded: Record<(typeof EXCLUDE_REASONS)[number], number>;
  /** one entry per queued (OTLP) exporter; the same exporters every cycle */
  exporters: {
    exporter: string;
    queueRecords: number;
    queueBytes: number;
    queueOldestAgeSec: number;
    breaker: number;
    retries: number;
    /** cumulative data points lost, by reason */
    dropped: Record<string, number>;
  }[];
}

/** Reasons reported for `nrdot.scan.excluded` (always all of them). */
export const EXCLUDE_REASONS = ['max_processes', 'name', 'cpu', 'rss', 'age'] as const;

/** Reasons reported for `nrdot.export.dropped` (always all of them, so the size is fixed). */
export const EXPORT_DROP_REASONS = ['rejected', 'partial', 'cap', 'disk_full', 'io_error', 'corrupt'] as const;

export function selfResource(
  v: SelfValues,
  hostname: string,
  profile: string,
  agentStartMs: number,
  nowMs: number,
): ResourceMetrics {
  const t = nanosFromMs(nowMs);
  const start = nanosFromMs(agentStartMs);
  const g = (name: string, unit: string, value: number, attributes?: KeyValue[]): Metric => ({
    name,
    unit,
    gauge: { dataPoints: [{ attributes, timeUnixNano: t, asDouble: value }] },
  });
  const c = (name: string, unit: string, points: { value: number; attributes?: KeyValue[] }[]): Metric => ({
    name,
    unit,
    sum: {
      aggregationTemporality: TEMPORALITY_CUMULATIVE,
      isMonotonic: true,
      dataPoints: points.map((p) => ({
        attributes: p.attributes,
        startTimeUnixNano: start,
        timeUnixNano: t,
        asDouble: p.value,
      })),
    },
  });
  const reason = (r: string) => [str('reason', r)];
  /** one point per baseline: hostmetrics (what users run today) and same_set (nrdot's enabled metrics) */
  const baselines = (name: string, unit: string, hostmetrics: number, sameSet: number): Metric => ({
    name,
    unit,
    gauge: {
      dataPoints: [
        { attributes: [str('baseline', 'hostmetrics')], timeUnixNano: t, asDouble: hostmetrics },
        { attributes: [str('baseline', 'same_set')], timeUnixNano: t, asDouble: sameSet },
      ],
    },
  });
  const metrics: Metric[] = [
    g(SelfMetric.processesSeen, '{processes}', v.processesSeen),
    g(SelfMetric.processesExported, '{processes}', v.processesExported),
    g(SelfMetric.processesRolledUp, '{processes}', v.processesRolledUp),
    g(SelfMetric.datapointsExported, '{datapoints}', v.datapointsExported),
    baselines(SelfMetric.datapointsBaseline, '{datapoints}', v.datapointsBaseline, v.datapointsBaselineSameSet),
    {
      name: SelfMetric.datapointsDropped,
      unit: '{datapoints}',
      gauge: {
        dataPoints: [
          { attributes: reason('threshold'), timeUnixNano: t, asDouble: v.droppedThreshold },
          { attributes: reason('top_n'), timeUnixNano: t, asDouble: v.droppedTopN },
          { attributes: reason('max_series'), timeUnixNano: t, asDouble: v.droppedMaxSeries },
          { attributes: reason('memory'), timeUnixNano: t, asDouble: v.droppedMemory },
        ],
      },
    },
    g(SelfMetric.seriesActive, '{series}', v.datapointsExported),
    g(SelfMetric.costBytes, 'By', v.costBytes),
    baselines(SelfMetric.costBaselineBytes, 'By', v.costBaselineBytes, v.costBaselineBytesSameSet),
    g(SelfMetric.costHourly, 'USD', v.costHourly),
    baselines(SelfMetric.reductionRatio, '1', v.reductionRatio, v.reductionRatioSameSet),
    g(SelfMetric.coverageCritical, '1', v.coverageCritical),
    g(SelfMetric.coverageAnomaly, '1', v.coverageAnomaly),
    {
      name: SelfMetric.coverageVisibility,
      unit: '1',
      gauge: {
        dataPoints: (['cpu', 'memory'] as const).map((r) => ({
          attributes: [str('resource', r)],
          timeUnixNano: t,
          asDouble: v.visibility[r],
        })),
      },
    },
    g(SelfMetric.anomaliesActive, '{processes}', v.anomaliesActive),
    c(
      SelfMetric.anomaliesPromoted,
      '{promotions}',
      (['cpu', 'memory', 'new'] as const).map((r) => ({ value: v.anomaliesPromoted[r], attributes: reason(r) })),
    ),
    g(SelfMetric.scanDuration, 's', v.scanSeconds),
    g(SelfMetric.cycleDuration, 's', v.cycleSeconds),
    c(SelfMetric.scanVanished, '{processes}', [{ value: v.scanVanished }]),
    c(SelfMetric.scanDenied, '{files}', [{ value: v.scanDenied }]),
    c(
      SelfMetric.scanExcluded,
      '{processes}',
      EXCLUDE_REASONS.map((r) => ({ value: v.scanExcluded[r], attributes: reason(r) })),
    ),
    c(
      SelfMetric.exportErrors,
      '{errors}',
      Object.entries(v.exportErrors).map(([exporter, value]) => ({ value, attributes: [str('exporter', exporter)] })),
    ),
    g(SelfMetric.profileActive, '1', 1, [str('profile', profile)]),
    g(SelfMetric.memoryTier, '1', v.memoryTier),
    g(SelfMetric.memoryUsage, '1', v.memoryUsage),
    g(SelfMetric.samplingRate, '1', v.samplingRate),
    {
      name: SelfMetric.pathDatapoints,
      unit: '{datapoints}',
      gauge: {
        dataPoints: (['critical', 'standard', 'sampled'] as const).map((p) => ({
          attributes: [str('path', p)],
          timeUnixNano: t,
          asDouble: v.pathPoints[p],
        })),
      },
    },
  ];
  if (v.exporters.length > 0) {
    const per = (name: string, unit: string, pick: (e: SelfValues['exporters'][number]) => number): Metric => ({
      name,
      unit,
      gauge: {
        dataPoints: v.exporters.map((e) => ({
          attributes: [str('exporter', e.exporter)],
          timeUnixNano: t,
          asDouble: pick(e),
        })),
      },
    });
    metrics.push(
      per(SelfMetric.queueSize, '{records}', (e) => e.queueRecords),
      per(SelfMetric.queueBytes, 'By', (e) => e.queueBytes),
      per(SelfMetric.queueOldestAge, 's', (e) => e.queueOldestAgeSec),
      per(SelfMetric.breakerState, '1', (e) => e.breaker),
      c(
        SelfMetric.exportRetries,
        '{retries}',
        v.exporters.map((e) => ({ value: e.retries, attributes: [str('exporter', e.exporter)] })),
      ),
      c(
        SelfMetric.exportDropped,
        '{datapoints}',
        v.exporters.flatMap((e) =>
          EXPORT_DROP_REASONS.map((r) => ({
            value: e.dropped[r] ?? 0,
            attributes: [str('exporter', e.exporter), str('reason', r)],
          })),
        ),
      ),
    );
  }
  return {
    resource: {
      attributes: [
        str(ResourceAttr.serviceName, 'nrdot'),
        str(ResourceAttr.hostName, hostname),
        str(ResourceAttr.profile, profile),
      ],
    },
    scopeMetrics: [{ scope: SCOPE, metrics }],
  };
}

/**
 * nrdot's own telemetry, exported beside the process data each cycle. Every
 * value is a double, so the encoded size does not depend on the values: the
 * engine can measure the size first and then report a cost that includes the
 * self-telemetry itself.
 */
import { SCOPE } from '../metrics/build.js';
import {
  type KeyValue,
  type Metric,
  nanosFromMs,
  type ResourceMetrics,
  str,
  TEMPORALITY_CUMULATIVE,
} from '../metrics/otlp.js';
import { ResourceAttr, SelfMetric } from './names.js';

export interface SelfValues {
  processesSeen: number;
  processesExported: number;
  processesRolledUp: number;
  datapointsExported: number;
  datapointsBaseline: number;
  droppedThreshold: number;
  droppedTopN: number;
  droppedMaxSeries: number;
  costBytes: number;
  costBaselineBytes: number;
  costHourly: number;
  reductionRatio: number;
  coverageCritical: number;
  /** anomalous processes exported / present */
  coverageAnomaly: number;
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
}

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
  const metrics: Metric[] = [
    g(SelfMetric.processesSeen, '{processes}', v.processesSeen),
    g(SelfMetric.processesExported, '{processes}', v.processesExported),
    g(SelfMetric.processesRolledUp, '{processes}', v.processesRolledUp),
    g(SelfMetric.datapointsExported, '{datapoints}', v.datapointsExported),
    g(SelfMetric.datapointsBaseline, '{datapoints}', v.datapointsBaseline),
    {
      name: SelfMetric.datapointsDropped,
      unit: '{datapoints}',
      gauge: {
        dataPoints: [
          { attributes: reason('threshold'), timeUnixNano: t, asDouble: v.droppedThreshold },
          { attributes: reason('top_n'), timeUnixNano: t, asDouble: v.droppedTopN },
          { attributes: reason('max_series'), timeUnixNano: t, asDouble: v.droppedMaxSeries },
        ],
      },
    },
    g(SelfMetric.seriesActive, '{series}', v.datapointsExported),
    g(SelfMetric.costBytes, 'By', v.costBytes),
    g(SelfMetric.costBaselineBytes, 'By', v.costBaselineBytes),
    g(SelfMetric.costHourly, 'USD', v.costHourly),
    g(SelfMetric.reductionRatio, '1', v.reductionRatio),
    g(SelfMetric.coverageCritical, '1', v.coverageCritical),
    g(SelfMetric.coverageAnomaly, '1', v.coverageAnomaly),
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
      SelfMetric.exportErrors,
      '{errors}',
      Object.entries(v.exportErrors).map(([exporter, value]) => ({ value, attributes: [str('exporter', exporter)] })),
    ),
    g(SelfMetric.profileActive, '1', 1, [str('profile', profile)]),
  ];
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

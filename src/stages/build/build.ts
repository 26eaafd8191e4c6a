/**
 * Turn process rows into OTLP resource metrics in the hostmetrics process
 * scraper's shape: one resource per process, cumulative sums whose start time
 * is the process start, gauges for instantaneous values.
 */

import type { RollupGroup } from '../../core/frame.js';
import {
  bool,
  dbl,
  int,
  type KeyValue,
  type Metric,
  type NumberDataPoint,
  nanosFromMs,
  nanosFromSec,
  type ResourceMetrics,
  str,
  TEMPORALITY_CUMULATIVE,
} from '../../otlp/model.js';
import type { ProcessBatch } from '../../sources/batch.js';
import { ProcessMetric, ResourceAttr, ROLLUP_NAME, TIERS } from '../../telemetry/names.js';
import { VERSION } from '../../util/version.js';
import { M, type ProcessMetricName } from './metrics.js';

export const SCOPE = { name: 'nrdot', version: VERSION };

export interface IdentityInfo {
  name: string;
  exe: string;
  cmdline: string;
  owner: string;
  tier: number;
}

const attrState = (s: string): KeyValue[] => [str('state', s)];
const attrDir = (s: string): KeyValue[] => [str('direction', s)];
const attrType = (s: string): KeyValue[] => [str('type', s)];

function sum(
  name: string,
  unit: string,
  description: string,
  monotonic: boolean,
  dataPoints: NumberDataPoint[],
): Metric {
  return {
    name,
    unit,
    description,
    sum: { dataPoints, aggregationTemporality: TEMPORALITY_CUMULATIVE, isMonotonic: monotonic },
  };
}

function gauge(name: string, unit: string, description: string, dataPoints: NumberDataPoint[]): Metric {
  return { name, unit, description, gauge: { dataPoints } };
}

const dp = (start: string | undefined, time: string, v: number, attributes?: KeyValue[]): NumberDataPoint =>
  start === undefined
    ? { attributes, timeUnixNano: time, asDouble: v }
    : { attributes, startTimeUnixNano: start, timeUnixNano: time, asDouble: v };
const ip = (start: string | undefined, time: string, v: number, attributes?: KeyValue[]): NumberDataPoint =>
  start === undefined
    ? { attributes, timeUnixNano: time, asInt: String(Math.trunc(v)) }
    : { attributes, startTimeUnixNano: start, timeUnixNano: time, asInt: String(Math.trunc(v)) };

export function rollupResource(
  g: RollupGroup,
  host: ProcessBatch['host'],
  profile: string,
  timeNs: string,
  /** the metrics exported for every process */
  mask: number,
  /** every member's io, fds and context switches were read (scan.detail: all) */
  withDetail = true,
): ResourceMetrics {
  const start = nanosFromMs(g.startMs);
  const c = g.cumulative;
  const attributes = [
    str(ResourceAttr.executableName, ROLLUP_NAME),
    str(ResourceAttr.hostName, host.hostname),
    str(ResourceAttr.tier, TIERS[g.tier]!),
    str(ResourceAttr.profile, profile),
    bool(ResourceAttr.rollup, true),
  ];
  const metrics: Metric[] = [
    sum(ProcessMetric.cpuTime, 's', 'CPU seconds used by rolled-up processes since start time.', true, [
      dp(start, timeNs, c[0]!, attrState('user')),
      dp(start, timeNs, c[1]!, attrState('system')),
      dp(start, timeNs, c[2]!, attrState('wait')),
    ]),
    gauge(ProcessMetric.cpuUtilization, '1', 'Fraction of all cores used by rolled-up processes.', [
      dp(undefined, timeNs, g.cpuCores / host.cpuCount),
    ]),
    sum(ProcessMetric.memoryUsage, 'By', 'Physical memory of rolled-up processes.', false, [
      ip(start, timeNs, g.rssBytes),
    ]),
    sum(ProcessMetric.memoryVirtual, 'By', 'Virtual memory of rolled-up processes.', false, [
      ip(start, timeNs, g.vsizeBytes),
    ]),
    sum(ProcessMetric.diskIo, 'By', 'Disk bytes transferred by rolled-up processes since start time.', true, [
      ip(start, timeNs, c[3]!, attrDir('read')),
      ip(start, timeNs, c[4]!, attrDir('write')),
    ]),
    sum(ProcessMetric.threads, '{threads}', 'Threads of rolled-up processes.', false, [ip(start, timeNs, g.threads)]),
    sum(ProcessMetric.openFds, '{count}', 'File descriptors of rolled-up processes (where readable).', false, [
      ip(start, timeNs, g.fds),
    ]),
    sum(ProcessMetric.pagingFaults, '{faults}', 'Page faults of rolled-up processes since start time.', true, [
      ip(start, timeNs, c[6]!, attrType('major')),
      ip(start, timeNs, c[5]!, attrType('minor')),
    ]),
    sum(ProcessMetric.contextSwitches, '{count}', 'Context switches of rolled-up processes since start time.', true, [
      ip(start, timeNs, c[7]!, attrType('voluntary')),
      ip(start, timeNs, c[8]!, attrType('involuntary')),
    ]),
    gauge('nrdot.rollup.count', '{processes}', 'Processes in this roll-up.', [dp(undefined, timeNs, g.count)]),
  ];
  // Without a full read of every member these sums would be partial; leave
  // them out rather than send a total that is silently too small.
  const DETAIL_ONLY: readonly string[] = [ProcessMetric.diskIo, ProcessMetric.openFds, ProcessMetric.contextSwitches];
  const out = metrics.filter(
    (m) =>
      (m.name === 'nrdot.rollup.count' || (mask & (M[m.name as ProcessMetricName] ?? 0)) !== 0) &&
      (withDetail || !DETAIL_ONLY.includes(m.name)),
  );
  return { resource: { attributes }, scopeMetrics: [{ scope: SCOPE, metrics: out }] };
}

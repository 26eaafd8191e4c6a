/**
 * Turn process rows into OTLP resource metrics in the hostmetrics process
 * scraper's shape: one resource per process, cumulative sums whose start time
 * is the process start, gauges for instantaneous values.
 */

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
import { type ProcessBatch, startEpochSec, UNKNOWN } from '../../sources/batch.js';
import { ProcessMetric, ResourceAttr, ROLLUP_NAME, TIERS } from '../../telemetry/names.js';
import { VERSION } from '../../util/version.js';

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

/** Data points a process row produces (unknown values produce none). */
export function pointsForRow(b: ProcessBatch, i: number): number {
  let n = 3 + 1 + 1 + 1 + 1 + 2 + 1; // cpu.time x3, utilization, memory x2, threads, faults x2, uptime
  if (b.readBytes[i]! !== UNKNOWN && b.writeBytes[i]! !== UNKNOWN) n += 2;
  if (b.fds[i]! !== UNKNOWN) n += 1;
  if (b.volCtx[i]! !== UNKNOWN && b.involCtx[i]! !== UNKNOWN) n += 2;
  return n;
}

/** The metric set of one process row. */
export function processMetrics(b: ProcessBatch, i: number, cpuCores: number, timeNs: string): Metric[] {
  const startSec = startEpochSec(b, i);
  const start = nanosFromSec(startSec);
  const m: Metric[] = [
    sum(ProcessMetric.cpuTime, 's', 'Total CPU seconds broken down by different states.', true, [
      dp(start, timeNs, b.utimeSec[i]!, attrState('user')),
      dp(start, timeNs, b.stimeSec[i]!, attrState('system')),
      dp(start, timeNs, b.iowaitSec[i]!, attrState('wait')),
    ]),
    gauge(ProcessMetric.cpuUtilization, '1', 'Fraction of all cores used by the process since the last scrape.', [
      dp(undefined, timeNs, cpuCores / b.host.cpuCount),
    ]),
    sum(ProcessMetric.memoryUsage, 'By', 'The amount of physical memory in use.', false, [
      ip(start, timeNs, b.rssBytes[i]!),
    ]),
    sum(ProcessMetric.memoryVirtual, 'By', 'Virtual memory size.', false, [ip(start, timeNs, b.vsizeBytes[i]!)]),
  ];
  if (b.readBytes[i]! !== UNKNOWN && b.writeBytes[i]! !== UNKNOWN) {
    m.push(
      sum(ProcessMetric.diskIo, 'By', 'Disk bytes transferred.', true, [
        ip(start, timeNs, b.readBytes[i]!, attrDir('read')),
        ip(start, timeNs, b.writeBytes[i]!, attrDir('write')),
      ]),
    );
  }
  m.push(sum(ProcessMetric.threads, '{threads}', 'Process threads count.', false, [ip(start, timeNs, b.threads[i]!)]));
  if (b.fds[i]! !== UNKNOWN) {
    m.push(
      sum(ProcessMetric.openFds, '{count}', 'Number of file descriptors in use by the process.', false, [
        ip(start, timeNs, b.fds[i]!),
      ]),
    );
  }
  m.push(
    sum(ProcessMetric.pagingFaults, '{faults}', 'Number of page faults the process has made.', true, [
      ip(start, timeNs, b.majFaults[i]!, attrType('major')),
      ip(start, timeNs, b.minFaults[i]!, attrType('minor')),
    ]),
  );
  if (b.volCtx[i]! !== UNKNOWN && b.involCtx[i]! !== UNKNOWN) {
    m.push(
      sum(ProcessMetric.contextSwitches, '{count}', 'Number of times the process has been context switched.', true, [
        ip(start, timeNs, b.volCtx[i]!, attrType('voluntary')),
        ip(start, timeNs, b.involCtx[i]!, attrType('involuntary')),
      ]),
    );
  }
  m.push(
    gauge(ProcessMetric.uptime, 's', 'The time the process has been running.', [
      dp(undefined, timeNs, Math.max(0, b.host.uptimeSec - b.startTicks[i]! / b.host.clkTck)),
    ]),
  );
  return m;
}

/** Resource attributes of a process, as hostmetrics sets them. */
export function processAttributes(b: ProcessBatch, i: number, id: IdentityInfo): KeyValue[] {
  const a: KeyValue[] = [
    int(ResourceAttr.pid, b.pid[i]!),
    int(ResourceAttr.parentPid, b.ppid[i]!),
    str(ResourceAttr.executableName, id.name),
  ];
  if (id.exe) a.push(str(ResourceAttr.executablePath, id.exe));
  if (id.cmdline) a.push(str(ResourceAttr.commandLine, id.cmdline));
  if (id.owner) a.push(str(ResourceAttr.owner, id.owner));
  a.push(str(ResourceAttr.hostName, b.host.hostname));
  return a;
}

export interface NrdotAttrs {
  tier: number;
  importance: number;
  profile: string;
  /** why anomaly scoring promoted the process (cpu, memory, new); absent when it did not */
  anomaly?: string;
  /** sampled path: the probability this process was sampled with (a backend scales by 1/rate) */
  sampleRate?: number;
}

export function processResource(
  b: ProcessBatch,
  i: number,
  id: IdentityInfo,
  cpuCores: number,
  timeNs: string,
  nrdot?: NrdotAttrs,
): ResourceMetrics {
  const attributes = processAttributes(b, i, id);
  if (nrdot) {
    attributes.push(
      str(ResourceAttr.tier, TIERS[nrdot.tier]!),
      dbl(ResourceAttr.importance, nrdot.importance),
      str(ResourceAttr.profile, nrdot.profile),
    );
    if (nrdot.anomaly) attributes.push(str(ResourceAttr.anomaly, nrdot.anomaly));
    if (nrdot.sampleRate !== undefined) attributes.push(dbl(ResourceAttr.sampleRate, nrdot.sampleRate));
  }
  return {
    resource: { attributes },
    scopeMetrics: [{ scope: SCOPE, metrics: processMetrics(b, i, cpuCores, timeNs) }],
  };
}

/** The aggregate of the processes of one tier that the profile dropped. */
export interface RollupGroup {
  tier: number;
  count: number;
  cpuCores: number;
  rssBytes: number;
  vsizeBytes: number;
  threads: number;
  fds: number;
  /** cumulative sums since `startMs`, in COUNTERS order */
  cumulative: Float64Array;
}

export function rollupResource(
  g: RollupGroup,
  host: ProcessBatch['host'],
  profile: string,
  startMs: number,
  timeNs: string,
  /** every member's io, fds and context switches were read (scan.detail: all) */
  withDetail = true,
): ResourceMetrics {
  const start = nanosFromMs(startMs);
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
  const out = withDetail ? metrics : metrics.filter((m) => !DETAIL_ONLY.includes(m.name));
  return { resource: { attributes }, scopeMetrics: [{ scope: SCOPE, metrics: out }] };
}

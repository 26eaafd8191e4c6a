/**
 * A group's aggregate as one OTLP resource: `nrdot.group`, `nrdot.rollup`,
 * the semantic-convention attributes the group can fill (k8s.pod.uid,
 * container.id, service.name, process.executable.name), the enabled metrics
 * summed over the members whose value is known, `nrdot.rollup.count` (the
 * members), and `nrdot.rollup.contributors{metric}` for a metric some
 * members could not give. Cumulative sums start when the group's series
 * began, never after the point time. A sum that a double cannot hold
 * exactly (beyond 2^53) is left out rather than rounded.
 */

import type { RollupGroup } from '../../core/frame.js';
import {
  bool,
  type KeyValue,
  type Metric,
  type NumberDataPoint,
  nanosFromMs,
  type ResourceMetrics,
  str,
} from '../../otlp/model.js';
import type { HostInfo } from '../../sources/batch.js';
import { ProcessMetric, ResourceAttr } from '../../telemetry/names.js';
import { M } from './metrics.js';
import { a, dp, gauge, sum } from './points.js';
import { SCOPE } from './scope.js';

/** an integer point; asInt '' when the sum is not exact in a double (beyond 2^53): its metric is left out */
const ip = (start: string, time: string, v: number, attributes?: KeyValue[]): NumberDataPoint => {
  const t = Math.trunc(v);
  return { attributes, startTimeUnixNano: start, timeUnixNano: time, asInt: Number.isSafeInteger(t) ? String(t) : '' };
};
const exact = (m: Metric): boolean =>
  (m.sum ?? m.gauge)!.dataPoints.every(
    (p) => p.asInt !== '' && (p.asDouble === undefined || Number.isFinite(p.asDouble)),
  );

export function groupResource(
  g: RollupGroup,
  host: HostInfo,
  profile: string,
  timeMs: number,
  /** the metrics exported for every process */
  mask: number,
  /** io, fds and context switches were read for every member (scan.detail: all, or received data) */
  withDetail: boolean,
  /** the exact time of received data (decimal nanoseconds), when it has one */
  timeUnixNano?: string,
): ResourceMetrics {
  const timeNs = timeUnixNano ?? nanosFromMs(timeMs);
  let start = nanosFromMs(Math.min(g.startMs, timeMs));
  // a start after the time would make an invalid cumulative point
  if (timeUnixNano !== undefined && BigInt(start) > BigInt(timeUnixNano)) start = timeUnixNano;
  const c = g.cumulative;
  const k = g.known;
  const attributes: KeyValue[] = [str('nrdot.group', g.name)];
  for (const [key, value] of g.attrs) attributes.push(str(key, value));
  attributes.push(
    str(ResourceAttr.hostName, host.hostname),
    str(ResourceAttr.profile, profile),
    bool(ResourceAttr.rollup, true),
  );
  const metrics: Metric[] = [];
  const partial: [string, number][] = [];
  /** a metric summed over `known` members: left out when none could give it */
  const add = (bit: number, known: number, metric: () => Metric, name: string, detail = false) => {
    if (!(mask & bit) || known === 0 || (detail && !withDetail)) return;
    const m = metric();
    if (!exact(m)) return;
    metrics.push(m);
    if (known < g.count) partial.push([name, known]);
  };
  add(
    M['process.cpu.time'],
    k.cpuTime,
    () =>
      sum(ProcessMetric.cpuTime, 's', 'CPU seconds used by the rolled-up processes since start time.', true, [
        dp(start, timeNs, c[0]!, a('state', 'user')),
        dp(start, timeNs, c[1]!, a('state', 'system')),
        dp(start, timeNs, c[2]!, a('state', 'wait')),
      ]),
    ProcessMetric.cpuTime,
  );
  add(
    M['process.cpu.utilization'],
    k.utilization,
    () =>
      gauge(ProcessMetric.cpuUtilization, '1', 'Fraction of all cores used by the rolled-up processes.', [
        dp(undefined, timeNs, g.utilization[0]! / host.cpuCount, a('state', 'user')),
        dp(undefined, timeNs, g.utilization[1]! / host.cpuCount, a('state', 'system')),
        dp(undefined, timeNs, g.utilization[2]! / host.cpuCount, a('state', 'wait')),
      ]),
    ProcessMetric.cpuUtilization,
  );
  add(
    M['process.memory.usage'],
    k.memoryUsage,
    () =>
      sum(ProcessMetric.memoryUsage, 'By', 'Physical memory of the rolled-up processes.', false, [
        ip(start, timeNs, g.rssBytes),
      ]),
    ProcessMetric.memoryUsage,
  );
  add(
    M['process.memory.virtual'],
    k.memoryVirtual,
    () =>
      sum(ProcessMetric.memoryVirtual, 'By', 'Virtual memory of the rolled-up processes.', false, [
        ip(start, timeNs, g.vsizeBytes),
      ]),
    ProcessMetric.memoryVirtual,
  );
  add(
    M['process.memory.utilization'],
    host.memTotalBytes > 0 ? k.memoryUsage : 0,
    () =>
      gauge(ProcessMetric.memoryUtilization, '1', 'Fraction of physical memory used by the rolled-up processes.', [
        dp(undefined, timeNs, g.rssBytes / host.memTotalBytes),
      ]),
    ProcessMetric.memoryUtilization,
  );
  add(
    M['process.disk.io'],
    k.diskIo,
    () =>
      sum(ProcessMetric.diskIo, 'By', 'Disk bytes transferred by the rolled-up processes since start time.', true, [
        ip(start, timeNs, c[3]!, a('direction', 'read')),
        ip(start, timeNs, c[4]!, a('direction', 'write')),
      ]),
    ProcessMetric.diskIo,
    true,
  );
  add(
    M['process.threads'],
    k.threads,
    () =>
      sum(ProcessMetric.threads, '{threads}', 'Threads of the rolled-up processes.', false, [
        ip(start, timeNs, g.threads),
      ]),
    ProcessMetric.threads,
  );
  add(
    M['process.open_file_descriptors'],
    k.fds,
    () =>
      sum(ProcessMetric.openFds, '{count}', 'File descriptors of the rolled-up processes.', false, [
        ip(start, timeNs, g.fds),
      ]),
    ProcessMetric.openFds,
    true,
  );
  add(
    M['process.paging.faults'],
    k.faults,
    () =>
      sum(ProcessMetric.pagingFaults, '{faults}', 'Page faults of the rolled-up processes since start time.', true, [
        ip(start, timeNs, c[6]!, a('type', 'major')),
        ip(start, timeNs, c[5]!, a('type', 'minor')),
      ]),
    ProcessMetric.pagingFaults,
  );
  add(
    M['process.context_switches'],
    k.switches,
    () =>
      sum(
        ProcessMetric.contextSwitches,
        '{count}',
        'Context switches of the rolled-up processes since start time.',
        true,
        [ip(start, timeNs, c[7]!, a('type', 'voluntary')), ip(start, timeNs, c[8]!, a('type', 'involuntary'))],
      ),
    ProcessMetric.contextSwitches,
    true,
  );
  metrics.push(
    gauge('nrdot.rollup.count', '{processes}', 'Processes in this roll-up.', [dp(undefined, timeNs, g.count)]),
  );
  if (partial.length > 0) {
    metrics.push(
      gauge(
        'nrdot.rollup.contributors',
        '{processes}',
        'Members whose value of the metric is known and summed (the others could not give it).',
        partial.map(([name, known]) => dp(undefined, timeNs, known, a('metric', name))),
      ),
    );
  }
  return { resource: { attributes }, scopeMetrics: [{ scope: SCOPE, metrics }] };
}

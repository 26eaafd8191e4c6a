/**
 * A process row as the OTLP/JSON model, the reference the column writer
 * (writer.ts) is checked against byte for byte: the same metrics, in the same
 * order, with the same presence rules. The pipeline itself writes protobuf
 * straight from the columns; this is for tests and the encode benchmark.
 */
import {
  dbl,
  int,
  type KeyValue,
  type Metric,
  type NumberDataPoint,
  nanosFromSec,
  type ResourceMetrics,
  str,
} from '../../otlp/model.js';
import { type ProcessBatch, startEpochSec } from '../../sources/batch.js';
import { ProcessMetric, ResourceAttr, TIERS } from '../../telemetry/names.js';
import { DESCRIPTIONS as D, M } from './metrics.js';
import { a, dp, gauge, sum } from './points.js';
import { SCOPE } from './scope.js';
import {
  type CpuState,
  K_FAULTS,
  K_FDS,
  K_IO,
  K_MEMUTIL,
  K_RSS,
  K_SWITCHES,
  K_THREADS,
  K_UTIL,
  K_VSIZE,
  knownValues,
  type RowStrings,
  type RowTags,
} from './writer.js';

const ip = (start: string, time: string, v: number, attributes?: KeyValue[]): NumberDataPoint => ({
  attributes,
  startTimeUnixNano: start,
  timeUnixNano: time,
  asInt: String(Math.trunc(v)),
});

export function processMetrics(b: ProcessBatch, i: number, cpuState: CpuState, timeNs: string, mask: number): Metric[] {
  // the same presence rules as the writer: one place says which values are known
  const k = knownValues(b, i, cpuState);
  const start = nanosFromSec(startEpochSec(b, i));
  const cpus = b.host.cpuCount;
  const m: Metric[] = [];
  if (mask & M['process.cpu.time']) {
    m.push(
      sum(ProcessMetric.cpuTime, 's', D.cpuTime, true, [
        dp(start, timeNs, b.utimeSec[i]!, a('state', 'user')),
        dp(start, timeNs, b.stimeSec[i]!, a('state', 'system')),
        dp(start, timeNs, b.iowaitSec[i]!, a('state', 'wait')),
      ]),
    );
  }
  if (mask & M['process.cpu.utilization'] && k & K_UTIL) {
    m.push(
      gauge(ProcessMetric.cpuUtilization, '1', D.cpuUtilization, [
        dp(undefined, timeNs, cpuState![i * 3]! / cpus, a('state', 'user')),
        dp(undefined, timeNs, cpuState![i * 3 + 1]! / cpus, a('state', 'system')),
        dp(undefined, timeNs, cpuState![i * 3 + 2]! / cpus, a('state', 'wait')),
      ]),
    );
  }
  if (mask & M['process.memory.usage'] && k & K_RSS) {
    m.push(sum(ProcessMetric.memoryUsage, 'By', D.memoryUsage, false, [ip(start, timeNs, b.rssBytes[i]!)]));
  }
  if (mask & M['process.memory.virtual'] && k & K_VSIZE) {
    m.push(sum(ProcessMetric.memoryVirtual, 'By', D.memoryVirtual, false, [ip(start, timeNs, b.vsizeBytes[i]!)]));
  }
  if (mask & M['process.memory.utilization'] && k & K_MEMUTIL) {
    m.push(
      gauge(ProcessMetric.memoryUtilization, '1', D.memoryUtilization, [
        dp(undefined, timeNs, b.rssBytes[i]! / b.host.memTotalBytes),
      ]),
    );
  }
  if (mask & M['process.disk.io'] && k & K_IO) {
    m.push(
      sum(ProcessMetric.diskIo, 'By', D.diskIo, true, [
        ip(start, timeNs, b.readBytes[i]!, a('direction', 'read')),
        ip(start, timeNs, b.writeBytes[i]!, a('direction', 'write')),
      ]),
    );
  }
  if (mask & M['process.threads'] && k & K_THREADS) {
    m.push(sum(ProcessMetric.threads, '{threads}', D.threads, false, [ip(start, timeNs, b.threads[i]!)]));
  }
  if (mask & M['process.open_file_descriptors'] && k & K_FDS) {
    m.push(sum(ProcessMetric.openFds, '{count}', D.openFds, false, [ip(start, timeNs, b.fds[i]!)]));
  }
  if (mask & M['process.paging.faults'] && k & K_FAULTS) {
    m.push(
      sum(ProcessMetric.pagingFaults, '{faults}', D.pagingFaults, true, [
        ip(start, timeNs, b.majFaults[i]!, a('type', 'major')),
        ip(start, timeNs, b.minFaults[i]!, a('type', 'minor')),
      ]),
    );
  }
  if (mask & M['process.context_switches'] && k & K_SWITCHES) {
    m.push(
      sum(ProcessMetric.contextSwitches, '{count}', D.contextSwitches, true, [
        ip(start, timeNs, b.volCtx[i]!, a('type', 'voluntary')),
        ip(start, timeNs, b.involCtx[i]!, a('type', 'involuntary')),
      ]),
    );
  }
  if (mask & M['process.uptime']) {
    m.push(
      gauge(ProcessMetric.uptime, 's', D.uptime, [
        dp(undefined, timeNs, Math.max(0, b.host.uptimeSec - b.startTicks[i]! / b.host.clkTck)),
      ]),
    );
  }
  return m;
}

export function processResource(
  b: ProcessBatch,
  i: number,
  id: RowStrings,
  cpuState: CpuState,
  timeNs: string,
  mask: number,
  tags?: RowTags,
): ResourceMetrics {
  const attributes: KeyValue[] = [
    int(ResourceAttr.pid, b.pid[i]!),
    int(ResourceAttr.parentPid, b.ppid[i]!),
    str(ResourceAttr.executableName, id.name),
  ];
  if (id.exe) attributes.push(str(ResourceAttr.executablePath, id.exe));
  if (id.cmdline) attributes.push(str(ResourceAttr.commandLine, id.cmdline));
  if (id.owner) attributes.push(str(ResourceAttr.owner, id.owner));
  attributes.push(str(ResourceAttr.hostName, b.host.hostname));
  if (tags) {
    attributes.push(
      str(ResourceAttr.tier, TIERS[tags.tier]!),
      dbl(ResourceAttr.importance, tags.importance),
      str(ResourceAttr.profile, tags.profile),
    );
    if (tags.anomaly) attributes.push(str(ResourceAttr.anomaly, tags.anomaly));
    if (tags.sampleRate !== undefined) attributes.push(dbl(ResourceAttr.sampleRate, tags.sampleRate));
  }
  return {
    resource: { attributes },
    scopeMetrics: [{ scope: SCOPE, metrics: processMetrics(b, i, cpuState, timeNs, mask) }],
  };
}
